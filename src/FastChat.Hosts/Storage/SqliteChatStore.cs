using FastChat.Hosts.Storage.Internal;
using FastChat.Protocol.Messages;
using FastChat.Shared.Sqlite;
using Microsoft.Data.Sqlite;

namespace FastChat.Hosts.Storage;

/// <summary>
/// The embedded <see cref="IChatStore"/>: one SQLite database file (Microsoft.Data.Sqlite) in WAL mode with full
/// synchronous commits, the default of <c>fastchat serve</c>.
/// </summary>
/// <remarks>
/// <para>Writes go through one connection and one loop, in order; writes queued while a transaction commits share
/// the next transaction (group commit), and each write's task completes only once its transaction is on disk. Reads
/// run on a small pool of connections and never wait for the writer. Every connection prepares its statements once.</para>
/// <para>Several stores (in one process or in several processes on one machine) may open the same file: SQLite's
/// lock keeps their writes apart, and a connection waits for it up to the connection string's
/// <c>Default Timeout</c> (30 seconds unless set) before the write fails with a <see cref="ChatStoreException"/>.
/// The file must be on a local disk; WAL does not work over network file systems.</para>
/// </remarks>
public sealed class SqliteChatStore : IChatStore
{
    /// <summary>The database's file name inside a data folder (see <see cref="ForDataDirectory"/>).</summary>
    public const string DatabaseFileName = "fastchat.db";

    private const string Provider = "SQLite";

    // Bounds how long one transaction holds the write lock and how late the last write of a burst completes.
    private const int MaxWritesPerTransaction = 256;

    private readonly string _connectionString;
    private readonly string _database;
    private readonly int _busyTimeoutMilliseconds;
    private readonly Lock _gate = new();
    private SqliteWriteQueue<SqliteSession>? _writer;
    private SqliteSessionPool<SqliteSession>? _readers;
    private volatile bool _disposed;

