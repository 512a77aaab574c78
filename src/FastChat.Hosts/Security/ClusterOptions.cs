namespace FastChat.Hosts.Security;

/// <summary>The cluster's shared secret, bound from the <c>FastChat:Cluster</c> configuration section. Set <see cref="Key"/> or <see cref="KeyFile"/>.</summary>
public sealed class ClusterOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "FastChat:Cluster";

    /// <summary>The cluster key as base64 (32 bytes).</summary>
    public string? Key { get; set; }

    /// <summary>A file holding the cluster key as base64.</summary>
    public string? KeyFile { get; set; }
}
