using System.Collections.Concurrent;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using Microsoft.Extensions.Logging;

namespace FastChat.Hosts.Server.Internal;

/// <summary>Everything the parts of one chat server share: settings, store, key, clock, logs, metrics and the in-memory maps.</summary>
internal sealed class ServerContext
{
    // Bounded: past this many distinct recipients the cache of known accounts starts over.
    private const int MaxKnownUsers = 100_000;

    private readonly ConcurrentDictionary<string, byte> _knownUsers = new(StringComparer.Ordinal);
    private readonly long _deliveryTimeoutTicks;
    private volatile bool _shuttingDown;

    public ServerContext(
        ChatServerOptions options,
        IChatStore store,
        ClusterKey clusterKey,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        ServerMetrics metrics,
        CancellationToken stopping)
    {
        Options = options;
        ServerId = options.Id;
        Store = store;
        ClusterKey = clusterKey;
        LoggerFactory = loggerFactory;
        Logger = loggerFactory.CreateLogger<ChatServer>();
        TimeProvider = timeProvider;
        Metrics = metrics;
        Stopping = stopping;
        Groups = new GroupCache(timeProvider);
        _deliveryTimeoutTicks = (long)(options.DeliveryTimeout.TotalSeconds * timeProvider.TimestampFrequency);
        Router = new MessageRouter(this);
        Peers = new PeerLinks(this);
    }

    public ChatServerOptions Options { get; }

    public string ServerId { get; }

    public IChatStore Store { get; }

    public ClusterKey ClusterKey { get; }

    public ILoggerFactory LoggerFactory { get; }

    public ILogger Logger { get; }

    public TimeProvider TimeProvider { get; }

    public ServerMetrics Metrics { get; }

    /// <summary>Cancelled when the server stops for good: store calls and background loops give up.</summary>
    public CancellationToken Stopping { get; }

    public SessionRegistry Sessions { get; } = new();

    public RemotePresence RemotePresence { get; } = new();

    public GroupCache Groups { get; }

    public RelayedDeliveries Relayed { get; } = new();

    public MessageRouter Router { get; }

    public PeerLinks Peers { get; }

    /// <summary>Set once a graceful stop has begun: new sessions are refused.</summary>
    public bool IsShuttingDown
    {
        get => _shuttingDown;
        set => _shuttingDown = value;
    }

    public DateTime UtcNow => TimeProvider.GetUtcNow().UtcDateTime;

    /// <summary>When a delivery written now stops waiting for its ack.</summary>
    public long NewDeliveryDeadline() => TimeProvider.GetTimestamp() + _deliveryTimeoutTicks;

    /// <summary>When a relayed copy stops waiting for the peer's receipt: later than the peer's own deadline, so the peer decides first.</summary>
    public long NewRelayDeadline() => TimeProvider.GetTimestamp() + (2 * _deliveryTimeoutTicks);

    /// <summary>Whether an account exists; accounts are never deleted, so known names are cached.</summary>
    public async ValueTask<bool> UserExistsAsync(string userName, CancellationToken cancellationToken)
    {
        if (!Names.IsValid(userName, out _))
        {
            return false;
        }

        if (_knownUsers.ContainsKey(userName) || Sessions.TryGet(userName, out _))
        {
            return true;
        }

        Account? account = await Store.GetAccountAsync(userName, cancellationToken).ConfigureAwait(false);
        if (account is null)
        {
            return false;
        }

        if (_knownUsers.Count >= MaxKnownUsers)
        {
            _knownUsers.Clear();
        }

        _knownUsers.TryAdd(userName, 0);
        return true;
    }
}
