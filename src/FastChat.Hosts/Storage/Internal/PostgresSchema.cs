using Npgsql;

namespace FastChat.Hosts.Storage.Internal;

/// <summary>The PostgreSQL schema as an ordered list of migrations, applied by <see cref="MigrateAsync"/>.</summary>
/// <remarks>
/// Migration <c>n</c> (1-based) takes a database at version <c>n - 1</c> to version <c>n</c>; <c>schema_version</c>
/// records each one applied. Append new migrations; never edit a released one.
/// </remarks>
internal static class PostgresSchema
{
    // The transaction-scoped advisory lock every starting process takes before it looks at the schema, so that
    // concurrent starts migrate one after the other. The key is "FastChat" in ASCII (0x4661737443686174); advisory
    // locks are per database, so stores on other databases of the same server do not wait for each other.
    private const string TakeMigrationLock = "SELECT pg_advisory_xact_lock(5071461598580203892)";

    private static readonly string[] s_migrations =
    [
        // 1: the initial schema. Names are COLLATE "C" so that they compare and sort ordinally, as IChatStore requires,
        // whatever the database's default collation.
        """
        CREATE TABLE accounts (
            user_name text COLLATE "C" PRIMARY KEY,
            kdf_algorithm text NOT NULL,
            kdf_salt bytea NOT NULL,
            kdf_iterations integer NOT NULL,
            server_salt bytea NOT NULL,
            auth_key_hash bytea NOT NULL,
            agreement_public_key bytea NOT NULL,
            signing_public_key bytea NOT NULL,
            wrapped_private_keys bytea NOT NULL,
            created_at timestamptz NOT NULL);

        CREATE TABLE groups (
            name text COLLATE "C" PRIMARY KEY,
            admin text COLLATE "C" NOT NULL,
            member_limit integer NOT NULL,
            key_epoch integer NOT NULL);

        -- joined orders members by when they joined: the admin hand-over picks the smallest.
        CREATE TABLE group_members (
            group_name text COLLATE "C" NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
            member text COLLATE "C" NOT NULL,
            joined bigint GENERATED ALWAYS AS IDENTITY,
            PRIMARY KEY (group_name, member));
        CREATE INDEX group_members_by_member ON group_members (member, group_name);
        CREATE INDEX group_members_by_join ON group_members (group_name, joined);

        CREATE TABLE group_key_envelopes (
            group_name text COLLATE "C" NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
            member text COLLATE "C" NOT NULL,
            epoch integer NOT NULL,
            sender text COLLATE "C" NOT NULL,
            envelope bytea NOT NULL,
            PRIMARY KEY (group_name, member, epoch));
        CREATE INDEX group_key_envelopes_by_member ON group_key_envelopes (member, group_name, epoch);

        -- A sequence never hands out a number twice, so a recipient draining "after sequence n" never misses an item
        -- that reused a number it had passed.
        CREATE TABLE pending (
            sequence bigserial PRIMARY KEY,
            recipient text COLLATE "C" NOT NULL,
            id bytea NOT NULL,
            kind smallint NOT NULL,
            part integer NOT NULL,
            payload bytea NOT NULL,
            enqueued_at timestamptz NOT NULL,
            CONSTRAINT pending_identity UNIQUE (recipient, id, kind, part));
        CREATE INDEX pending_by_recipient ON pending (recipient, sequence);
        -- Payloads are end-to-end encrypted and do not compress: keep large ones out of line without trying.
        ALTER TABLE pending ALTER COLUMN payload SET STORAGE EXTERNAL;

        CREATE TABLE presence (
            user_name text COLLATE "C" PRIMARY KEY,
            server_id text COLLATE "C" NOT NULL,
            updated_at timestamptz NOT NULL);
        CREATE INDEX presence_by_server ON presence (server_id);

        CREATE TABLE servers (
            server_id text COLLATE "C" PRIMARY KEY,
            host text NOT NULL,
            port integer NOT NULL,
            updated_at timestamptz NOT NULL);
        """,
    ];

    /// <summary>The schema version this code creates and understands.</summary>
    public static int CurrentVersion => s_migrations.Length;

    /// <summary>Brings the database to <see cref="CurrentVersion"/> in one transaction under an advisory lock.</summary>
    /// <exception cref="ChatStoreException">The database has a newer schema than this code knows.</exception>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, string database, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, TakeMigrationLock, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(
                    connection,
                    "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                    cancellationToken).ConfigureAwait(false);

                long version;
                NpgsqlCommand read = new("SELECT COALESCE(MAX(version), 0) FROM schema_version", connection);
                await using (read.ConfigureAwait(false))
                {
                    version = Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
                }

                if (version > CurrentVersion)
                {
                    throw StoreErrors.SchemaTooNew("PostgreSQL", database, version, CurrentVersion);
                }

                for (long next = version + 1; next <= CurrentVersion; next++)
                {
                    await ExecuteAsync(connection, s_migrations[next - 1], cancellationToken).ConfigureAwait(false);
                    NpgsqlCommand record = new("INSERT INTO schema_version (version) VALUES ($1)", connection);
                    await using (record.ConfigureAwait(false))
                    {
                        record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)next });
                        await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        NpgsqlCommand command = new(sql, connection);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
