using System.ComponentModel.DataAnnotations;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Server;

/// <summary>A chat server's settings, bound from the <c>FastChat:Server</c> configuration section.</summary>
public sealed class ChatServerOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "FastChat:Server";

    /// <summary>The server's id, unique in the cluster (it appears in session tokens and presence records).</summary>
    [Required]
    public string Id { get; set; } = string.Empty;

    /// <summary>The address to listen on. Default <c>127.0.0.1</c>.</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The port clients and peer servers connect to (0 picks a free one). Default 0.</summary>
    [Range(0, 65535)]
    public int Port { get; set; }

    /// <summary>The host name or address the balancer hands to clients and peers use; defaults to <see cref="Host"/> (or 127.0.0.1 when listening on any address).</summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>The balancer to register with, as <c>HOST:PORT</c>. Default <c>127.0.0.1:7700</c>.</summary>
    [Required]
    public string Balancer { get; set; } = "127.0.0.1:7700";

    /// <summary>How often the server reports its load to the balancer (also its heartbeat). Default 1 s.</summary>
    public TimeSpan LoadReportInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The largest frame accepted from a peer. Default 1 MiB.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxFrameSize { get; set; } = ProtocolConstants.DefaultMaxFrameSize;

    /// <summary>The most concurrent connections. Default 10,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>The largest file a user may send. Default 16 MiB.</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileSize { get; set; } = 16L * 1024 * 1024;

    /// <summary>The member limit given to new groups (the admin counts). Default 100.</summary>
    [Range(1, 100_000)]
    public int GroupMemberLimit { get; set; } = 100;

    /// <summary>Bytes that may wait unsent for one connection before it is disconnected as a slow consumer. Default 4 MiB.</summary>
    [Range(64 * 1024, long.MaxValue)]
    public long MaxSendBufferBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// How long a live delivery may wait for the recipient's ack before the message is stored for later delivery and the
    /// sender acknowledged. Default 2 s: short enough that a recipient which is connected but slow to process (or an app
    /// that reads its events only after sending) never holds a sender past its request timeout (10 s in the client SDK).
    /// </summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a graceful shutdown waits for clients to leave after telling them to reconnect. Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
