using System.Globalization;
using System.Runtime.CompilerServices;
using FastChat.Hosts.Storage.Internal;
using FastChat.Protocol.Messages;
using Npgsql;

namespace FastChat.Hosts.Storage;

/// <summary>
/// The shared <see cref="IChatStore"/> for a cluster of separate processes and machines: a PostgreSQL database
/// (Npgsql), whose schema <see cref="InitializeAsync"/> creates and migrates.
/// </summary>
/// <remarks>
/// <para>Connections come from one <see cref="NpgsqlDataSource"/> per store; statements are prepared automatically on
/// each physical connection once they are reused (<c>Max Auto Prepare</c> is set to 64 unless the connection string
/// sets it). Membership changes lock the group's row (<c>SELECT ... FOR UPDATE</c>), so concurrent adds cannot pass
/// the member limit. Times are kept to the microsecond.</para>
/// <para>Pending items take their sequence numbers when they are inserted, from one sequence. Concurrent transactions
/// may commit in another order than they took their numbers, so a reader that pages with <c>afterSequence</c> while
/// items arrive may step past one that commits late; a new drain that starts from 0 finds it.</para>
/// </remarks>
public sealed class PostgresChatStore : IChatStore
{
    private const string Provider = "PostgreSQL";

    // A batch is sent as statements of at most this many items and payload bytes (one transaction in all), so a large
    // file fanned out to many recipients never becomes one huge protocol message.
    private const int MaxItemsPerStatement = 1000;
    private const long MaxPayloadBytesPerStatement = 16L * 1024 * 1024;

    private const string InsertAccountSql =
        "INSERT INTO accounts (user_name, kdf_algorithm, kdf_salt, kdf_iterations, server_salt, auth_key_hash, "
        + "agreement_public_key, signing_public_key, wrapped_private_keys, created_at) "
        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (user_name) DO NOTHING";

    private const string SelectAccountSql =
        "SELECT kdf_algorithm, kdf_salt, kdf_iterations, server_salt, auth_key_hash, agreement_public_key, "
        + "signing_public_key, wrapped_private_keys, created_at FROM accounts WHERE user_name = $1";

    // One statement: the group and its first member are inserted together or not at all.
    private const string InsertGroupSql =
        "WITH created AS (INSERT INTO groups (name, admin, member_limit, key_epoch) VALUES ($1, $2, $3, 0) "
        + "ON CONFLICT (name) DO NOTHING RETURNING name) "
        + "INSERT INTO group_members (group_name, member) SELECT name, $2 FROM created";

    private const string SelectGroupSql =
        "SELECT g.admin, g.member_limit, g.key_epoch, m.member FROM groups AS g "
        + "JOIN group_members AS m ON m.group_name = g.name WHERE g.name = $1 ORDER BY m.joined";

    private const string SelectGroupsOfMemberSql = "SELECT group_name FROM group_members WHERE member = $1 ORDER BY group_name";

    private const string LockGroupSql = "SELECT key_epoch, admin, member_limit FROM groups WHERE name = $1 FOR UPDATE";

    private const string CountMembersSql =
        "SELECT count(*), count(*) FILTER (WHERE member = $2) FROM group_members WHERE group_name = $1";

    private const string InsertMemberSql = "INSERT INTO group_members (group_name, member) VALUES ($1, $2)";

    private const string DeleteMemberSql = "DELETE FROM group_members WHERE group_name = $1 AND member = $2";

    private const string DeleteMemberEnvelopesSql = "DELETE FROM group_key_envelopes WHERE group_name = $1 AND member = $2";

    private const string SelectFirstMemberSql = "SELECT member FROM group_members WHERE group_name = $1 ORDER BY joined LIMIT 1";

    private const string DeleteGroupSql = "DELETE FROM groups WHERE name = $1";

    private const string UpdateGroupSql = "UPDATE groups SET key_epoch = $2, admin = $3 WHERE name = $1";

    private const string UpsertEnvelopeSql =
        "INSERT INTO group_key_envelopes (group_name, member, epoch, sender, envelope) VALUES ($1, $2, $3, $4, $5) "
        + "ON CONFLICT (group_name, member, epoch) DO UPDATE SET sender = excluded.sender, envelope = excluded.envelope";

