using FastChat.Client.History.Internal;
using FastChat.Protocol.Messages;
using FastChat.Shared.Sqlite;
using Microsoft.Data.Sqlite;

namespace FastChat.Client.History;

/// <summary>
/// One user's local message history: every message sent and received, with its delivery state, in one SQLite file per
/// user. It is what <c>fastchat history</c> and the chat screen show, and it is the durable duplicate check: a received id
/// it has recorded is refused again, across restarts.
/// </summary>
/// <remarks>
/// <para>
/// Open it with <see cref="OpenAsync"/>, usually at <see cref="DefaultPath(string)"/>. The file is created owner-only on
/// Unix (0600, in 0700 folders), runs in WAL mode with full synchronous commits, and carries a schema version that is
/// migrated on open. A file remembers its owner and refuses to open for anyone else.
/// </para>
/// <para>
/// Safe for concurrent use: writes go through one connection and one loop, in the order they are submitted, and writes
/// queued together share a transaction; each write's task completes once it is on disk. Reads run on the caller's thread
/// on a small pool of connections and never wait for writes (they see everything whose task has completed).
/// </para>
/// <para>
/// Group deliveries are kept per recipient: <see cref="MarkDeliveredAsync"/> records each member's acknowledgement once,
/// <see cref="HistoryEntry.DeliveredCount"/> counts them and <see cref="GetDeliveriesAsync"/> lists them.
/// </para>
/// </remarks>
public sealed class ChatHistory : IAsyncDisposable
{
    /// <summary>The history file's name inside a user's folder (see <see cref="DefaultPath(string)"/>).</summary>
    public const string FileName = "history.db";

    // How long a write waits for another process (a second fastchat of the same user) to release the file's write lock.
    private const int BusyTimeoutMilliseconds = 10_000;

    // The chat screen and one command read at once; more concurrent readers open extra connections and close them after.
    private const int MaxIdleReaders = 4;

    // Bounds how long one transaction holds the write lock, and so how long a reader in another process sees old data.
    private const int MaxWritesPerTransaction = 128;

    private readonly SqliteWriteQueue<HistorySession> _writer;
    private readonly SqliteSessionPool<HistorySession> _readers;
    private readonly Lock _gate = new();
    private Task? _disposing;
    private volatile bool _disposed;

    private ChatHistory(string databasePath, string owner, SqliteWriteQueue<HistorySession> writer, SqliteSessionPool<HistorySession> readers)
    {
        DatabasePath = databasePath;
        Owner = owner;
        _writer = writer;
        _readers = readers;
    }

    /// <summary>The history file (a full path).</summary>
    public string DatabasePath { get; }

    /// <summary>The user whose history this is.</summary>
    public string Owner { get; }

    /// <summary>
    /// Opens a user's history file, creating it (and its folders) if it is missing, and brings its schema up to date.
    /// </summary>
    /// <param name="path">The history file, e.g. <see cref="DefaultPath(string)"/>. It must be on a local disk (WAL does not work over network file systems).</param>
    /// <param name="owner">The user whose history it is. A new file records it; an existing one must have been made for the same user.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The open history; dispose it to close the file.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> or <paramref name="owner"/> is null or empty, or <paramref name="path"/> is not a valid file path.</exception>
    /// <exception cref="IOException">The file or a folder cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">The file or a folder cannot be created or restricted for lack of permission.</exception>
    /// <exception cref="ChatHistoryException">
    /// The file cannot be opened as a database, cannot use WAL, belongs to another user, or has a schema newer than this
    /// FastChat knows.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<ChatHistory> OpenAsync(string path, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        cancellationToken.ThrowIfCancellationRequested();

        string fullPath = Path.GetFullPath(path);
        HistoryFiles.Prepare(fullPath, nameof(path));

        // The history keeps its own connections open, each with its prepared statements; closing one must release the
        // file (so it can be deleted or moved), not park it in Microsoft.Data.Sqlite's pool.
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();

        HistorySession session;
        try
        {
            session = HistorySession.Open(connectionString, BusyTimeoutMilliseconds);
        }
        catch (SqliteException e)
        {
            throw HistoryErrors.Failed(fullPath, "open", e);
        }

