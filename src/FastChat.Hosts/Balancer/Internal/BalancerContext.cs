using FastChat.Hosts.Security;
using Microsoft.Extensions.Logging;

namespace FastChat.Hosts.Balancer.Internal;

/// <summary>What every connection of a running balancer shares: fixed once the balancer has started.</summary>
internal sealed class BalancerContext(
    BalancerOptions options,
    ClusterKey clusterKey,
    ServerRegistry registry,
    BalancerAccounts accounts,
    ILogger logger,
    TimeProvider timeProvider)
{
    /// <summary>How far a registration proof's issue time may be from the balancer's clock, either way.</summary>
    public static readonly TimeSpan MaxProofSkew = TimeSpan.FromMinutes(5);

    public BalancerOptions Options { get; } = options;

    public ClusterKey ClusterKey { get; } = clusterKey;

    public ServerRegistry Registry { get; } = registry;

    public BalancerAccounts Accounts { get; } = accounts;

    public ILogger Logger { get; } = logger;

    public TimeProvider TimeProvider { get; } = timeProvider;
}
