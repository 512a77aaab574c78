using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using FastChat.Hosts.Balancer.Internal;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;
using FastChat.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Hosts.Balancer;

/// <summary>
/// The FastChat balancer: the single entry point of a cluster. Clients sign up and sign in here and are assigned a chat
/// server by the configured <see cref="BalancingStrategy"/>; chat servers register here over a persistent link and
/// report their load. Both kinds of peer use one port and tell themselves apart with <c>Hello</c>.
/// </summary>
/// <remarks>
/// <para>
/// Every connection is served on its own: a client sending broken frames, or a slow store call for one sign-in, never
/// delays or affects another connection. The balancer keeps no state of its own beyond the registry of live servers
/// (rebuilt from their links after a restart) and the sign-in failure counts; accounts live in the
/// <see cref="IChatStore"/>.
/// </para>
/// <para>Metrics go to the <c>FastChat.Balancer</c> meter: <c>fastchat.balancer.sign_ins</c> and
/// <c>fastchat.balancer.sign_ups</c> (tagged <c>result</c>), <c>fastchat.balancer.assignments</c> (tagged
/// <c>server</c>) and the <c>fastchat.balancer.servers.live</c> gauge.</para>
/// <code>
/// await using var balancer = new ChatBalancer(new BalancerOptions { Port = 7700, Strategy = "least-connections" }, store, clusterKey);
/// await balancer.StartAsync(cancellationToken);
/// // ... chat servers register with balancer.EndPoint; clients sign in there ...
/// await balancer.StopAsync(cancellationToken);
/// </code>
/// </remarks>
public sealed class ChatBalancer : IAsyncDisposable
{
    private readonly BalancerOptions _options;
    private readonly IChatStore _store;
    private readonly ClusterKey _clusterKey;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly IMeterFactory? _meterFactory;
    private readonly Random _random;
    private readonly ConcurrentDictionary<long, Served> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lifecycleLock = new();
    private LifecycleState _state;
    private FastChatListener? _listener;
    private BalancerContext? _context;
    private BalancerMetrics? _metrics;
    private Task? _acceptLoop;
    private Task? _startTask;
    private Task? _stopTask;
    private IPEndPoint? _endPoint;

    /// <summary>Creates a balancer; nothing is bound until <see cref="StartAsync"/>.</summary>
    /// <param name="options">The settings; read and validated by <see cref="StartAsync"/> and not to be changed afterwards.</param>
    /// <param name="store">Where accounts are kept; shared with the chat servers. The caller disposes it, after the balancer.</param>
    /// <param name="clusterKey">The cluster's key: signs session tokens and authenticates server registrations.</param>
    /// <param name="loggerFactory">Where to log; <see langword="null"/> logs nothing.</param>
    /// <param name="timeProvider">The clock for server liveness, token expiry, proofs and rate limiting; <see langword="null"/> uses the system clock.</param>
    /// <param name="meterFactory">Creates the <c>FastChat.Balancer</c> meter (e.g. the host's); <see langword="null"/> creates a standalone one.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/>, <paramref name="store"/> or <paramref name="clusterKey"/> is <see langword="null"/>.</exception>
    public ChatBalancer(
        BalancerOptions options,
        IChatStore store,
        ClusterKey clusterKey,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
        : this(options, store, clusterKey, loggerFactory, timeProvider, meterFactory, random: null)
    {
    }

    // Tests pass a seeded generator so that the random strategies are reproducible.
    internal ChatBalancer(
        BalancerOptions options,
        IChatStore store,
        ClusterKey clusterKey,
        ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider,
        IMeterFactory? meterFactory,
        Random? random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clusterKey);
        _options = options;
        _store = store;
        _clusterKey = clusterKey;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ChatBalancer>();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _meterFactory = meterFactory;
        _random = random ?? new Random();
    }

    private enum LifecycleState
    {
        Created,
        Starting,
        Started,
        Stopped,
    }

    /// <summary>The endpoint the balancer listens on, with the port the system picked when <see cref="BalancerOptions.Port"/> is 0.</summary>
    /// <exception cref="InvalidOperationException">The balancer has not been started.</exception>
    public IPEndPoint EndPoint => _endPoint ?? throw new InvalidOperationException("The balancer has no endpoint until StartAsync has completed.");