    private const string SelectEnvelopesSql =
        "SELECT group_name, epoch, sender, envelope FROM group_key_envelopes WHERE member = $1 ORDER BY group_name, epoch";

    private const string InsertPendingSql =
        "INSERT INTO pending (recipient, id, kind, part, payload, enqueued_at) VALUES ($1, $2, $3, $4, $5, $6) "
        + "ON CONFLICT (recipient, id, kind, part) DO NOTHING";

    // The batch insert: one statement over parallel arrays, inserted in array order (ORDER BY ordinality), so the
    // items take ascending sequence numbers in the order given. Duplicates, also within the batch, are skipped.
    private const string InsertPendingBatchSql =
        "INSERT INTO pending (recipient, id, kind, part, payload, enqueued_at) "
        + "SELECT recipient, id, kind, part, payload, enqueued_at "
        + "FROM unnest($1::text[], $2::bytea[], $3::smallint[], $4::integer[], $5::bytea[], $6::timestamptz[]) "
        + "WITH ORDINALITY AS item (recipient, id, kind, part, payload, enqueued_at, position) "
        + "ORDER BY position "
        + "ON CONFLICT (recipient, id, kind, part) DO NOTHING";

    // Per-recipient order: a transaction that appends to a recipient's queue first takes a transaction-scoped advisory
    // lock on that recipient, so two appends for one recipient commit in the order they took their sequence numbers.
    // Without it a drain paging by sequence could step past an item that takes a smaller number but commits later.
    // Locks are taken in key order so two batches never wait on each other crosswise.
    private const string LockRecipientsSql =
        "SELECT count(pg_advisory_xact_lock(k)) FROM "
        + "(SELECT DISTINCT hashtextextended(r, 7231) AS k FROM unnest($1::text[]) AS r ORDER BY k) AS locks";

    private const string SelectPendingSql =
        "SELECT sequence, id, kind, part, payload, enqueued_at FROM pending "
        + "WHERE recipient = $1 AND sequence > $2 ORDER BY sequence LIMIT $3";

    private const string CountPendingSql = "SELECT count(*) FROM pending WHERE recipient = $1 AND kind IN (1, 2)";

    private const string DeletePendingSql = "DELETE FROM pending WHERE recipient = $1 AND id = $2";

    // The batch delete: one statement whatever the number of ids, each looked up through pending_identity
    // (recipient, id, ...), which PostgreSQL scans once per array element.
    private const string DeletePendingBatchSql = "DELETE FROM pending WHERE recipient = $1 AND id = ANY($2::bytea[])";

    private const string UpsertPresenceSql =
        "INSERT INTO presence (user_name, server_id, updated_at) VALUES ($1, $2, now()) "
        + "ON CONFLICT (user_name) DO UPDATE SET server_id = excluded.server_id, updated_at = excluded.updated_at";

    private const string DeletePresenceSql = "DELETE FROM presence WHERE user_name = $1 AND server_id = $2";

    private const string DeleteServerPresenceSql = "DELETE FROM presence WHERE server_id = $1";

    private const string SelectPresenceSql = "SELECT server_id FROM presence WHERE user_name = $1";

    private const string UpsertServerSql =
        "INSERT INTO servers (server_id, host, port, updated_at) VALUES ($1, $2, $3, $4) "
        + "ON CONFLICT (server_id) DO UPDATE SET host = excluded.host, port = excluded.port, updated_at = excluded.updated_at";

    private const string SelectServerSql = "SELECT host, port, updated_at FROM servers WHERE server_id = $1";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _database;
    private volatile bool _disposed;