        var writer = new SqliteWriteQueue<HistorySession>(session, connectionString, BusyTimeoutMilliseconds, fullPath, MaxWritesPerTransaction);
        try
        {
            await writer.Submit(static (session, owner) => HistorySchema.Migrate(session, owner), owner, "migrate its schema", cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            await writer.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new ChatHistory(
            fullPath, owner, writer, new SqliteSessionPool<HistorySession>(connectionString, BusyTimeoutMilliseconds, fullPath, MaxIdleReaders));
    }

    /// <summary>
    /// The default history file of a user: <c>$XDG_DATA_HOME/fastchat/&lt;user&gt;/history.db</c>, or
    /// <c>~/.local/share/fastchat/&lt;user&gt;/history.db</c> when XDG_DATA_HOME is unset or not absolute; on Windows,
    /// <c>fastchat\&lt;user&gt;\history.db</c> under the local application data folder.
    /// </summary>
    /// <param name="userName">The user.</param>
    /// <returns>The full path of the file (which may not exist yet).</returns>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null, empty, or cannot be a folder name (<c>..</c>, a path separator).</exception>
    /// <exception cref="InvalidOperationException">The platform has no home or application data folder.</exception>
    public static string DefaultPath(string userName) =>
        HistoryFiles.DefaultPath(userName, OperatingSystem.IsWindows() ? null : Environment.GetEnvironmentVariable("XDG_DATA_HOME"), nameof(userName));

    /// <summary>
    /// The default history file of a user under a given data folder (what XDG_DATA_HOME would say):
    /// <c>&lt;dataHome&gt;/fastchat/&lt;user&gt;/history.db</c>. A null, empty or relative <paramref name="dataHome"/>
    /// is ignored, as the XDG base directory specification asks, and the platform's default folder is used instead
    /// (<c>~/.local/share</c>; on Windows, the local application data folder).
    /// </summary>
    /// <param name="userName">The user.</param>
    /// <param name="dataHome">The base data folder, an absolute path; null for the platform's default.</param>
    /// <returns>The full path of the file (which may not exist yet).</returns>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is null, empty, or cannot be a folder name (<c>..</c>, a path separator).</exception>
    /// <exception cref="InvalidOperationException"><paramref name="dataHome"/> is not usable and the platform has no home or application data folder.</exception>
    public static string DefaultPath(string userName, string? dataHome) => HistoryFiles.DefaultPath(userName, dataHome, nameof(userName));

    // ---- Sent messages ----------------------------------------------------------------------------------------

    /// <summary>Records a message this user is sending, as <see cref="DeliveryState.Pending"/> until the server acknowledges it.</summary>
    /// <param name="entry">
    /// The message. Its <see cref="HistoryEntry.Direction"/>, <see cref="HistoryEntry.State"/>, <see cref="HistoryEntry.Error"/>
    /// and <see cref="HistoryEntry.DeliveredCount"/> are not taken from it: it is recorded as sent and pending. A group
    /// message's <see cref="HistoryEntry.Peer"/> is recorded as <see cref="Owner"/>; an empty <see cref="HistoryEntry.Group"/>
    /// counts as none. Default times are the time of the call.
    /// </param>
    /// <param name="cancellationToken">Cancels the write while it is queued.</param>
    /// <returns><see langword="true"/> if recorded; <see langword="false"/> if a sent message with that id is already recorded (it is left as it is).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="entry"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The entry has the empty id, no <see cref="HistoryEntry.Peer"/> for a direct message, an unknown kind or a negative file size.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<bool> AddSentAsync(HistoryEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Validate(entry, received: false);
        ThrowIfDisposed();

        string? group = string.IsNullOrEmpty(entry.Group) ? null : entry.Group;
        DateTime recordedAt = entry.RecordedAt == default ? DateTime.UtcNow : ToUtc(entry.RecordedAt);
        HistoryEntry stored = entry with
        {
            Direction = HistoryDirection.Sent,
            Peer = group is null ? entry.Peer : Owner,
            Group = group,
            RecordedAt = recordedAt,
            SentAt = entry.SentAt == default ? recordedAt : ToUtc(entry.SentAt),
            State = DeliveryState.Pending,
            Error = null,
            DeliveredCount = 0,
        };
        return _writer.Submit(static (session, entry) => session.InsertMessage(entry), stored, "record a sent message", cancellationToken);
    }

