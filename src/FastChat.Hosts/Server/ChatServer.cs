using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server.Internal;
using FastChat.Hosts.Storage;
using FastChat.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Hosts.Server;

/// <summary>
/// A FastChat chat server: clients resume sessions with balancer-issued tokens and exchange direct messages, group
/// messages and files; other chat servers link in to relay for users connected here; the balancer is told this
/// server's load.
/// </summary>
/// <remarks>
/// <para>
/// Delivery (DESIGN.md §6): a message for a user connected here is written to their connection and tracked until they
/// acknowledge it; for a user on another server it is relayed over a cluster-key-authenticated peer link; otherwise it
/// is stored and delivered, in order, when the user next resumes. The sender's <c>Ack</c> means the server has taken
/// responsibility (acknowledged by the recipient, or committed to the store); <c>Delivered</c> follows a recipient's
/// acknowledgement. Copies not acknowledged within <see cref="ChatServerOptions.DeliveryTimeout"/>, or whose recipient
/// disconnects or falls behind (<see cref="ChatServerOptions.MaxSendBufferBytes"/>), are stored.
/// </para>
/// <para>
/// All peers connect to one port: the role in <c>Hello</c> tells clients (<c>Resume</c> next) from chat servers
/// (<c>PeerLink</c> next).
/// </para>
/// </remarks>
public sealed class ChatServer : IAsyncDisposable
{
    private const int NotStarted = 0;
    private const int Running = 1;
    private const int Stopping = 2;

    private readonly ChatServerOptions _options;
    private readonly IChatStore _store;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ServerMetrics _metrics;
    private readonly ServerContext _context;
    private readonly string _balancerHost;
    private readonly int _balancerPort;
    private readonly CancellationTokenSource _stopped = new();
    private readonly CancellationTokenSource _linksStopped = new();
    private readonly ConcurrentDictionary<long, ConnectionHandler> _connections = new();
    private readonly ConcurrentDictionary<long, Task> _serving = new();
    private readonly SemaphoreSlim _connectionEnded = new(0);
    private readonly Lock _stateLock = new();
    private FastChatListener? _listener;
    private IPEndPoint? _endPoint;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _sweepLoop = Task.CompletedTask;
    private Task _balancerLoop = Task.CompletedTask;
    private Task? _stopTask;
    private int _state;