    /// <summary>Creates a store over the database a SQLite connection string names. Nothing is opened until <see cref="InitializeAsync"/>.</summary>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string, e.g. <c>Data Source=/var/lib/fastchat/fastchat.db</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty, cannot be parsed, or names no database file.</exception>
    public SqliteChatStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"The SQLite connection string is not valid: {e.Message}", nameof(connectionString), e);
        }

        if (string.IsNullOrWhiteSpace(builder.DataSource))
        {
            throw new ArgumentException("The SQLite connection string names no database file (Data Source).", nameof(connectionString));
        }

        // The store keeps its own connections open (each with its prepared statements); closing one must release the
        // file, not park it in Microsoft.Data.Sqlite's pool.
        builder.Pooling = false;
        _connectionString = builder.ToString();
        _database = builder.DataSource;
        _busyTimeoutMilliseconds = builder.DefaultTimeout > 0 ? checked(builder.DefaultTimeout * 1000) : 30_000;
    }

    /// <summary>Creates a store over <c>fastchat.db</c> in a data folder, creating the folder if it is missing.</summary>
    /// <param name="directory">The data folder, e.g. <c>./fastchat-data</c>.</param>
    /// <returns>The store (not yet initialized).</returns>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty or not a valid path.</exception>
    /// <exception cref="IOException">The folder cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be created for lack of permission.</exception>
    public static SqliteChatStore ForDataDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        string fullPath = Path.GetFullPath(directory);
        Directory.CreateDirectory(fullPath);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(fullPath, DatabaseFileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
        };
        return new SqliteChatStore(builder.ToString());
    }

    /// <summary>The database file this store uses.</summary>
    public string DatabasePath => _database;

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    public Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null)
            {
                return Task.CompletedTask;
            }

            SqliteSession? session = null;
            try
            {
                session = SqliteSession.Open(_connectionString, _busyTimeoutMilliseconds);
                SqliteSchema.Migrate(session, _database);
            }
            catch (Exception e) when (e is SqliteException or ChatStoreException)
            {
                session?.Dispose();
                return Task.FromException(e as ChatStoreException ?? StoreErrors.Failed(Provider, _database, "open and migrate the database", e));
            }

            _readers = new SqliteSessionPool<SqliteSession>(_connectionString, _busyTimeoutMilliseconds, _database, Math.Max(4, Environment.ProcessorCount));
            _writer = new SqliteWriteQueue<SqliteSession>(session, _connectionString, _busyTimeoutMilliseconds, _database, MaxWritesPerTransaction);
        }

        return Task.CompletedTask;
    }

    // ---- Accounts -------------------------------------------------------------------------------------------

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="account"/> or one of its blobs is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The account's name or KDF algorithm is empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<bool> CreateAccountAsync(Account account, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(account);
        return Writer.Submit(static (session, account) => session.InsertAccount(account), account, "create an account", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<Account?> GetAccountAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        return Read(static (session, userName) => session.SelectAccount(userName), userName, "read an account", cancellationToken);
    }

    // ---- Groups ---------------------------------------------------------------------------------------------

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="admin"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="memberLimit"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<bool> CreateGroupAsync(string group, string admin, int memberLimit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(admin);
        ArgumentOutOfRangeException.ThrowIfLessThan(memberLimit, 1);
        return Writer.Submit(
            static (session, state) => session.InsertGroup(state.group, state.admin, state.memberLimit),
            (group, admin, memberLimit),
            "create a group",
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="group"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<GroupInfo?> GetGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        return Read(static (session, group) => session.SelectGroup(group), group, "read a group", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<IReadOnlyList<string>> GetGroupsOfMemberAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        return Read<string, IReadOnlyList<string>>(
            static (session, userName) => session.SelectGroupsOfMember(userName), userName, "read a member's groups", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<GroupChange> AddMemberAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(member);
        return Writer.Submit(
            static (session, state) => session.AddMember(state.group, state.member), (group, member), "add a group member", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<GroupChange> RemoveMemberAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(member);
        return Writer.Submit(
            static (session, state) => session.RemoveMember(state.group, state.member), (group, member), "remove a group member", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="envelope"/> or its blob is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A name in <paramref name="envelope"/> is empty or its epoch is negative.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The group does not exist, or the database failed.</exception>
    public Task PutGroupKeyEnvelopeAsync(GroupKeyEnvelopeRecord envelope, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(envelope);
        return Writer.Submit(
            static (session, envelope) =>
            {
                session.UpsertEnvelope(envelope);
                return true;
            },
            envelope,
            "store a group key envelope",
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="member"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<IReadOnlyList<GroupKeyEnvelopeRecord>> GetGroupKeyEnvelopesAsync(string member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(member);
        return Read<string, IReadOnlyList<GroupKeyEnvelopeRecord>>(
            static (session, member) => session.SelectEnvelopes(member), member, "read group key envelopes", cancellationToken);
    }

    // ---- Pending items --------------------------------------------------------------------------------------

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="item"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="item"/> has no recipient or payload, an unknown kind or a negative part.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<bool> EnqueueAsync(PendingItem item, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(item);
        return Writer.Submit(static (session, item) => session.InsertPending(item), item, "store a pending item", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="items"/> or one of them is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An item has no recipient or payload, an unknown kind or a negative part.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed; none of the items is stored.</exception>
    public Task<int> EnqueueBatchAsync(IReadOnlyList<PendingItem> items, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(items);
        if (items.Count == 0)
        {
            return Task.FromResult(0);
        }

        return Writer.Submit(static (session, items) => session.InsertPending(items), items, "store pending items", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<IReadOnlyList<PendingItem>> GetPendingAsync(string recipient, long afterSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return Read<(string recipient, long afterSequence, int limit), IReadOnlyList<PendingItem>>(
            static (session, state) => session.SelectPending(state.recipient, state.afterSequence, state.limit),
            (recipient, afterSequence, limit),
            "read pending items",
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<int> CountPendingAsync(string recipient, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        return Read(static (session, recipient) => session.CountPending(recipient), recipient, "count pending items", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<int> DeletePendingAsync(string recipient, MessageId id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        return Writer.Submit(
            static (session, state) => session.DeletePending(state.recipient, state.id), (recipient, id), "delete pending items", cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>The deletes run on the writer's connection as one write of the group commit, one prepared statement per id.</remarks>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed; none of the items is deleted.</exception>
    public Task<int> DeletePendingAsync(string recipient, IReadOnlyList<MessageId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return Task.FromResult(0);
        }

        return Writer.Submit(
            static (session, state) => session.DeletePending(state.recipient, state.ids), (recipient, ids), "delete pending items", cancellationToken);
    }

    // ---- Presence and servers -------------------------------------------------------------------------------

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> or <paramref name="serverId"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task SetPresenceAsync(string userName, string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        return Writer.Submit(
            static (session, state) =>
            {
                session.UpsertPresence(state.userName, state.serverId);
                return true;
            },
            (userName, serverId),
            "record presence",
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> or <paramref name="serverId"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<bool> ClearPresenceAsync(string userName, string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        return Writer.Submit(
            static (session, state) => session.DeletePresence(state.userName, state.serverId), (userName, serverId), "clear presence", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="serverId"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<int> ClearServerPresenceAsync(string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        return Writer.Submit(static (session, serverId) => session.DeleteServerPresence(serverId), serverId, "clear a server's presence", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<string?> GetPresenceAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        return Read(static (session, userName) => session.SelectPresence(userName), userName, "read presence", cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="server"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="server"/> has an empty id or host, or a port outside 0-65535.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task UpsertServerAsync(ServerRecord server, CancellationToken cancellationToken = default)
    {
        StoreArguments.Validate(server);
        return Writer.Submit(
            static (session, server) =>
            {
                session.UpsertServer(server);
                return true;
            },
            server,
            "record a server",
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="serverId"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException"><see cref="InitializeAsync"/> has not completed.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed.</exception>
    public Task<ServerRecord?> GetServerAsync(string serverId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverId);
        return Read(static (session, serverId) => session.SelectServer(serverId), serverId, "read a server", cancellationToken);
    }

    /// <summary>Finishes the queued writes and closes every connection. Idempotent.</summary>
    /// <returns>A task that completes when the store is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        SqliteWriteQueue<SqliteSession>? writer;
        SqliteSessionPool<SqliteSession>? readers;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            writer = _writer;
            readers = _readers;
        }

        if (writer is not null)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }

        readers?.Dispose();
    }

    /// <summary>Reads a PRAGMA on the writer's connection (the one every write commits through); for tests.</summary>
    internal Task<string> ReadWriterPragmaAsync(string name, CancellationToken cancellationToken = default) =>
        Writer.Submit(static (session, name) => session.ReadPragma(name), name, "read a setting", cancellationToken);

    private SqliteWriteQueue<SqliteSession> Writer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            SqliteWriteQueue<SqliteSession>? writer = _writer;
            if (writer is null)
            {
                StoreErrors.ThrowNotInitialized(nameof(SqliteChatStore));
            }

            return writer;
        }
    }

    private Task<TResult> Read<TState, TResult>(
        Func<SqliteSession, TState, TResult> read, TState state, string operation, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SqliteSessionPool<SqliteSession>? readers = _readers;
        if (readers is null)
        {
            StoreErrors.ThrowNotInitialized(nameof(SqliteChatStore));
        }

        return readers.Read(read, state, operation, cancellationToken);
    }
}
