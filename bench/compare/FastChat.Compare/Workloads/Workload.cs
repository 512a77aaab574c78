using System.Diagnostics;
using FastChat.Cli.Bench;
using FastChat.Compare.Targets;

namespace FastChat.Compare.Workloads;

/// <summary>The workloads, the same for every target.</summary>
internal enum WorkloadKind
{
    /// <summary>P pairs: sender i publishes to receiver i's topic; one-way latency.</summary>
    Dm,

    /// <summary>G receivers on one topic, S senders publishing to it; every message counted once per receiver.</summary>
    Group,

    /// <summary>P pairs, one message in flight each: A publishes to B, B echoes it back; round-trip latency.</summary>
    PingPong,
}

/// <summary>When a run measures and when it stops sending; shared by every sender and receiver of the run.</summary>
internal sealed class RunClock
{
    private int _stopped;

    /// <summary>The <see cref="Stopwatch"/> timestamp where measuring starts (the warm-up before it is not counted).</summary>
    public long MeasureStart { get; set; } = long.MaxValue;

    /// <summary>The <see cref="Stopwatch"/> timestamp where measuring ends.</summary>
    public long MeasureEnd { get; set; } = long.MaxValue;

    /// <summary>Whether sending has stopped (what is on its way still counts as it arrives).</summary>
    public bool IsStopped => Volatile.Read(ref _stopped) != 0;

    /// <summary>Stops sending.</summary>
    public void Stop() => Volatile.Write(ref _stopped, 1);

    /// <summary>Whether <paramref name="timestamp"/> is inside the measured window.</summary>
    public bool IsMeasured(long timestamp) => timestamp >= MeasureStart && timestamp < MeasureEnd;
}

/// <summary>One receiving side's counters; written by its receive loop only, read by the runner.</summary>
internal class ReceiverStats
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private long _delivered;
    private long _measured;
    private long _duplicates;
    private long _unexpected;

    /// <summary>A receiver of the run timed by <paramref name="clock"/>.</summary>
    protected ReceiverStats(RunClock clock) => Clock = clock;

    /// <summary>The run's clock.</summary>
    protected RunClock Clock { get; }

    /// <summary>Latencies of the messages sent inside the measured window, in nanoseconds.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>First deliveries.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>First deliveries that arrived inside the measured window.</summary>
    public long Measured => Volatile.Read(ref _measured);

    /// <summary>Second and later deliveries of a message.</summary>
    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Messages that were no part of the run: too short, an unknown sender, a sequence never sent.</summary>
    public long Unexpected => Volatile.Read(ref _unexpected);

    /// <summary>Counts a first delivery received at <paramref name="now"/> of a message sent at <paramref name="sentAt"/>.</summary>
    protected void CountDelivery(long now, long sentAt)
    {
        Volatile.Write(ref _delivered, _delivered + 1);
        if (Clock.IsMeasured(now))
        {
            Volatile.Write(ref _measured, _measured + 1);
        }

        if (Clock.IsMeasured(sentAt))
        {
            Latency.Record((long)((now - sentAt) * NanosecondsPerTick));
        }
    }

    /// <summary>Counts a duplicate.</summary>
    protected void CountDuplicate() => Volatile.Write(ref _duplicates, _duplicates + 1);

    /// <summary>Counts a message that was no part of the run.</summary>
    protected void CountUnexpected() => Interlocked.Increment(ref _unexpected);
}

/// <summary>A receiver that should hear nothing (a dm or group sender): whatever arrives is unexpected.</summary>
internal sealed class SilentSink : ReceiverStats, IMessageSink
{
    /// <summary>A sink for a run timed by <paramref name="clock"/>.</summary>
    public SilentSink(RunClock clock)
        : base(clock)
    {
    }

    /// <inheritdoc/>
    public void OnMessage(ReadOnlySpan<byte> payload) => CountUnexpected();
}

/// <summary>Where a run stands: messages sent, deliveries expected from them, first deliveries so far.</summary>
internal readonly record struct WorkloadProgress(long Sent, long Expected, long Delivered, long SendFailures);

/// <summary>One workload against one target: sets up its peers, opens every window, and sums its counters.</summary>
internal abstract class Workload
{
    /// <summary>How many connections are opened at once: sign-ups (FastChat) are CPU-bound.</summary>
    private const int ConnectBatch = 16;

    /// <summary>A workload with <paramref name="settings"/>, timed by <paramref name="clock"/>.</summary>
    protected Workload(WorkloadSettings settings, RunClock clock)
    {
        Settings = settings;
        Clock = clock;
    }

    /// <summary>The settings.</summary>
    public WorkloadSettings Settings { get; }

    /// <summary>The clock.</summary>
    public RunClock Clock { get; }

    /// <summary>Every connection, for failure checks and disposal.</summary>
    public List<IPeer> Peers { get; } = [];

    /// <summary>How many receivers each message has (G for group, 1 otherwise).</summary>
    public abstract int RecipientsPerMessage { get; }

    /// <summary>Connects every peer and subscribes (confirmed) before anything is sent.</summary>
    /// <exception cref="IOException">A connection or subscription failed.</exception>
    public abstract Task SetUpAsync(ITarget target, CancellationToken cancellationToken);

    /// <summary>Sends each sender's first window; from then on every completed message sends the next, until the clock stops.</summary>
    public abstract void Start();

    /// <summary>The run's counters now.</summary>
    public abstract WorkloadProgress Progress();

    /// <summary>Every receiver's counters (after the run).</summary>
    public abstract IEnumerable<ReceiverStats> Receivers();

    /// <summary>Creates the workload <paramref name="settings"/> describe.</summary>
    public static Workload Create(WorkloadSettings settings, RunClock clock) => settings.Kind switch
    {
        WorkloadKind.Dm => new DmWorkload(settings, clock),
        WorkloadKind.Group => new GroupWorkload(settings, clock),
        _ => new PingPongWorkload(settings, clock),
    };

    /// <summary>Opens <paramref name="count"/> connections, a batch at a time, each with the sink <paramref name="sinkOf"/> gives.</summary>
    /// <exception cref="IOException">A connection failed.</exception>
    protected async Task<IPeer[]> ConnectManyAsync(ITarget target, int count, PeerRoles roles, Func<int, IMessageSink> sinkOf, CancellationToken cancellationToken)
    {
        var peers = new IPeer[count];
        var batch = new Task<IPeer>[Math.Min(ConnectBatch, count)];
        for (int first = 0; first < count; first += batch.Length)
        {
            int end = Math.Min(count, first + batch.Length);
            for (int i = first; i < end; i++)
            {
                batch[i - first] = target.ConnectAsync(roles, sinkOf(i), cancellationToken);
            }

            Exception? failure = null;
            for (int i = first; i < end; i++)
            {
                try
                {
                    peers[i] = await batch[i - first].ConfigureAwait(false);
                    Peers.Add(peers[i]);
                }
                catch (IOException ex)
                {
                    failure ??= ex;
                }
            }

            if (failure is not null)
            {
                throw new IOException($"Connecting to {target.Name} failed: {failure.Message}", failure);
            }
        }

        return peers;
    }
}
