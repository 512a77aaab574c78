namespace FastChat.Compare.Workloads;

/// <summary>One run's workload settings.</summary>
/// <param name="Kind">The workload.</param>
/// <param name="Pairs">dm and pingpong: how many pairs.</param>
/// <param name="GroupSize">group: how many receivers (G).</param>
/// <param name="Senders">group: how many senders (S).</param>
/// <param name="Size">The body size in bytes (at least <see cref="MessageBody.HeaderSize"/>).</param>
/// <param name="Window">Messages in flight per pair or sender (pingpong: 1).</param>
/// <param name="Warmup">Sending before the measured window, not counted.</param>
/// <param name="Duration">The measured window.</param>
internal sealed record WorkloadSettings(
    WorkloadKind Kind,
    int Pairs,
    int GroupSize,
    int Senders,
    int Size,
    int Window,
    TimeSpan Warmup,
    TimeSpan Duration)
{
    /// <summary>The run's parameters in one short string (dm P=16 64B W=64, ...).</summary>
    public string Describe() => Kind switch
    {
        WorkloadKind.Dm => $"dm P={Pairs} {Size}B W={Window}",
        WorkloadKind.Group => $"group G={GroupSize} S={Senders} {Size}B W={Window}",
        _ => $"pingpong P={Pairs} {Size}B",
    };
}