    /// <summary>Records that the server acknowledged a sent message: <see cref="DeliveryState.Pending"/> or <see cref="DeliveryState.Failed"/> becomes <see cref="DeliveryState.Sent"/>.</summary>
    /// <param name="id">The message id.</param>
    /// <param name="cancellationToken">Cancels the write while it is queued.</param>
    /// <returns><see langword="true"/> if the state changed; <see langword="false"/> if no sent message has that id or it is already <see cref="DeliveryState.Sent"/> or <see cref="DeliveryState.Delivered"/>.</returns>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<bool> MarkSentAsync(MessageId id, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _writer.Submit(static (session, id) => session.UpdateSent(id), id, "mark a message sent", cancellationToken);
    }

    /// <summary>
    /// Records that a recipient acknowledged a sent message: the message becomes <see cref="DeliveryState.Delivered"/> (from
    /// any state but <see cref="DeliveryState.Received"/>, since the recipient's acknowledgement may overtake the server's)
    /// and the recipient is added to its deliveries.
    /// </summary>
    /// <param name="id">The message id.</param>
    /// <param name="recipient">
    /// Who acknowledged it. For a direct message only its <see cref="HistoryEntry.Peer"/> counts; for a group message,
    /// every member but <see cref="Owner"/>, each once.
    /// </param>
    /// <param name="cancellationToken">Cancels the write while it is queued.</param>
    /// <returns><see langword="true"/> if the acknowledgement was recorded; <see langword="false"/> if no sent message has that id, the recipient does not count for it, or its acknowledgement is already recorded.</returns>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<bool> MarkDeliveredAsync(MessageId id, string recipient, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ThrowIfDisposed();
        return _writer.Submit(
            static (session, state) => session.InsertDelivery(state.id, state.recipient, state.owner, state.deliveredAt),
            (id, recipient, owner: Owner, deliveredAt: DateTime.UtcNow),
            "record a delivery",
            cancellationToken);
    }

    /// <summary>Records that a sent message could not be sent: <see cref="DeliveryState.Pending"/> becomes <see cref="DeliveryState.Failed"/> with the reason (a failed message takes the new reason).</summary>
    /// <param name="id">The message id.</param>
    /// <param name="reason">Why it failed, for the user.</param>
    /// <param name="cancellationToken">Cancels the write while it is queued.</param>
    /// <returns><see langword="true"/> if the state changed; <see langword="false"/> if no sent message has that id or the server has already acknowledged it.</returns>
    /// <exception cref="ArgumentException"><paramref name="reason"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<bool> MarkFailedAsync(MessageId id, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        ThrowIfDisposed();
        return _writer.Submit(static (session, state) => session.UpdateFailed(state.id, state.reason), (id, reason), "mark a message failed", cancellationToken);
    }

    // ---- Received messages ------------------------------------------------------------------------------------

    /// <summary>
    /// Records a received message, unless one with the same id from the same sender is already recorded: this is the
    /// durable duplicate and replay check. Record a message only once it has been verified and decrypted, so that
    /// nobody can block a genuine message by sending garbage under its id first; acknowledge it only once this completed.
    /// </summary>
    /// <param name="entry">
    /// The message, with its sender in <see cref="HistoryEntry.Peer"/>. Its <see cref="HistoryEntry.Direction"/>,
    /// <see cref="HistoryEntry.State"/>, <see cref="HistoryEntry.Error"/> and <see cref="HistoryEntry.DeliveredCount"/>
    /// are not taken from it: it is recorded as <see cref="DeliveryState.Received"/>. An empty
    /// <see cref="HistoryEntry.Group"/> counts as none. Default times are the time of the call.
    /// </param>
    /// <param name="cancellationToken">Cancels the write while it is queued.</param>
    /// <returns><see langword="true"/> if recorded; <see langword="false"/> if that sender's id is already recorded (a duplicate or a replay: drop it).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="entry"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The entry has the empty id, no <see cref="HistoryEntry.Peer"/>, an unknown kind or a negative file size.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<bool> AddReceivedAsync(HistoryEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Validate(entry, received: true);
        ThrowIfDisposed();

        DateTime recordedAt = entry.RecordedAt == default ? DateTime.UtcNow : ToUtc(entry.RecordedAt);
        HistoryEntry stored = entry with
        {
            Direction = HistoryDirection.Received,
            Group = string.IsNullOrEmpty(entry.Group) ? null : entry.Group,
            RecordedAt = recordedAt,
            SentAt = entry.SentAt == default ? recordedAt : ToUtc(entry.SentAt),
            State = DeliveryState.Received,
            Error = null,
            DeliveredCount = 0,
        };
        return _writer.Submit(static (session, entry) => session.InsertMessage(entry), stored, "record a received message", cancellationToken);
    }

    /// <summary>Whether a message with this id from this sender is recorded.</summary>
    /// <param name="sender">The sender.</param>
    /// <param name="id">The message id.</param>
    /// <param name="cancellationToken">Cancels the read before it starts.</param>
    /// <returns><see langword="true"/> if it is recorded.</returns>
    /// <exception cref="ArgumentException"><paramref name="sender"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<bool> HasReceivedAsync(string sender, MessageId id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sender);
        return Read(static (session, state) => session.HasReceived(state.sender, state.id), (sender, id), "look up a received message", cancellationToken);
    }

    // ---- Reads ------------------------------------------------------------------------------------------------

    /// <summary>A sent message, as recorded now.</summary>
    /// <param name="id">The message id.</param>
    /// <param name="cancellationToken">Cancels the read before it starts.</param>
    /// <returns>The entry, or <see langword="null"/> if no sent message has that id.</returns>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<HistoryEntry?> GetSentAsync(MessageId id, CancellationToken cancellationToken = default) =>
        Read(static (session, id) => session.SelectSent(id), id, "read a sent message", cancellationToken);

    /// <summary>The direct messages with one user, both ways: the newest <paramref name="limit"/>, oldest first (newest last).</summary>
    /// <param name="withUser">The other user.</param>
    /// <param name="limit">How many entries at most.</param>
    /// <param name="cancellationToken">Cancels the read before it starts.</param>
    /// <returns>The entries in the order they were recorded.</returns>
    /// <exception cref="ArgumentException"><paramref name="withUser"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<IReadOnlyList<HistoryEntry>> GetConversationAsync(string withUser, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(withUser);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return Read<(string withUser, int limit), IReadOnlyList<HistoryEntry>>(
            static (session, state) => session.SelectDirect(state.withUser, state.limit), (withUser, limit), "read a conversation", cancellationToken);
    }

    /// <summary>The messages of one group, sent and received: the newest <paramref name="limit"/>, oldest first (newest last).</summary>
    /// <param name="group">The group.</param>
    /// <param name="limit">How many entries at most.</param>
    /// <param name="cancellationToken">Cancels the read before it starts.</param>
    /// <returns>The entries in the order they were recorded.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<IReadOnlyList<HistoryEntry>> GetGroupAsync(string group, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return Read<(string group, int limit), IReadOnlyList<HistoryEntry>>(
            static (session, state) => session.SelectGroup(state.group, state.limit), (group, limit), "read a group's messages", cancellationToken);
    }

    /// <summary>The newest <paramref name="limit"/> entries of every conversation, oldest first (newest last).</summary>
    /// <param name="limit">How many entries at most.</param>
    /// <param name="cancellationToken">Cancels the read before it starts.</param>
    /// <returns>The entries in the order they were recorded.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<IReadOnlyList<HistoryEntry>> GetRecentAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return Read<int, IReadOnlyList<HistoryEntry>>(static (session, limit) => session.SelectRecent(limit), limit, "read recent messages", cancellationToken);
    }

    /// <summary>
    /// The sent messages the server has not acknowledged (<see cref="DeliveryState.Pending"/>), oldest first: after a
    /// restart, these are the ones to show as unsent or to send again under the same ids.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read before it starts.</param>
    /// <returns>The pending entries in the order they were recorded.</returns>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<IReadOnlyList<HistoryEntry>> GetPendingSentAsync(CancellationToken cancellationToken = default) =>
        Read<int, IReadOnlyList<HistoryEntry>>(static (session, _) => session.SelectPending(), 0, "read pending messages", cancellationToken);

    /// <summary>The recipients who acknowledged a sent message, in the order their acknowledgements were recorded.</summary>
    /// <param name="id">The message id.</param>
    /// <param name="cancellationToken">Cancels the read before it starts.</param>
    /// <returns>The deliveries; empty if there are none or no sent message has that id.</returns>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<IReadOnlyList<HistoryDelivery>> GetDeliveriesAsync(MessageId id, CancellationToken cancellationToken = default) =>
        Read<MessageId, IReadOnlyList<HistoryDelivery>>(static (session, id) => session.SelectDeliveries(id), id, "read deliveries", cancellationToken);

    /// <summary>Every conversation (each direct peer and each group) with its newest entry and unread count, the most recently active first.</summary>
    /// <param name="cancellationToken">Cancels the read before it starts.</param>
    /// <returns>The conversations.</returns>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task<IReadOnlyList<HistoryConversation>> GetConversationsAsync(CancellationToken cancellationToken = default) =>
        Read<int, IReadOnlyList<HistoryConversation>>(static (session, _) => session.SelectConversations(), 0, "read conversations", cancellationToken);

    /// <summary>Marks the direct conversation with a user read up to its newest entry, so its <see cref="HistoryConversation.UnreadCount"/> is 0 until something new arrives.</summary>
    /// <param name="withUser">The other user.</param>
    /// <param name="cancellationToken">Cancels the write while it is queued.</param>
    /// <returns>A task that completes once the marker is on disk.</returns>
    /// <exception cref="ArgumentException"><paramref name="withUser"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task MarkConversationReadAsync(string withUser, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(withUser);
        return MarkRead(isGroup: false, withUser, cancellationToken);
    }

    /// <summary>Marks a group read up to its newest entry, so its <see cref="HistoryConversation.UnreadCount"/> is 0 until something new arrives.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Cancels the write while it is queued.</param>
    /// <returns>A task that completes once the marker is on disk.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is null or empty.</exception>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="ChatHistoryException">The database failed.</exception>
    public Task MarkGroupReadAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        return MarkRead(isGroup: true, group, cancellationToken);
    }

    /// <summary>Commits the writes already submitted, then closes the file. Idempotent; concurrent calls all wait for the same close.</summary>
    /// <returns>A task that completes when the file is closed.</returns>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposing is null)
            {
                _disposed = true;
                _disposing = CloseAsync();
            }
        }

        return new ValueTask(_disposing);
    }

    private static DateTime ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static void Validate(HistoryEntry entry, bool received)
    {
        if (entry.Id.IsEmpty)
        {
            HistoryErrors.ThrowEmptyId(nameof(entry));
        }

        // A sent group message's peer is the owner, filled in by AddSentAsync; everything else names the other side.
        if (string.IsNullOrEmpty(entry.Peer) && (received || string.IsNullOrEmpty(entry.Group)))
        {
            HistoryErrors.ThrowNoPeer(nameof(entry), received);
        }

        if ((uint)entry.Kind > (uint)HistoryKind.Notice)
        {
            HistoryErrors.ThrowUnknownKind(entry.Kind, nameof(entry));
        }

        if (entry.FileSize < 0)
        {
            HistoryErrors.ThrowNegativeSize(entry.FileSize.GetValueOrDefault(), nameof(entry));
        }
    }

    private async Task CloseAsync()
    {
        // Writes already queued are committed first: a message recorded before the close must not be lost by it.
        await _writer.DisposeAsync().ConfigureAwait(false);
        _readers.Dispose();
    }

    private Task<bool> MarkRead(bool isGroup, string name, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _writer.Submit(
            static (session, state) =>
            {
                session.MarkRead(state.isGroup, state.name);
                return true;
            },
            (isGroup, name),
            "mark a conversation read",
            cancellationToken);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private Task<TResult> Read<TState, TResult>(
        Func<HistorySession, TState, TResult> read, TState state, string operation, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _readers.Read(read, state, operation, cancellationToken);
    }
}
