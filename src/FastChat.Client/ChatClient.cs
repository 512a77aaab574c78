using System.Threading.Channels;
using FastChat.Client.Internal;
using FastChat.Protocol.Messages;
using FastChat.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Client;

/// <summary>
/// A FastChat user's connection to the cluster: signs up or in through the balancer, follows the assignment to a chat
/// server, sends direct messages, group messages and files, runs group operations, and delivers what arrives as
/// <see cref="ChatEvent"/>s.
/// </summary>
/// <remarks>
/// <code>
/// await using var client = new ChatClient(new ChatClientOptions { BalancerHost = "chat.example.com" });
/// await client.SignInAsync("alice", password, cancellationToken);
/// await client.SendDirectAsync("bob", body, cancellationToken);     // completes when the server has taken it
/// await foreach (ChatEvent e in client.ReadEventsAsync(cancellationToken))
/// {
///     if (e is DirectMessageReceived message) { /* ... */ }
/// }
/// </code>
/// <para>
/// Delivery: every message has a 16-byte id. A sent message waits in an outbox until the server acknowledges it (the
/// returned task then completes); after a reconnect the outbox is resent, in order, with the same ids. Received
/// messages are acknowledged when handed to the application (<see cref="ChatClientOptions.AutoAck"/>) or explicitly
/// (<see cref="AckAsync"/>), and a copy of a message already received is dropped by id.
/// </para>
/// <para>
/// Reconnection: when the server asks (<c>Reconnect</c>, e.g. before it shuts down), when the connection drops, or while
/// the assigned server is unreachable, the client signs in again through the balancer with backoff, using the auth key
/// it derived at sign-in (it never keeps the password), and resumes on the newly assigned server.
/// <see cref="ConnectionStateChanged"/> events report each step.
/// </para>
/// <para>
/// Thread safety: every member may be called concurrently. Events can be read by one or several readers.
/// </para>
/// </remarks>
public sealed partial class ChatClient : IAsyncDisposable
{
    /// <summary>
    /// The bytes of a frame reserved for a message's other fields (ids, names, timestamps, headers): a body, envelope or
    /// file chunk may use <see cref="ChatClientOptions.MaxFrameSize"/> minus this (see <see cref="MaxBodySize"/>).
    /// </summary>
    public const int FrameOverhead = 1024;

    // User and group names are 3-32 characters on the servers; the client only bounds them so frames stay small.
    internal const int MaxNameLength = 128;

    // Room for the AEAD tag and nonce on top of 64 KiB of plaintext per file chunk.
    internal const int MaxChunkOverhead = 256;

    private readonly ChatClientOptions _options;
    private readonly ConnectorOptions _connectorOptions;
    private readonly ILogger _logger;
    private readonly Channel<QueuedEvent> _events;
    private readonly RecentMessageIds _recent = new();
    private readonly IncomingFiles _files = new();
    private readonly Dictionary<MessageId, OutboxEntry> _outbox = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly SemaphoreSlim _signInGate = new(1, 1);

    // Guarded by _lock (_session is also read without it, as a snapshot).
    private volatile ServerSession? _session;
    private int _generation;
    private long _lastSequence;
    private TaskCompletionSource<ServerSession>? _sessionWaiters;
    private Credentials? _credentials;
    private CancellationTokenSource? _signedIn;
    private Task _reconnecting = Task.CompletedTask;
    private volatile ConnectionState _state;
    private bool _disposed;

