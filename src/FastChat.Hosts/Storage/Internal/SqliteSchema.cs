using System.Globalization;

namespace FastChat.Hosts.Storage.Internal;

/// <summary>The SQLite schema as an ordered list of migrations, applied by <see cref="Migrate"/>.</summary>
/// <remarks>
/// Migration <c>n</c> (1-based) takes a database at version <c>n - 1</c> to version <c>n</c>; <c>schema_version</c>
/// records each one applied. Append new migrations; never edit a released one.
/// </remarks>
internal static class SqliteSchema
{
    private static readonly string[] s_migrations =
    [
        // 1: the initial schema. Times are UTC ticks. Names use SQLite's default BINARY collation, which orders them
        // ordinally, as IChatStore requires.
        """
        CREATE TABLE accounts (
            user_name TEXT NOT NULL PRIMARY KEY,
            kdf_algorithm TEXT NOT NULL,
            kdf_salt BLOB NOT NULL,
            kdf_iterations INTEGER NOT NULL,
            server_salt BLOB NOT NULL,
            auth_key_hash BLOB NOT NULL,
            agreement_public_key BLOB NOT NULL,
            signing_public_key BLOB NOT NULL,
            wrapped_private_keys BLOB NOT NULL,
            created_at INTEGER NOT NULL);

        CREATE TABLE groups (
            name TEXT NOT NULL PRIMARY KEY,
            admin TEXT NOT NULL,
            member_limit INTEGER NOT NULL,
            key_epoch INTEGER NOT NULL);

        -- joined numbers members in the order they joined, per group: the admin hand-over picks the smallest.
        CREATE TABLE group_members (
            group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
            member TEXT NOT NULL,
            joined INTEGER NOT NULL,
            PRIMARY KEY (group_name, member),
            UNIQUE (group_name, joined));
        CREATE INDEX group_members_by_member ON group_members (member, group_name);

        CREATE TABLE group_key_envelopes (
            group_name TEXT NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
            member TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            sender TEXT NOT NULL,
            envelope BLOB NOT NULL,
            PRIMARY KEY (group_name, member, epoch));
        CREATE INDEX group_key_envelopes_by_member ON group_key_envelopes (member, group_name, epoch);

        -- AUTOINCREMENT so a sequence number is never reused after the newest item is deleted: a recipient draining
        -- "after sequence n" must never miss an item that took a number it has already passed.
        CREATE TABLE pending (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            recipient TEXT NOT NULL,
            id BLOB NOT NULL,
            kind INTEGER NOT NULL,
            part INTEGER NOT NULL,
            payload BLOB NOT NULL,
            enqueued_at INTEGER NOT NULL);
        CREATE UNIQUE INDEX pending_identity ON pending (recipient, id, kind, part);
        CREATE INDEX pending_by_recipient ON pending (recipient, sequence);

        CREATE TABLE presence (
            user_name TEXT NOT NULL PRIMARY KEY,
            server_id TEXT NOT NULL,
            updated_at INTEGER NOT NULL);
        CREATE INDEX presence_by_server ON presence (server_id);

        CREATE TABLE servers (
            server_id TEXT NOT NULL PRIMARY KEY,
            host TEXT NOT NULL,
            port INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);
        """,
    ];

    /// <summary>The schema version this code creates and understands.</summary>
    public static int CurrentVersion => s_migrations.Length;

    /// <summary>Brings the database to <see cref="CurrentVersion"/> in one write transaction, so concurrent starts (other stores, other processes) queue behind each other and each migration runs once.</summary>
    /// <exception cref="ChatStoreException">The database has a newer schema than this code knows.</exception>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">The database failed.</exception>
    public static void Migrate(SqliteSession session, string database)
    {
        session.Begin();
        try
        {
            session.ExecuteScript("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL);");
            long version = session.ExecuteInt64("SELECT MAX(version) FROM schema_version;");
            if (version > CurrentVersion)
            {
                throw StoreErrors.SchemaTooNew("SQLite", database, version, CurrentVersion);
            }

            for (long next = version + 1; next <= CurrentVersion; next++)
            {
                session.ExecuteScript(s_migrations[next - 1]);
                session.ExecuteScript(string.Create(
                    CultureInfo.InvariantCulture,
                    $"INSERT INTO schema_version (version, applied_at) VALUES ({next}, {DateTime.UtcNow.Ticks});"));
            }

            session.Commit();
        }
        catch
        {
            session.RollbackIfActive();
            throw;
        }
    }
}
