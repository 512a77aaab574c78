using FastChat.Cli.Bench;

namespace FastChat.Cli.Tests.Bench;

/// <summary>The per-interval sampler behind the throughput-over-time plot.</summary>
public sealed class BenchTimelineTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    [Fact]
    public void Observe_OfferedEveryPoll_KeepsOneSamplePerInterval()
    {
        var timeline = new BenchTimeline();

        // The runner's watch loop offers the counts every 20 ms; two seconds of it.
        for (int i = 0; i <= 100; i++)
        {
            timeline.Observe(Poll * i, i * 10, i * 9);
        }

        IReadOnlyList<BenchTimelineSample> samples = timeline.Samples;
        Assert.Equal(0, samples[0].Seconds);
        Assert.Equal(8, samples.Count);
        for (int i = 1; i < samples.Count; i++)
        {
            double gap = samples[i].Seconds - samples[i - 1].Seconds;
            Assert.InRange(gap, BenchTimeline.DefaultInterval.TotalSeconds, (BenchTimeline.DefaultInterval + Poll).TotalSeconds + 1e-9);
            Assert.Equal((long)Math.Round(samples[i].Seconds / Poll.TotalSeconds) * 10, samples[i].Sent);
        }
    }

    [Fact]
    public void Complete_AfterTheLastSample_AddsTheFinalTotals()
    {
        var timeline = new BenchTimeline();
        timeline.Observe(TimeSpan.Zero, 0, 0);
        timeline.Observe(TimeSpan.FromMilliseconds(100), 50, 40);

        timeline.Complete(TimeSpan.FromMilliseconds(180), 90, 90);

        Assert.Equal(2, timeline.Samples.Count);
        Assert.Equal(new BenchTimelineSample(0.18, 90, 90), timeline.Samples[^1]);
    }

    [Fact]
    public void Complete_AtTheTimeOfTheLastSample_ReplacesItsCounts()
    {
        var timeline = new BenchTimeline();
        timeline.Observe(TimeSpan.Zero, 0, 0);
        timeline.Observe(TimeSpan.FromSeconds(0.25), 100, 80);

        timeline.Complete(TimeSpan.FromSeconds(0.25), 100, 100);

        Assert.Equal(2, timeline.Samples.Count);
        Assert.Equal(new BenchTimelineSample(0.25, 100, 100), timeline.Samples[^1]);
    }

    /// <summary>Guards memory on long runs: the timeline never keeps more than its bound, however long the run.</summary>
    [Fact]
    public void Observe_LongRun_ThinsOutToTheBoundAndDoublesTheInterval()
    {
        var timeline = new BenchTimeline(TimeSpan.FromSeconds(1), maxSamples: 8);

        for (int second = 0; second <= 100; second++)
        {
            timeline.Observe(TimeSpan.FromSeconds(second), second, second);
            Assert.True(timeline.Samples.Count <= 8, $"{timeline.Samples.Count} samples after {second} s");
        }

        Assert.Equal(0, timeline.Samples[0].Seconds);
        Assert.True(timeline.Interval >= TimeSpan.FromSeconds(8), $"interval {timeline.Interval}");
        for (int i = 1; i < timeline.Samples.Count; i++)
        {
            Assert.True(timeline.Samples[i].Seconds > timeline.Samples[i - 1].Seconds);
            Assert.Equal((long)timeline.Samples[i].Seconds, timeline.Samples[i].Delivered);
        }

        Assert.True(timeline.Samples[^1].Seconds >= 90, $"last sample at {timeline.Samples[^1].Seconds} s");
    }

    [Fact]
    public void Steps_ConsecutiveSamples_GiveTheRatesBetweenThem()
    {
        var timeline = new BenchTimeline();
        timeline.Observe(TimeSpan.Zero, 0, 0);
        timeline.Observe(TimeSpan.FromSeconds(0.5), 1000, 800);
        timeline.Observe(TimeSpan.FromSeconds(1.5), 1500, 1500);

        BenchThroughputStep[] steps = timeline.Steps();

        Assert.Equal(2, steps.Length);
        Assert.Equal(new BenchThroughputStep(0, 0.5, 2000, 1600), steps[0]);
        Assert.Equal(new BenchThroughputStep(0.5, 1.5, 500, 700), steps[1]);
    }

    [Fact]
    public void Steps_OneSampleOrNone_AreEmpty()
    {
        var timeline = new BenchTimeline();
        Assert.Empty(timeline.Steps());

        timeline.Observe(TimeSpan.Zero, 0, 0);
        Assert.Empty(timeline.Steps());
    }
}
