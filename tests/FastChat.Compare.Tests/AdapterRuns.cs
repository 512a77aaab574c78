using FastChat.Compare.Targets;
using FastChat.Compare.Workloads;

namespace FastChat.Compare.Tests;

/// <summary>Small runs of each workload against a real target, and the checks every healthy run passes.</summary>
internal static class AdapterRuns
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The settings of a small run of <paramref name="workload"/>: a few connections, short windows, under a second.
    /// No warm-up: the first window goes out inside the measured one, so its latencies are recorded however slowly a
    /// loaded machine runs the rest.
    /// </summary>
    public static WorkloadSettings Small(string workload) => workload switch
    {
        "dm" => new WorkloadSettings(WorkloadKind.Dm, 3, 0, 0, 64, 8, TimeSpan.Zero, TimeSpan.FromSeconds(0.6)),
        "group" => new WorkloadSettings(WorkloadKind.Group, 0, 5, 2, 256, 4, TimeSpan.Zero, TimeSpan.FromSeconds(0.6)),
        "dm-1k" => new WorkloadSettings(WorkloadKind.Dm, 2, 0, 0, 1024, 8, TimeSpan.Zero, TimeSpan.FromSeconds(0.6)),
        _ => new WorkloadSettings(WorkloadKind.PingPong, 1, 0, 0, 64, 1, TimeSpan.Zero, TimeSpan.FromSeconds(0.6)),
    };

    /// <summary>Runs <paramref name="workload"/> against <paramref name="target"/> and checks it was healthy: every message delivered once to every recipient, and latencies recorded.</summary>
    public static async Task<RunResult> RunHealthyAsync(ITarget target, string workload, int serverPid)
    {
        WorkloadSettings settings = Small(workload);
        RunResult result = await new CompareRunner(target, settings, [serverPid]).RunAsync(CancellationToken.None).WaitAsync(RunTimeout);
        string json = result.ToJson();
        Assert.True(result.Errors.Count == 0, json);
        Assert.True(result.Sent > 0, json);
        Assert.Equal(0, result.Lost);
        Assert.Equal(0, result.Duplicates);
        Assert.Equal(0, result.Unexpected);
        Assert.Equal(0, result.SendFailures);
        Assert.True(result.Drained, json);
        int recipients = settings.Kind == WorkloadKind.Group ? settings.GroupSize : 1;
        Assert.Equal(result.Sent * recipients, result.Delivered);
        Assert.True(result.Latency.Count > 0, json);
        Assert.True(result.Latency.ValueAtPercentile(50) > 0, json);
        Assert.True(result.DeliveriesPerSecond > 0, json);
        Assert.NotNull(result.ServerCpuSeconds);
        Assert.True(result.IsHealthy, json);
        if (target.IsAcked)
        {
            // Every send acknowledged: pings and their echoes for pingpong.
            Assert.Equal(0, result.AckFailures);
            long sends = settings.Kind == WorkloadKind.PingPong ? 2 * result.Sent : result.Sent;
            Assert.Equal(sends, result.Acked);
        }
        else
        {
            Assert.Null(result.Acked);
        }

        return result;
    }
}
