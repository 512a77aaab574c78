namespace FastChat.Cli.Bench;

/// <summary>One point of a <see cref="BenchTimeline"/>: the cumulative counts at a moment of the run.</summary>
/// <param name="Seconds">Seconds since the run started sending.</param>
/// <param name="Sent">Sends started so far (for pingpong including the echoes).</param>
/// <param name="Delivered">First deliveries so far.</param>
internal readonly record struct BenchTimelineSample(double Seconds, long Sent, long Delivered);

/// <summary>One step of throughput derived from two consecutive <see cref="BenchTimelineSample"/>s.</summary>
/// <param name="From">Where the step starts, in seconds since the run started sending.</param>
/// <param name="To">Where it ends.</param>
/// <param name="SentPerSecond">Sends per second over the step.</param>
/// <param name="DeliveredPerSecond">First deliveries per second over the step.</param>
internal readonly record struct BenchThroughputStep(double From, double To, double SentPerSecond, double DeliveredPerSecond);

/// <summary>
/// The run's counts over time, so that throughput over time is the difference between consecutive samples. The runner
/// offers it the counters it already polls (every few milliseconds, to watch for the end and for stalls); the timeline
/// keeps one sample per <see cref="Interval"/>, so it costs nothing per message.
/// </summary>
/// <remarks>
/// Memory stays bounded on a run of any length: when <see cref="MaxSamples"/> samples are kept, every second one is
/// dropped and the interval doubles, so a day-long run ends with at most that many points at a coarser step. Written by
/// the runner's watch loop alone; read once the run has ended.
/// </remarks>
internal sealed class BenchTimeline
{
    /// <summary>The first sampling interval: four points a second show ramp-up and hiccups on a run of a few seconds.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The most samples kept: 2048 points are more than a plot a page wide can show (and 2048 × 24 bytes is 48 KiB), yet
    /// an 8-minute run still keeps the 250 ms step.
    /// </summary>
    public const int DefaultMaxSamples = 2048;

    private readonly List<BenchTimelineSample> _samples = [];
    private readonly int _maxSamples;
    private double _nextSeconds;

    /// <summary>A timeline sampled every <see cref="DefaultInterval"/>, keeping at most <see cref="DefaultMaxSamples"/> points.</summary>
    public BenchTimeline()
        : this(DefaultInterval, DefaultMaxSamples)
    {
    }

    /// <summary>A timeline with its own interval and bound (tests use small ones).</summary>
    /// <param name="interval">The first sampling interval.</param>
    /// <param name="maxSamples">The most samples kept, at least 4.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is not positive, or <paramref name="maxSamples"/> is below 4.</exception>
    public BenchTimeline(TimeSpan interval, int maxSamples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSamples, 4);
        Interval = interval;
        _maxSamples = maxSamples;
    }

    /// <summary>The current sampling interval (it doubles each time the timeline thins itself out).</summary>
    public TimeSpan Interval { get; private set; }

    /// <summary>The samples, oldest first.</summary>
    public IReadOnlyList<BenchTimelineSample> Samples => _samples;

    /// <summary>The most samples kept.</summary>
    public int MaxSamples => _maxSamples;

    /// <summary>Offers the counts at <paramref name="elapsed"/>; they are kept when a sample is due (the first offer always is).</summary>
    /// <param name="elapsed">Time since the run started sending; offers come in order.</param>
    /// <param name="sent">Sends started so far.</param>
    /// <param name="delivered">First deliveries so far.</param>
    public void Observe(TimeSpan elapsed, long sent, long delivered)
    {
        double seconds = elapsed.TotalSeconds;
        if (_samples.Count != 0 && seconds < _nextSeconds)
        {
            return;
        }

        Add(new BenchTimelineSample(seconds, sent, delivered));
    }

    /// <summary>Records the counts at the end of the run, due or not, so that the timeline reaches the final totals.</summary>
    /// <param name="elapsed">Time since the run started sending.</param>
    /// <param name="sent">Sends started in all.</param>
    /// <param name="delivered">First deliveries in all.</param>
    public void Complete(TimeSpan elapsed, long sent, long delivered)
    {
        double seconds = elapsed.TotalSeconds;
        if (_samples.Count != 0 && _samples[^1].Seconds >= seconds)
        {
            // Offered at the same moment already: the later counts win.
            _samples[^1] = new BenchTimelineSample(_samples[^1].Seconds, sent, delivered);
            return;
        }

        Add(new BenchTimelineSample(seconds, sent, delivered));
    }

    /// <summary>Throughput between consecutive samples: one step fewer than there are samples.</summary>
    public BenchThroughputStep[] Steps()
    {
        var steps = new BenchThroughputStep[Math.Max(0, _samples.Count - 1)];
        for (int i = 0; i < steps.Length; i++)
        {
            BenchTimelineSample from = _samples[i];
            BenchTimelineSample to = _samples[i + 1];
            double seconds = to.Seconds - from.Seconds;
            steps[i] = seconds > 0
                ? new BenchThroughputStep(from.Seconds, to.Seconds, (to.Sent - from.Sent) / seconds, (to.Delivered - from.Delivered) / seconds)
                : new BenchThroughputStep(from.Seconds, to.Seconds, 0, 0);
        }

        return steps;
    }

    private void Add(BenchTimelineSample sample)
    {
        if (_samples.Count == _maxSamples)
        {
            Thin();
        }

        _samples.Add(sample);

        // Due one interval after this sample (not after the schedule): polls are late by a few milliseconds, and
        // scheduling from the sample keeps every step at least one interval long.
        _nextSeconds = sample.Seconds + Interval.TotalSeconds;
    }

    /// <summary>Keeps the first sample and every second one after it, and doubles the interval to match.</summary>
    private void Thin()
    {
        int kept = 0;
        for (int i = 0; i < _samples.Count; i += 2)
        {
            _samples[kept++] = _samples[i];
        }

        _samples.RemoveRange(kept, _samples.Count - kept);
        Interval *= 2;
    }
}
