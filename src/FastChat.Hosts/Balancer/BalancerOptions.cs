using System.ComponentModel.DataAnnotations;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Balancer;

/// <summary>The balancer's settings, bound from the <c>FastChat:Balancer</c> configuration section.</summary>
public sealed class BalancerOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "FastChat:Balancer";

    /// <summary>The address to listen on. Default <c>127.0.0.1</c>; use <c>0.0.0.0</c> or <c>::</c> to accept remote clients.</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The port clients and chat servers connect to (0 picks a free one). Default 7700.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 7700;

    /// <summary>How servers are chosen: <c>round-robin</c>, <c>random</c>, <c>least-connections</c>, <c>least-cpu</c>, <c>least-memory</c> or <c>power-of-two</c>. Default <c>round-robin</c>.</summary>
    [Required]
    public string Strategy { get; set; } = "round-robin";

    /// <summary>A server whose load reports stop for this long is no longer assigned. Default 3 s.</summary>
    public TimeSpan ServerTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a session token is valid. Default 12 h.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>The largest frame accepted from a peer. Default 1 MiB.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxFrameSize { get; set; } = ProtocolConstants.DefaultMaxFrameSize;

    /// <summary>The most concurrent connections (clients and servers). Default 10,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Failed sign-ins allowed per user name within <see cref="SignInFailureWindow"/> before further attempts are refused with <c>RateLimited</c>. Default 5.</summary>
    [Range(1, int.MaxValue)]
    public int MaxSignInFailuresPerUser { get; set; } = 5;

    /// <summary>Failed sign-ins allowed per remote address within <see cref="SignInFailureWindow"/>. Default 20.</summary>
    [Range(1, int.MaxValue)]
    public int MaxSignInFailuresPerAddress { get; set; } = 20;

    /// <summary>The window failed sign-ins are counted over. Default 1 minute.</summary>
    public TimeSpan SignInFailureWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The smallest PBKDF2 iteration count accepted at sign-up. Default 100,000.</summary>
    [Range(1, int.MaxValue)]
    public int MinKdfIterations { get; set; } = 100_000;
}