    /// <summary>
    /// Validates the options, makes sure the store's schema exists, binds the port and starts accepting clients and
    /// chat servers in the background.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start (the balancer is then left stopped).</param>
    /// <returns>A task that completes once the balancer is listening.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and the allowed values.</exception>
    /// <exception cref="InvalidOperationException">The balancer was already started (it cannot be restarted after <see cref="StopAsync"/>).</exception>
    /// <exception cref="ChatStoreException">The store cannot be reached or migrated.</exception>
    /// <exception cref="TransportException">The port cannot be bound (e.g. it is in use).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        using (_lifecycleLock.EnterScope())
        {
            if (_state != LifecycleState.Created)
            {
                throw new InvalidOperationException("The balancer has already been started; create a new one to start again.");
            }

            _state = LifecycleState.Starting;
            _startTask = StartCoreAsync(cancellationToken);
            return _startTask;
        }
    }

    /// <summary>
    /// Stops accepting, tells every connected peer the balancer is shutting down and closes its connection, and waits
    /// for the connections to finish. Chat servers reconnect to the next balancer on their own; clients that were
    /// assigned a server keep their sessions there. Safe to call more than once.
    /// </summary>
    /// <param name="cancellationToken">Ends the graceful wait: connections still open are then aborted.</param>
    /// <returns>A task that completes once every connection has closed.</returns>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Task stop;
        using (_lifecycleLock.EnterScope())
        {
            if (_state == LifecycleState.Created)
            {
                _state = LifecycleState.Stopped;
                return Task.CompletedTask;
            }

            _state = _state == LifecycleState.Starting ? LifecycleState.Stopped : _state;
            stop = _stopTask ??= StopCoreAsync();
        }

        // A second caller with an earlier deadline still gets its own bound on the wait.
        return stop.IsCompleted ? stop : WaitForStopAsync(stop, cancellationToken);
    }

    /// <summary>A snapshot of the registered chat servers, ordered by id, with whether each is live (assignable).</summary>
    /// <returns>The servers; empty before <see cref="StartAsync"/>.</returns>
    public IReadOnlyList<ServerStatus> GetServers() => _context?.Registry.Snapshot() ?? [];

    /// <summary>Stops the balancer (as <see cref="StopAsync"/> without a deadline) and releases its meter.</summary>
    /// <returns>A task that completes when everything is released.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _metrics?.Dispose();
        _stopping.Dispose();
    }

    internal static BalancingStrategy Validate(BalancerOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            Fail(nameof(options.Host), "BalancerOptions.Host must name the address to listen on, e.g. 127.0.0.1 or 0.0.0.0.");
        }

        if (options.Port is < 0 or > IPEndPoint.MaxPort)
        {
            Fail(nameof(options.Port), $"BalancerOptions.Port must be 0 to {IPEndPoint.MaxPort}; it is {options.Port}.");
        }

        BalancingStrategy strategy = ParseStrategy(options.Strategy);
        RequirePositive(nameof(options.ServerTimeout), options.ServerTimeout);
        RequirePositive(nameof(options.TokenLifetime), options.TokenLifetime);
        RequirePositive(nameof(options.SignInFailureWindow), options.SignInFailureWindow);
        if (options.MaxFrameSize is < 1024 or > 64 * 1024 * 1024)
        {
            Fail(nameof(options.MaxFrameSize), $"BalancerOptions.MaxFrameSize must be 1024 to {64 * 1024 * 1024} bytes; it is {options.MaxFrameSize}.");
        }

        RequirePositive(nameof(options.MaxConnections), options.MaxConnections);
        RequirePositive(nameof(options.MaxSignInFailuresPerUser), options.MaxSignInFailuresPerUser);
        RequirePositive(nameof(options.MaxSignInFailuresPerAddress), options.MaxSignInFailuresPerAddress);
        RequirePositive(nameof(options.MinKdfIterations), options.MinKdfIterations);
        return strategy;
    }

    private static BalancingStrategy ParseStrategy(string? name)
    {
        if (!BalancingStrategies.TryParse(name, out BalancingStrategy strategy))
        {
            Fail(nameof(BalancerOptions.Strategy), $"BalancerOptions.Strategy '{name}' is not a balancing strategy; use one of {string.Join(", ", BalancingStrategies.Names)}.");
        }

        return strategy;
    }

    private static void RequirePositive(string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            Fail(name, $"BalancerOptions.{name} must be positive; it is {value}.");
        }
    }

    private static void RequirePositive(string name, int value)
    {
        if (value <= 0)
        {
            Fail(name, $"BalancerOptions.{name} must be positive; it is {value}.");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string name, string message) => throw new ArgumentException(message, name);

    private static async Task<IPAddress> ResolveHostAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return address;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new ArgumentException($"BalancerOptions.Host '{host}' cannot be resolved: {ex.Message}", nameof(host), ex);
        }

        // Prefer IPv4: it is what "a host name" means on most single-stack deployments.
        foreach (IPAddress candidate in addresses)
        {
            if (candidate.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                return candidate;
            }
        }

        return addresses.Length > 0
            ? addresses[0]
            : throw new ArgumentException($"BalancerOptions.Host '{host}' resolves to no address.", nameof(host));
    }

    private async Task WaitForStopAsync(Task stop, CancellationToken cancellationToken)
    {
        try
        {
            await stop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller's patience ran out: drop what is still open, then let the stop finish.
            foreach (KeyValuePair<long, Served> pair in _connections)
            {
                pair.Value.Connection.Abort(CloseReason.Shutdown);
            }

            await stop.ConfigureAwait(false);
        }
    }

    private async Task AcceptLoopAsync(FastChatListener listener, BalancerContext context, CancellationToken stopping)
    {
        // Let StartAsync return at once.
        await Task.Yield();
        while (true)
        {
            FastChatConnection? connection;
            try
            {
                connection = await listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }

            if (connection is null)
            {
                return;
            }

            // Registered before it is served, so that the serving task's removal always comes after the add.
            var framed = new FramedConnection(connection);
            var served = new Served(framed, new BalancerConnection(context, framed));
            _connections[connection.Id] = served;
            served.Task = ServeAsync(served, stopping);
        }
    }

    private async Task ServeAsync(Served served, CancellationToken stopping)
    {
        // Off the accept loop: the next connection is accepted while this one is served.
        await Task.Yield();
        FramedConnection connection = served.Connection;
        try
        {
            await connection.RunAsync(served.Handler, stopping).ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                served.Handler.OnShutdown();
            }
        }
        finally
        {
            await connection.DisposeAsync().ConfigureAwait(false);

            // After the dispose, so that the log names why the connection closed.
            served.Handler.OnClosed();
            _connections.TryRemove(connection.Id, out _);
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        // Off the caller's lock: everything below may complete synchronously up to the first real await.
        await Task.Yield();
        try
        {
            BalancingStrategy strategy = Validate(_options);
            IPAddress address = await ResolveHostAsync(_options.Host, cancellationToken).ConfigureAwait(false);
            await _store.InitializeAsync(cancellationToken).ConfigureAwait(false);

            var registry = new ServerRegistry(new ServerSelector(strategy, _random), _options.ServerTimeout, _timeProvider, _logger);
            _metrics = new BalancerMetrics(_meterFactory, registry.CountLive);
            var rateLimiter = new SignInRateLimiter(_options, _timeProvider);
            var accounts = new BalancerAccounts(_options, _store, _clusterKey, registry, rateLimiter, _metrics, _logger, _timeProvider);
            _context = new BalancerContext(_options, _clusterKey, registry, accounts, _logger, _timeProvider);

            _listener = FastChatListener.Bind(new ListenerOptions
            {
                EndPoint = new IPEndPoint(address, _options.Port),
                MaxConnections = _options.MaxConnections,
                MaxFrameSize = _options.MaxFrameSize,
                LoggerFactory = _loggerFactory,
            });
            _endPoint = (IPEndPoint)_listener.EndPoint;
            _acceptLoop = AcceptLoopAsync(_listener, _context, _stopping.Token);
            BalancerLog.Started(_logger, _endPoint, BalancingStrategies.ToName(strategy));
        }
        catch
        {
            _metrics?.Dispose();
            using (_lifecycleLock.EnterScope())
            {
                _state = LifecycleState.Stopped;
            }

            throw;
        }

        using (_lifecycleLock.EnterScope())
        {
            // A StopAsync that arrived during the start leaves the state alone: its stop waits for this start and
            // then takes everything down.
            if (_state == LifecycleState.Starting)
            {
                _state = LifecycleState.Started;
            }
        }
    }

    private async Task StopCoreAsync()
    {
        if (_startTask is not null)
        {
            // A failed start has nothing to stop, and its caller already has the exception.
            await _startTask.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listener is null)
        {
            return;
        }

        await _listener.UnbindAsync().ConfigureAwait(false);
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        // Every read loop saw the stopping token: each connection is being told and closed gracefully by its
        // ServeAsync, bounded by the transport's close timeout. Disposing the listener afterwards aborts stragglers.
        var serving = new List<Task>(_connections.Count);
        foreach (KeyValuePair<long, Served> pair in _connections)
        {
            if (pair.Value.Task is { } task)
            {
                serving.Add(task);
            }
        }

        await Task.WhenAll(serving).ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
        BalancerLog.Stopped(_logger, _endPoint!);
        using (_lifecycleLock.EnterScope())
        {
            _state = LifecycleState.Stopped;
        }
    }

    private sealed class Served(FramedConnection connection, BalancerConnection handler)
    {
        public FramedConnection Connection { get; } = connection;

        public BalancerConnection Handler { get; } = handler;

        public Task? Task { get; set; }
    }
}