    /// <summary>Creates a client; it connects when it signs in.</summary>
    /// <param name="options">The settings; they are validated and copied.</param>
    /// <param name="loggerFactory">Where the client and its transport log (categories <c>FastChat.Client</c> and <c>FastChat.Transport</c>); <see langword="null"/> logs nothing.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public ChatClient(ChatClientOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("FastChat.Client");
        _connectorOptions = new ConnectorOptions
        {
            MaxFrameSize = _options.MaxFrameSize,
            ConnectTimeout = _options.ConnectTimeout,
            Tls = _options.Tls,
            LoggerFactory = loggerFactory,
        };
        _connectorOptions.Validate();
        _events = Channel.CreateBounded<QueuedEvent>(new BoundedChannelOptions(_options.EventCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,

            // Writers are read loops: a reader's continuation must not run on them.
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>Where the session stands.</summary>
    public ConnectionState State => _state;

    /// <summary>The signed-in user, or <see langword="null"/> when not signed in.</summary>
    public string? UserName => Volatile.Read(ref _credentials)?.UserName;

    /// <summary>The chat server of the current session, or <see langword="null"/> while there is none.</summary>
    public string? ServerId => _session?.ServerId;

    /// <summary>The largest body, envelope or file chunk one frame can carry: <see cref="ChatClientOptions.MaxFrameSize"/> minus <see cref="FrameOverhead"/>.</summary>
    public int MaxBodySize => _options.MaxFrameSize - FrameOverhead;

    internal ChatClientOptions Options => _options;

    internal ConnectorOptions ConnectorOptions => _connectorOptions;

    internal ILogger Logger => _logger;

    /// <summary>
    /// Closes the session without signing out (the server keeps what arrives for the next sign-in), stops reconnecting,
    /// fails pending requests and unacknowledged sends with <see cref="ObjectDisposedException"/>, and ends
    /// <see cref="ReadEventsAsync"/> once the events already queued are read.
    /// </summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        ServerSession? session;
        Credentials? credentials;
        CancellationTokenSource? signedIn;
        List<OutboxEntry> abandoned;
        TaskCompletionSource<ServerSession>? waiters;
        Task reconnecting;
        bool wasSignedIn;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            session = _session;
            _session = null;
            credentials = _credentials;
            _credentials = null;
            signedIn = _signedIn;
            _signedIn = null;
            wasSignedIn = _state != ConnectionState.Disconnected;
            _state = ConnectionState.Disconnected;
            abandoned = TakeOutbox();
            waiters = _sessionWaiters;
            _sessionWaiters = null;
            reconnecting = _reconnecting;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        if (signedIn is not null)
        {
            await signedIn.CancelAsync().ConfigureAwait(false);
        }

        var error = new ObjectDisposedException(nameof(ChatClient), "The chat client was disposed before the operation completed.");
        waiters?.TrySetException(error);
        foreach (OutboxEntry entry in abandoned)
        {
            entry.Fail(error);
        }

        if (session is not null)
        {
            await session.CloseAsync(error).ConfigureAwait(false);
        }

        await reconnecting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        credentials?.Dispose();
        signedIn?.Dispose();
        if (wasSignedIn)
        {
            _events.Writer.TryWrite(new QueuedEvent(new ConnectionStateChanged(ConnectionState.Disconnected, "The client was disposed."), null));
        }

        _events.Writer.TryComplete();
    }

    private static void ValidateName(string name, string paramName)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            ThrowHelper.ThrowNameInvalid(name, paramName);
        }
    }

    private void ValidateSize(ReadOnlyMemory<byte> data, string paramName)
    {
        int limit = MaxBodySize;
        if (data.Length > limit)
        {
            ThrowHelper.ThrowTooLarge(paramName, data.Length, limit);
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed();
        }
    }

    // The caller holds _lock.
    private List<OutboxEntry> TakeOutbox()
    {
        var entries = new List<OutboxEntry>(_outbox.Values);
        _outbox.Clear();
        return entries;
    }

    /// <summary>Queues a state change for the readers without ever blocking the caller.</summary>
    private void PublishState(ConnectionState state, string reason, Exception? error = null)
    {
        var item = new QueuedEvent(new ConnectionStateChanged(state, reason, error), null);
        if (!_events.Writer.TryWrite(item))
        {
            _ = PublishStateSlowAsync(item);
        }
    }

    private async Task PublishStateSlowAsync(QueuedEvent item)
    {
        try
        {
            await _events.Writer.WriteAsync(item, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            // Disposed: nobody reads events any more.
        }
    }
}