    /// <summary>Creates a chat server; <see cref="StartAsync"/> starts it.</summary>
    /// <param name="options">The settings (read once, here).</param>
    /// <param name="store">The shared store: accounts, groups, pending items, presence, server directory.</param>
    /// <param name="clusterKey">The cluster key: verifies session tokens and authenticates balancer and peer links.</param>
    /// <param name="loggerFactory">Where to log; <see langword="null"/> logs nothing.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="meterFactory">Creates the <c>FastChat.Server</c> meter; <see langword="null"/> creates it directly.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/>, <paramref name="store"/> or <paramref name="clusterKey"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An option is invalid (missing id, malformed balancer address, a non-positive interval or timeout); the message names it.</exception>
    public ChatServer(
        ChatServerOptions options,
        IChatStore store,
        ClusterKey clusterKey,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clusterKey);
        Validate(options, out _balancerHost, out _balancerPort);
        _options = options;
        _store = store;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ChatServer>();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = new ServerMetrics(options.Id, meterFactory);
        _context = new ServerContext(options, store, clusterKey, _loggerFactory, _timeProvider, _metrics, _stopped.Token);
    }

    /// <summary>The server's id (<see cref="ChatServerOptions.Id"/>).</summary>
    public string Id => _options.Id;

    /// <summary>The endpoint the server listens on, with the port the system picked when the options said 0.</summary>
    /// <exception cref="InvalidOperationException">The server has not been started.</exception>
    public IPEndPoint EndPoint => _endPoint ?? throw new InvalidOperationException("The chat server has not been started.");

    /// <summary>Signed-in client sessions on this server now.</summary>
    public int ConnectionCount => _context.Sessions.Count;

    /// <summary>
    /// Binds the port, clears presence records this server left behind (after a crash), records its advertised
    /// endpoint in the store's server directory, and starts accepting connections, registering with the balancer
    /// (retrying in the background until it answers) and sweeping timed-out deliveries. Returns once accepting.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start-up.</param>
    /// <returns>A task that completes when the server is accepting connections.</returns>
    /// <exception cref="InvalidOperationException">The server was already started.</exception>
    /// <exception cref="TransportException">The port cannot be bound (e.g. it is in use).</exception>
    /// <exception cref="ChatStoreException">The store cannot be reached.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using (_stateLock.EnterScope())
        {
            if (_state != NotStarted)
            {
                throw new InvalidOperationException("The chat server was already started.");
            }

            _state = Running;
        }

        IPAddress address = ResolveListenAddress(_options.Host);
        _listener = FastChatListener.Bind(new ListenerOptions
        {
            EndPoint = new IPEndPoint(address, _options.Port),
            MaxFrameSize = _options.MaxFrameSize,
            MaxConnections = _options.MaxConnections,

            // The slow-consumer limit is enforced by the server after each delivery; the transport's own limit is a
            // backstop that must leave room for a whole frame. Draining waits for the reader at half the limit.
            MaxPendingSendBytes = Math.Max(_options.MaxSendBufferBytes, 2L * (_options.MaxFrameSize + 4)),
            OutputPauseThreshold = Math.Min(1024 * 1024, _options.MaxSendBufferBytes / 2),
            LoggerFactory = _loggerFactory,
        });
        _endPoint = (IPEndPoint)_listener.EndPoint;
        string advertisedHost = _options.AdvertisedHost
            ?? (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : _options.Host);

        try
        {
            await _store.ClearServerPresenceAsync(Id, cancellationToken).ConfigureAwait(false);
            await _store.UpsertServerAsync(new ServerRecord(Id, advertisedHost, _endPoint.Port, _context.UtcNow), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Leave the server as it was, so the start can be retried.
            await _listener.DisposeAsync().ConfigureAwait(false);
            _listener = null;
            _endPoint = null;
            using (_stateLock.EnterScope())
            {
                _state = NotStarted;
            }

            throw;
        }

        _acceptLoop = AcceptLoopAsync(_listener);
        _sweepLoop = SweepLoopAsync();
        var balancer = new BalancerLink(_context, _balancerHost, _balancerPort, advertisedHost, _endPoint.Port, () => _context.Sessions.Count);
        _balancerLoop = balancer.RunAsync(_linksStopped.Token);
        ServerLog.ServerStarted(_logger, Id, _endPoint, advertisedHost, _endPoint.Port);
    }

    /// <summary>
    /// Stops gracefully: stops accepting, sends <c>Reconnect</c> to every client (they go back through the balancer),
    /// stores every delivery still waiting for an ack (senders get their acks), waits up to
    /// <see cref="ChatServerOptions.ShutdownTimeout"/> for clients to leave, then closes the remaining connections and
    /// the balancer and peer links and clears this server's presence records. Safe to call more than once.
    /// </summary>
    /// <param name="cancellationToken">Cuts the wait for clients short.</param>
    /// <returns>A task that completes when the server has stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        using (_stateLock.EnterScope())
        {
            if (_state == NotStarted || _listener is null)
            {
                _stopTask ??= Task.CompletedTask;
            }

            _state = Stopping;
            return _stopTask ??= StopCoreAsync(cancellationToken);
        }
    }

    /// <summary>Stops the server (as <see cref="StopAsync"/>) and releases its resources.</summary>
    /// <returns>A task that completes when everything is released.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _metrics.Dispose();
        _stopped.Dispose();
        _linksStopped.Dispose();
        _connectionEnded.Dispose();
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        // Off the caller's lock.
        await Task.Yield();
        _context.IsShuttingDown = true;
        FastChatListener listener = _listener!;
        await listener.UnbindAsync(CancellationToken.None).ConfigureAwait(false);

        List<ClientSession> sessions = _context.Sessions.Snapshot();
        ServerLog.ServerStopping(_logger, Id, sessions.Count);
        foreach (KeyValuePair<long, ConnectionHandler> entry in _connections)
        {
            if (entry.Value.Client is { } client)
            {
                client.SendReconnect("shutting down");
            }
        }

        await StoreInFlightAsync(sessions).ConfigureAwait(false);
        await WaitForClientsAsync(cancellationToken).ConfigureAwait(false);

        foreach (KeyValuePair<long, ConnectionHandler> entry in _connections)
        {
            _ = entry.Value.Connection.CloseAsync(CloseReason.Shutdown).AsTask();
        }

        await _linksStopped.CancelAsync().ConfigureAwait(false);
        await _context.Peers.CloseAllAsync().ConfigureAwait(false);
        await Task.WhenAll(_serving.Values).ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        await _balancerLoop.ConfigureAwait(false);

        try
        {
            await _store.ClearServerPresenceAsync(Id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_logger, "clearing this server's presence records", ex);
        }

        await _stopped.CancelAsync().ConfigureAwait(false);
        await _sweepLoop.ConfigureAwait(false);
        await listener.DisposeAsync().ConfigureAwait(false);
        ServerLog.ServerStopped(_logger, Id);
    }

    // Every delivery still waiting for an ack is committed now, so nothing depends on clients acking during shutdown.
    private async Task StoreInFlightAsync(List<ClientSession> sessions)
    {
        var batch = new FlushBatch();
        var remaining = new List<InFlightDelivery>();
        foreach (ClientSession session in sessions)
        {
            session.Tracker.Close(remaining);
            await _context.Router.StoreUndeliveredAsync(session.UserName, remaining, "the server is shutting down", batch, CancellationToken.None).ConfigureAwait(false);
            remaining.Clear();
        }

        var copies = new List<RelayedCopy>();
        _context.Relayed.TakeWhere(null, long.MaxValue, copies);
        await _context.Router.StoreRelayedAsync(copies, "the server is shutting down", batch, CancellationToken.None).ConfigureAwait(false);
        batch.Flush();
    }

    private async Task WaitForClientsAsync(CancellationToken cancellationToken)
    {
        long deadline = _timeProvider.GetTimestamp();
        TimeSpan timeout = _options.ShutdownTimeout;
        try
        {
            while (CountClientConnections() > 0)
            {
                TimeSpan left = timeout - _timeProvider.GetElapsedTime(deadline);
                if (left <= TimeSpan.Zero || !await _connectionEnded.WaitAsync(left, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The host wants it faster: close what is left now.
        }
    }

    private int CountClientConnections()
    {
        int count = 0;
        foreach (KeyValuePair<long, ConnectionHandler> entry in _connections)
        {
            if (!entry.Value.IsPeerLink)
            {
                count++;
            }
        }

        return count;
    }

    private async Task AcceptLoopAsync(FastChatListener listener)
    {
        while (true)
        {
            FastChatConnection? connection;
            try
            {
                connection = await listener.AcceptAsync(_stopped.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (connection is null)
            {
                return;
            }

            var handler = new ConnectionHandler(_context, new FramedConnection(connection));
            _connections[connection.Id] = handler;
            Task serving = ServeAsync(handler);
            _serving[connection.Id] = serving;
            if (serving.IsCompleted)
            {
                _serving.TryRemove(connection.Id, out _);
            }
        }
    }

    private async Task ServeAsync(ConnectionHandler handler)
    {
        // Let the accept loop go on at once: the connection is served on the thread pool.
        await Task.Yield();
        FramedConnection connection = handler.Connection;
        try
        {
            await connection.RunAsync(handler, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await handler.OnClosedAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The end of one session must not take the server down; it is logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ServerLog.StoreFailed(_logger, $"ending the session on connection {connection.Id}", ex);
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            _connections.TryRemove(connection.Id, out _);
            _serving.TryRemove(connection.Id, out _);
            if (_context.IsShuttingDown)
            {
                // Wakes the shutdown's wait for clients to leave (released only then, so the count stays small).
                _connectionEnded.Release();
            }
        }
    }

    private async Task SweepLoopAsync()
    {
        // Often enough that a timed-out delivery is stored within about a quarter of the timeout.
        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(_options.DeliveryTimeout.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        using var timer = new PeriodicTimer(period, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopped.Token).ConfigureAwait(false))
            {
                await _context.Router.SweepAsync(_stopped.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private static IPAddress ResolveListenAddress(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return address;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        try
        {
            IPAddress[] addresses = Dns.GetHostAddresses(host);
            return addresses.Length != 0 ? addresses[0] : throw new ArgumentException($"ChatServerOptions.Host '{host}' resolves to no address.", nameof(host));
        }
        catch (SocketException ex)
        {
            throw new ArgumentException($"ChatServerOptions.Host '{host}' cannot be resolved: {ex.Message}", nameof(host), ex);
        }
    }

    private static void Validate(ChatServerOptions options, out string balancerHost, out int balancerPort)
    {
        if (string.IsNullOrWhiteSpace(options.Id) || options.Id.Length > 64)
        {
            throw new ArgumentException("ChatServerOptions.Id must be set (1 to 64 characters): it names the server in tokens and presence.", nameof(options));
        }

        if (!BalancerLink.TryParseEndPoint(options.Balancer, out balancerHost, out balancerPort))
        {
            throw new ArgumentException($"ChatServerOptions.Balancer must be HOST:PORT; it is '{options.Balancer}'.", nameof(options));
        }

        if (string.IsNullOrWhiteSpace(options.Host))
        {
            throw new ArgumentException("ChatServerOptions.Host must be set.", nameof(options));
        }

        if (options.Port is < 0 or > 65535)
        {
            throw new ArgumentException($"ChatServerOptions.Port must be 0 to 65535; it is {options.Port}.", nameof(options));
        }

        RequirePositive(options.LoadReportInterval, nameof(options.LoadReportInterval));
        RequirePositive(options.DeliveryTimeout, nameof(options.DeliveryTimeout));
        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException($"ChatServerOptions.ShutdownTimeout must not be negative; it is {options.ShutdownTimeout}.", nameof(options));
        }

        if (options.MaxFrameSize < 1024 || options.MaxSendBufferBytes < 64 * 1024 || options.MaxFileSize < 1
            || options.GroupMemberLimit < 1 || options.MaxConnections < 1)
        {
            throw new ArgumentException(
                "ChatServerOptions limits are out of range: MaxFrameSize >= 1024, MaxSendBufferBytes >= 64 KiB, MaxFileSize, GroupMemberLimit and MaxConnections >= 1.",
                nameof(options));
        }
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ChatServerOptions.{name} must be positive; it is {value}.", name);
        }
    }
}
