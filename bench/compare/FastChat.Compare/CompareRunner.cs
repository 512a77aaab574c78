using System.Diagnostics;
using FastChat.Cli.Bench;
using FastChat.Compare.Targets;
using FastChat.Compare.Workloads;

namespace FastChat.Compare;

/// <summary>
/// Runs one workload against one target: connects and subscribes everything (confirmed) first, sends through a
/// warm-up and the measured window, stops sending, waits for what is still on its way (and, for FastChat, every
/// acknowledgement), then counts: lost (expected deliveries that never came), duplicates, throughput inside the
/// window, latency of the messages sent inside it, and the server's CPU time over it.
/// </summary>
internal sealed class CompareRunner
{
    /// <summary>After sending stops, how long to wait without a single new delivery or acknowledgement before counting the rest lost.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private readonly ITarget _target;
    private readonly WorkloadSettings _settings;
    private readonly IReadOnlyList<int> _serverPids;
    private readonly int _clockTicks;

    /// <summary>A runner of <paramref name="settings"/> against <paramref name="target"/>, reading the CPU time of <paramref name="serverPids"/>.</summary>
    public CompareRunner(ITarget target, WorkloadSettings settings, IReadOnlyList<int> serverPids, int clockTicks = 100)
    {
        _target = target;
        _settings = settings;
        _serverPids = serverPids;
        _clockTicks = clockTicks;
    }

    /// <summary>Runs to the end.</summary>
    /// <exception cref="IOException">Setting up failed: a connection, sign-up or subscription.</exception>
    public async Task<RunResult> RunAsync(CancellationToken cancellationToken)
    {
        var clock = new RunClock();
        Workload workload = Workload.Create(_settings, clock);
        try
        {
            long setUpStart = Stopwatch.GetTimestamp();
            await workload.SetUpAsync(_target, cancellationToken).ConfigureAwait(false);
            TimeSpan setUp = Stopwatch.GetElapsedTime(setUpStart);

            long start = Stopwatch.GetTimestamp();
            clock.MeasureStart = start + Ticks(_settings.Warmup);
            clock.MeasureEnd = clock.MeasureStart + Ticks(_settings.Duration);
            workload.Start();

            await DelayUntilAsync(clock.MeasureStart, cancellationToken).ConfigureAwait(false);
            double? cpuStart = ProcessCpu.Seconds(_serverPids, _clockTicks);
            TimeSpan clientCpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            await DelayUntilAsync(clock.MeasureEnd, cancellationToken).ConfigureAwait(false);
            double? cpuEnd = ProcessCpu.Seconds(_serverPids, _clockTicks);
            TimeSpan clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientCpuStart;
            clock.Stop();

            bool drained = await DrainAsync(workload, cancellationToken).ConfigureAwait(false);
            return Collect(workload, setUp, cpuStart is { } a && cpuEnd is { } b ? b - a : null, clientCpu, drained);
        }
        finally
        {
            clock.Stop();
            await DisposeAllAsync(workload.Peers).ConfigureAwait(false);
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        long wait = timestamp - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every expected delivery (and acknowledgement) is in, or nothing moves for <see cref="DrainTimeout"/>; returns whether all came.</summary>
    private async Task<bool> DrainAsync(Workload workload, CancellationToken cancellationToken)
    {
        long lastCount = -1;
        long lastProgress = Stopwatch.GetTimestamp();
        while (true)
        {
            WorkloadProgress progress = workload.Progress();
            (long acked, long ackFailures) = Acks(workload.Peers);
            bool acksIn = !_target.IsAcked || acked + ackFailures >= progress.Sent + EchoesOf(progress);
            if (progress.Delivered >= progress.Expected && acksIn)
            {
                return true;
            }

            long count = progress.Delivered + acked + ackFailures;
            if (count != lastCount)
            {
                lastCount = count;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress) >= DrainTimeout)
            {
                return false;
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Pingpong's echoes are sends of their own, acknowledged like the pings.</summary>
    private long EchoesOf(WorkloadProgress progress) => _settings.Kind == WorkloadKind.PingPong ? progress.Delivered : 0;

    private static (long Acked, long Failures) Acks(List<IPeer> peers)
    {
        long acked = 0, failures = 0;
        foreach (IPeer peer in peers)
        {
            acked += peer.Acked;
            failures += peer.AckFailures;
        }

        return (acked, failures);
    }

    private RunResult Collect(Workload workload, TimeSpan setUp, double? serverCpu, TimeSpan clientCpu, bool drained)
    {
        WorkloadProgress progress = workload.Progress();
        var latency = new LatencyHistogram();
        long measured = 0, duplicates = 0, unexpected = 0;
        foreach (ReceiverStats receiver in workload.Receivers())
        {
            latency.Merge(receiver.Latency);
            measured += receiver.Measured;
            duplicates += receiver.Duplicates;
            unexpected += receiver.Unexpected;
        }

        (long acked, long ackFailures) = Acks(workload.Peers);
        var errors = new List<string>();
        foreach (IPeer peer in workload.Peers)
        {
            if (peer.Failure is { } failure && errors.Count < 3 && !errors.Contains(failure.Message))
            {
                errors.Add(failure.Message);
            }
        }

        double seconds = _settings.Duration.TotalSeconds;
        double deliveriesPerSecond = measured / seconds;
        return new RunResult(
            _target.Name,
            _settings,
            progress.Sent,
            progress.Delivered,
            Math.Max(0, progress.Expected - progress.Delivered),
            duplicates,
            unexpected,
            progress.SendFailures,
            _target.IsAcked ? acked : null,
            _target.IsAcked ? ackFailures : null,
            deliveriesPerSecond / workload.RecipientsPerMessage,
            deliveriesPerSecond,
            latency,
            serverCpu,
            serverCpu is { } cpu && measured > 0 ? cpu * 1e6 / measured : null,
            clientCpu.TotalSeconds,
            setUp.TotalSeconds,
            drained,
            errors);
    }

    private static async Task DisposeAllAsync(List<IPeer> peers)
    {
        const int Batch = 64;
        var closing = new List<Task>(Batch);
        for (int first = 0; first < peers.Count; first += Batch)
        {
            closing.Clear();
            for (int i = first; i < Math.Min(peers.Count, first + Batch); i++)
            {
                closing.Add(peers[i].DisposeAsync().AsTask());
            }

            await Task.WhenAll(closing).ConfigureAwait(false);
        }
    }
}
