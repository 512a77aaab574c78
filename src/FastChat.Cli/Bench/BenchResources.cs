namespace FastChat.Cli.Bench;

/// <summary>One chat server's CPU and memory over a bench run, from its load reports to the balancer.</summary>
/// <param name="ServerId">The server's id, as the balancer reports it (data from the network: escape it when displayed).</param>
/// <param name="Reports">How many distinct load reports were seen during the run.</param>
/// <param name="MeanCpu">The mean of the reported CPU use, as a fraction of the whole machine (0..1).</param>
/// <param name="MaxCpu">The highest reported CPU use, as a fraction of the machine.</param>
/// <param name="PeakMemoryBytes">The highest reported working set, in bytes.</param>
internal sealed record ServerUsage(string ServerId, int Reports, double MeanCpu, double MaxCpu, long PeakMemoryBytes);

/// <summary>What the chat servers and the bench process itself used while a run measured.</summary>
/// <param name="Servers">Each server that reported during the run, ordered by id.</param>
/// <param name="ServersInProcess">
/// Whether the servers ran in the bench process (<c>--spawn</c>): then each server's figures are the whole process's,
/// load generator included, and the totals count the process once.
/// </param>
/// <param name="Elapsed">How long the sampling covered: from the first send to the end of the run.</param>
/// <param name="ProcessorCount">The machine's logical processors, which a CPU fraction is a fraction of.</param>
/// <param name="MeanTotalCpu">The servers' mean CPU use together, as a fraction of the machine.</param>
/// <param name="MaxTotalCpu">The servers' highest CPU use together at one sample, as a fraction of the machine.</param>
/// <param name="ServerCpuTime">The CPU time the servers used over <paramref name="Elapsed"/> (summed over cores).</param>
/// <param name="BenchCpuTime">The CPU time this process used over <paramref name="Elapsed"/>: the load generator's share (and with --spawn, the servers' too).</param>
/// <param name="Problem">Why server figures are missing or partial (the balancer could not be asked), or <see langword="null"/>.</param>
internal sealed record BenchResources(
    IReadOnlyList<ServerUsage> Servers,
    bool ServersInProcess,
    TimeSpan Elapsed,
    int ProcessorCount,
    double MeanTotalCpu,
    double MaxTotalCpu,
    TimeSpan ServerCpuTime,
    TimeSpan BenchCpuTime,
    string? Problem)
{
    /// <summary>The bench process's mean CPU use as a fraction of the machine.</summary>
    public double BenchCpu => Elapsed > TimeSpan.Zero && ProcessorCount > 0 ? BenchCpuTime.TotalSeconds / (Elapsed.TotalSeconds * ProcessorCount) : 0;

    /// <summary>The servers' CPU time per first delivery in microseconds, or <see langword="null"/> without deliveries or server figures.</summary>
    /// <param name="delivered">The run's first deliveries.</param>
    public double? ServerCpuMicrosecondsPerDelivery(long delivered) =>
        delivered > 0 && (Servers.Count != 0 || ServersInProcess) ? ServerCpuTime.TotalSeconds * 1e6 / delivered : null;
}