    /// <summary>Creates a store over a PostgreSQL database. Nothing is opened until <see cref="InitializeAsync"/>.</summary>
    /// <param name="connectionString">An Npgsql connection string, e.g. <c>Host=db;Database=fastchat;Username=fastchat;Password=...</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty or cannot be parsed.</exception>
    public PostgresChatStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"The PostgreSQL connection string is not valid: {e.Message}", nameof(connectionString), e);
        }

        // Every statement here is fixed text run over and over: let each physical connection prepare them.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
        }

        _database = string.Create(CultureInfo.InvariantCulture, $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}");
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            await PostgresSchema.MigrateAsync(_dataSource, _database, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw Failed("open and migrate the database", e);
        }
    }

    // ---- Accounts -------------------------------------------------------------------------------------------

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="account"/> or one of its blobs is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The account's name or KDF algorithm is empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<bool> CreateAccountAsync(Account account, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(account);
        int inserted = await ExecuteAsync(
            InsertAccountSql,
            account,
            static (command, account) =>
            {
                Add(command, account.UserName);
                Add(command, account.KdfAlgorithm);
                Add(command, account.KdfSalt);
                Add(command, account.KdfIterations);
                Add(command, account.ServerSalt);
                Add(command, account.AuthKeyHash);
                Add(command, account.AgreementPublicKey);
                Add(command, account.SigningPublicKey);
                Add(command, account.WrappedPrivateKeys);
                Add(command, StoreArguments.ToUtc(account.CreatedAt));
            },
            "create an account",
            cancellationToken).ConfigureAwait(false);
        return inserted == 1;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<Account?> GetAccountAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        return await QueryAsync(
            SelectAccountSql,
            userName,
            Add,
            (Account?)null,
            static (reader, userName, _) => StoreRecords.ReadAccount(reader, userName, reader.GetFieldValue<DateTime>(8)),
            "read an account",
            cancellationToken).ConfigureAwait(false);
    }

    // ---- Groups ---------------------------------------------------------------------------------------------

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="admin"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="memberLimit"/> is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<bool> CreateGroupAsync(string group, string admin, int memberLimit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(admin);
        ArgumentOutOfRangeException.ThrowIfLessThan(memberLimit, 1);
        int inserted = await ExecuteAsync(
            InsertGroupSql,
            (group, admin, memberLimit),
            static (command, state) =>
            {
                Add(command, state.group);
                Add(command, state.admin);
                Add(command, state.memberLimit);
            },
            "create a group",
            cancellationToken).ConfigureAwait(false);
        return inserted == 1;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="group"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<GroupInfo?> GetGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        (string? admin, int memberLimit, int keyEpoch, List<string>? members) = await QueryAsync(
            SelectGroupSql,
            group,
            Add,
            default((string? Admin, int MemberLimit, int KeyEpoch, List<string>? Members)),
            static (reader, _, found) =>
            {
                // One row per member, each repeating the group's columns: the first row gives those.
                if (found.Members is null)
                {
                    found = (reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), new List<string>());
                }

                found.Members.Add(reader.GetString(3));
                return found;
            },
            "read a group",
            cancellationToken).ConfigureAwait(false);
        return members is null ? null : new GroupInfo(group, admin!, memberLimit, keyEpoch, members);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<IReadOnlyList<string>> GetGroupsOfMemberAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        return await QueryAsync(
            SelectGroupsOfMemberSql,
            userName,
            Add,
            new List<string>(),
            static (reader, _, groups) =>
            {
                groups.Add(reader.GetString(0));
                return groups;
            },
            "read a member's groups",
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<GroupChange> AddMemberAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(member);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return await InTransactionAsync((group, member), AddMemberCoreAsync, "add a group member", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<GroupChange> RemoveMemberAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(member);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return await InTransactionAsync((group, member), RemoveMemberCoreAsync, "remove a group member", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="envelope"/> or its blob is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A name in <paramref name="envelope"/> is empty or its epoch is negative.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The group does not exist, or the database failed.</exception>
    public async Task PutGroupKeyEnvelopeAsync(GroupKeyEnvelopeRecord envelope, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(envelope);
        try
        {
            await ExecuteAsync(
                UpsertEnvelopeSql,
                envelope,
                static (command, envelope) =>
                {
                    Add(command, envelope.Group);
                    Add(command, envelope.Member);
                    Add(command, envelope.Epoch);
                    Add(command, envelope.Sender);
                    Add(command, envelope.Envelope);
                },
                "store a group key envelope",
                cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation } violation)
        {
            // The envelope's group does not exist: say so rather than pass on the constraint's name.
            throw StoreErrors.GroupMissing(envelope.Group, violation);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="member"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<IReadOnlyList<GroupKeyEnvelopeRecord>> GetGroupKeyEnvelopesAsync(string member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(member);
        return await QueryAsync(
            SelectEnvelopesSql,
            member,
            Add,
            new List<GroupKeyEnvelopeRecord>(),
            static (reader, member, envelopes) =>
            {
                envelopes.Add(StoreRecords.ReadEnvelope(reader, member));
                return envelopes;
            },
            "read group key envelopes",
            cancellationToken).ConfigureAwait(false);
    }

    // ---- Pending items --------------------------------------------------------------------------------------

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="item"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="item"/> has no recipient or payload, an unknown kind or a negative part.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<bool> EnqueueAsync(PendingItem item, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(item);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return await InTransactionAsync(item, EnqueueCoreAsync, "store a pending item", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> or one of them is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An item has no recipient or payload, an unknown kind or a negative part.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed; none of the items is stored.</exception>
    public async Task<int> EnqueueBatchAsync(IReadOnlyList<PendingItem> items, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(items);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (items.Count == 0)
        {
            return 0;
        }

        return await InTransactionAsync(items, EnqueueBatchCoreAsync, "store pending items", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<IReadOnlyList<PendingItem>> GetPendingAsync(string recipient, long afterSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return await QueryAsync(
            SelectPendingSql,
            (recipient, afterSequence, limit),
            static (command, state) =>
            {
                Add(command, state.recipient);
                Add(command, state.afterSequence);
                Add(command, (long)state.limit);
            },

            // Sized for a typical drain page, not for the limit, which may be int.MaxValue.
            new List<PendingItem>(Math.Min(limit, 64)),
            static (reader, state, items) =>
            {
                items.Add(new PendingItem(
                    reader.GetInt64(0),
                    state.recipient,
                    ReadId(reader, 1),
                    (PendingKind)reader.GetInt16(2),
                    reader.GetInt32(3),
                    reader.GetFieldValue<byte[]>(4),
                    reader.GetFieldValue<DateTime>(5)));
                return items;
            },
            "read pending items",
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<int> CountPendingAsync(string recipient, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        object? count = await ExecuteScalarAsync(CountPendingSql, recipient, Add, "count pending items", cancellationToken).ConfigureAwait(false);
        return Convert.ToInt32(count, CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<int> DeletePendingAsync(string recipient, MessageId id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        return await ExecuteAsync(
            DeletePendingSql,
            (recipient, id),
            static (command, state) =>
            {
                Add(command, state.recipient);
                Add(command, state.id.ToByteArray());
            },
            "delete pending items",
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>One statement in its own implicit transaction: one round trip and one commit for the batch.</remarks>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed; none of the items is deleted.</exception>
    public async Task<int> DeletePendingAsync(string recipient, IReadOnlyList<MessageId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentNullException.ThrowIfNull(ids);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ids.Count == 0)
        {
            return 0;
        }

        if (ids.Count == 1)
        {
            // The plain equality statement: no array to encode, and the plan every single delete already uses.
            return await DeletePendingAsync(recipient, ids[0], cancellationToken).ConfigureAwait(false);
        }

        var idBytes = new byte[ids.Count][];
        for (int i = 0; i < idBytes.Length; i++)
        {
            idBytes[i] = ids[i].ToByteArray();
        }

        return await ExecuteAsync(
            DeletePendingBatchSql,
            (recipient, idBytes),
            static (command, state) =>
            {
                Add(command, state.recipient);
                Add(command, state.idBytes);
            },
            "delete pending items",
            cancellationToken).ConfigureAwait(false);
    }

    // ---- Presence and servers -------------------------------------------------------------------------------

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> or <paramref name="serverId"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task SetPresenceAsync(string userName, string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        await ExecuteAsync(UpsertPresenceSql, (userName, serverId), AddPair, "record presence", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> or <paramref name="serverId"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<bool> ClearPresenceAsync(string userName, string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        return await ExecuteAsync(DeletePresenceSql, (userName, serverId), AddPair, "clear presence", cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="serverId"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<int> ClearServerPresenceAsync(string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        return await ExecuteAsync(DeleteServerPresenceSql, serverId, Add, "clear a server's presence", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<string?> GetPresenceAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        return await ExecuteScalarAsync(SelectPresenceSql, userName, Add, "read presence", cancellationToken).ConfigureAwait(false) as string;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="server"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="server"/> has an empty id or host, or a port outside 0-65535.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task UpsertServerAsync(ServerRecord server, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(server);
        await ExecuteAsync(
            UpsertServerSql,
            server,
            static (command, server) =>
            {
                Add(command, server.ServerId);
                Add(command, server.Host);
                Add(command, server.Port);
                Add(command, StoreArguments.ToUtc(server.UpdatedAt));
            },
            "record a server",
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="serverId"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public async Task<ServerRecord?> GetServerAsync(string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        return await QueryAsync(
            SelectServerSql,
            serverId,
            Add,
            (ServerRecord?)null,
            static (reader, serverId, _) => new ServerRecord(serverId, reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTime>(2)),
            "read a server",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes every pooled connection. Idempotent.</summary>
    /// <returns>A task that completes when the connections are closed.</returns>
    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return default;
        }

        _disposed = true;
        return _dataSource.DisposeAsync();
    }

    private static void Add<T>(NpgsqlCommand command, T value) => command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value });

    private static void AddPair(NpgsqlCommand command, (string First, string Second) values)
    {
        Add(command, values.First);
        Add(command, values.Second);
    }

    private static MessageId ReadId(NpgsqlDataReader reader, int ordinal)
    {
        byte[] bytes = reader.GetFieldValue<byte[]>(ordinal);
        if (bytes.Length != MessageId.Size)
        {
            throw new ChatStoreException($"A pending item's id is {bytes.Length} bytes instead of {MessageId.Size}; the database is damaged.");
        }

        return new MessageId(bytes);
    }

    // Where the statement that starts at start ends: at most MaxItemsPerStatement items and, unless a single item is
    // larger on its own, MaxPayloadBytesPerStatement payload bytes.
    private static int EndOfStatement(IReadOnlyList<PendingItem> items, int start)
    {
        int end = start;
        long bytes = 0;
        while (end < items.Count && end - start < MaxItemsPerStatement)
        {
            bytes += items[end].Payload.Length;
            if (bytes > MaxPayloadBytesPerStatement && end > start)
            {
                break;
            }

            end++;
        }

        return end;
    }

    // ---- Transactions ---------------------------------------------------------------------------------------
    // Each runs inside InTransactionAsync, on the transaction's connection, and commits only when it has made its change;
    // returning without committing rolls the transaction back when it is disposed.

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<GroupChange> AddMemberCoreAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, (string Group, string Member) change, CancellationToken cancellationToken)
    {
        // The row lock serializes every membership change of this group, so two adds cannot both see room for one more
        // member.
        (bool found, int keyEpoch, string admin, int memberLimit) = await LockGroupAsync(connection, change.Group, cancellationToken).ConfigureAwait(false);
        if (!found)
        {
            return new GroupChange(GroupChangeStatus.GroupNotFound, 0, string.Empty);
        }

        (long memberCount, long isMember) = await QueryAsync(
            new NpgsqlCommand(CountMembersSql, connection),
            change,
            AddPair,
            (0L, 0L),
            static (reader, _, _) => (reader.GetInt64(0), reader.GetInt64(1)),
            cancellationToken).ConfigureAwait(false);
        if (isMember != 0)
        {
            return new GroupChange(GroupChangeStatus.AlreadyMember, keyEpoch, admin);
        }

        if (memberCount >= memberLimit)
        {
            return new GroupChange(GroupChangeStatus.GroupFull, keyEpoch, admin);
        }

        await ExecuteAsync(new NpgsqlCommand(InsertMemberSql, connection), change, AddPair, cancellationToken).ConfigureAwait(false);
        await UpdateGroupAsync(connection, change.Group, keyEpoch + 1, admin, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new GroupChange(GroupChangeStatus.Ok, keyEpoch + 1, admin);
    }

    private static ValueTask<int> UpdateGroupAsync(NpgsqlConnection connection, string group, int keyEpoch, string admin, CancellationToken cancellationToken) =>
        ExecuteAsync(
            new NpgsqlCommand(UpdateGroupSql, connection),
            (group, keyEpoch, admin),
            static (command, update) =>
            {
                Add(command, update.group);
                Add(command, update.keyEpoch);
                Add(command, update.admin);
            },
            cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<GroupChange> RemoveMemberCoreAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, (string Group, string Member) change, CancellationToken cancellationToken)
    {
        (bool found, int keyEpoch, string admin, _) = await LockGroupAsync(connection, change.Group, cancellationToken).ConfigureAwait(false);
        if (!found)
        {
            return new GroupChange(GroupChangeStatus.GroupNotFound, 0, string.Empty);
        }

        if (await ExecuteAsync(new NpgsqlCommand(DeleteMemberSql, connection), change, AddPair, cancellationToken).ConfigureAwait(false) == 0)
        {
            return new GroupChange(GroupChangeStatus.NotMember, keyEpoch, admin);
        }

        await ExecuteAsync(new NpgsqlCommand(DeleteMemberEnvelopesSql, connection), change, AddPair, cancellationToken).ConfigureAwait(false);
        string? longestStanding = await ExecuteScalarAsync(
            new NpgsqlCommand(SelectFirstMemberSql, connection), change.Group, Add, cancellationToken).ConfigureAwait(false) as string;

        int newEpoch = keyEpoch + 1;
        GroupChange result;
        if (longestStanding is null)
        {
            // Nobody is left: the group goes, and its remaining envelopes with it (ON DELETE CASCADE).
            await ExecuteAsync(new NpgsqlCommand(DeleteGroupSql, connection), change.Group, Add, cancellationToken).ConfigureAwait(false);
            result = new GroupChange(GroupChangeStatus.Ok, newEpoch, string.Empty, GroupDeleted: true);
        }
        else
        {
            string newAdmin = string.Equals(admin, change.Member, StringComparison.Ordinal) ? longestStanding : admin;
            await UpdateGroupAsync(connection, change.Group, newEpoch, newAdmin, cancellationToken).ConfigureAwait(false);
            result = new GroupChange(GroupChangeStatus.Ok, newEpoch, newAdmin);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> EnqueueCoreAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PendingItem item, CancellationToken cancellationToken)
    {
        await LockRecipientsAsync(connection, [item.Recipient], cancellationToken).ConfigureAwait(false);
        int inserted = await ExecuteAsync(
            new NpgsqlCommand(InsertPendingSql, connection, transaction),
            item,
            static (command, item) =>
            {
                Add(command, item.Recipient);
                Add(command, item.Id.ToByteArray());
                Add(command, (short)item.Kind);
                Add(command, item.Part);
                Add(command, item.Payload);
                Add(command, StoreArguments.EnqueuedAt(item.EnqueuedAt));
            },
            cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return inserted == 1;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> EnqueueBatchCoreAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<PendingItem> items, CancellationToken cancellationToken)
    {
        var recipients = new string[items.Count];
        for (int i = 0; i < recipients.Length; i++)
        {
            recipients[i] = items[i].Recipient;
        }

        await LockRecipientsAsync(connection, recipients, cancellationToken).ConfigureAwait(false);
        int stored = 0;
        int end;
        for (int start = 0; start < items.Count; start = end)
        {
            end = EndOfStatement(items, start);
            stored += await InsertPendingAsync(connection, items, start, end, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return stored;
    }

    private static ValueTask<object?> LockRecipientsAsync(NpgsqlConnection connection, string[] recipients, CancellationToken cancellationToken) =>
        ExecuteScalarAsync(new NpgsqlCommand(LockRecipientsSql, connection), recipients, Add, cancellationToken);

    private static ValueTask<int> InsertPendingAsync(
        NpgsqlConnection connection, IReadOnlyList<PendingItem> items, int start, int end, CancellationToken cancellationToken)
    {
        int count = end - start;
        var recipients = new string[count];
        var ids = new byte[count][];
        var kinds = new short[count];
        var parts = new int[count];
        var payloads = new byte[count][];
        var times = new DateTime[count];
        for (int i = 0; i < count; i++)
        {
            PendingItem item = items[start + i];
            recipients[i] = item.Recipient;
            ids[i] = item.Id.ToByteArray();
            kinds[i] = (short)item.Kind;
            parts[i] = item.Part;
            payloads[i] = item.Payload;
            times[i] = StoreArguments.EnqueuedAt(item.EnqueuedAt);
        }

        return ExecuteAsync(
            new NpgsqlCommand(InsertPendingBatchSql, connection),
            (recipients, ids, kinds, parts, payloads, times),
            static (command, columns) =>
            {
                Add(command, columns.recipients);
                Add(command, columns.ids);
                Add(command, columns.kinds);
                Add(command, columns.parts);
                Add(command, columns.payloads);
                Add(command, columns.times);
            },
            cancellationToken);
    }

    private static ValueTask<(bool Found, int KeyEpoch, string Admin, int MemberLimit)> LockGroupAsync(
        NpgsqlConnection connection, string group, CancellationToken cancellationToken) =>
        QueryAsync(
            new NpgsqlCommand(LockGroupSql, connection),
            group,
            Add,
            (Found: false, KeyEpoch: 0, Admin: string.Empty, MemberLimit: 0),
            static (reader, _, _) => (true, reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2)),
            cancellationToken);

    // ---- Statements -----------------------------------------------------------------------------------------
    // Every statement runs through these. The command is disposed when it completes; bind sets its parameters from the
    // caller's state, so that the callers' lambdas capture nothing. They are pooled, so that the layer costs no allocation
    // beyond each public method's own state machine.

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> ExecuteAsync<TState>(
        NpgsqlCommand command, TState state, Action<NpgsqlCommand, TState> bind, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            bind(command, state);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<object?> ExecuteScalarAsync<TState>(
        NpgsqlCommand command, TState state, Action<NpgsqlCommand, TState> bind, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            bind(command, state);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // Runs a query and folds its rows into a result: readRow gets each row with the result so far and returns the new
    // one; with no rows, the result is seed.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<TResult> QueryAsync<TState, TResult>(
        NpgsqlCommand command,
        TState state,
        Action<NpgsqlCommand, TState> bind,
        TResult seed,
        Func<NpgsqlDataReader, TState, TResult, TResult> readRow,
        CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            bind(command, state);
            NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                TResult result = seed;
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    result = readRow(reader, state, result);
                }

                return result;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<TResult> InTransactionAsync<TState, TResult>(
        NpgsqlDataSource dataSource,
        TState state,
        Func<NpgsqlConnection, NpgsqlTransaction, TState, CancellationToken, ValueTask<TResult>> body,
        CancellationToken cancellationToken)
    {
        NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                return await body(connection, transaction, state, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // The same, on a connection of the store's own (one statement each) or in a transaction, with a database failure
    // reported as a ChatStoreException that names the operation.

    private ValueTask<int> ExecuteAsync<TState>(
        string sql, TState state, Action<NpgsqlCommand, TState> bind, string operation, CancellationToken cancellationToken) =>
        ReportedAsync(ExecuteAsync(CreateCommand(sql), state, bind, cancellationToken), operation);

    private ValueTask<object?> ExecuteScalarAsync<TState>(
        string sql, TState state, Action<NpgsqlCommand, TState> bind, string operation, CancellationToken cancellationToken) =>
        ReportedAsync(ExecuteScalarAsync(CreateCommand(sql), state, bind, cancellationToken), operation);

    private ValueTask<TResult> QueryAsync<TState, TResult>(
        string sql,
        TState state,
        Action<NpgsqlCommand, TState> bind,
        TResult seed,
        Func<NpgsqlDataReader, TState, TResult, TResult> readRow,
        string operation,
        CancellationToken cancellationToken) =>
        ReportedAsync(QueryAsync(CreateCommand(sql), state, bind, seed, readRow, cancellationToken), operation);

    private ValueTask<TResult> InTransactionAsync<TState, TResult>(
        TState state,
        Func<NpgsqlConnection, NpgsqlTransaction, TState, CancellationToken, ValueTask<TResult>> body,
        string operation,
        CancellationToken cancellationToken) =>
        ReportedAsync(InTransactionAsync(_dataSource, state, body, cancellationToken), operation);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ReportedAsync<TResult>(ValueTask<TResult> statement, string operation)
    {
        try
        {
            return await statement.ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw Failed(operation, e);
        }
    }

    private NpgsqlCommand CreateCommand(string sql)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _dataSource.CreateCommand(sql);
    }

    private ChatStoreException Failed(string operation, Exception exception) => StoreErrors.Failed(Provider, _database, operation, exception);
}
