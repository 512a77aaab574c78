using FastChat.Cli.Bench;

namespace FastChat.Cli.Tests.Bench;

/// <summary><see cref="LatencyHistogram.PercentileDistribution"/>, the data of the report's latency plot.</summary>
public sealed class LatencyDistributionTests
{
    [Fact]
    public void PercentileDistribution_Empty_IsEmpty()
    {
        Assert.Empty(new LatencyHistogram().PercentileDistribution());
    }

    [Fact]
    public void PercentileDistribution_ExactValues_GivesEachValueItsCumulativePercentage()
    {
        var histogram = new LatencyHistogram();
        for (long value = 1; value <= 200; value++)
        {
            histogram.Record(value);
        }

        (double Percentile, long Value)[] points = histogram.PercentileDistribution();

        // Below 256 every value has a bucket of its own: the start point, then one point per value.
        Assert.Equal(201, points.Length);
        Assert.Equal((0, 1L), points[0]);
        Assert.Equal((0.5, 1L), points[1]);
        Assert.Equal((50, 100L), points[100]);
        Assert.Equal((100, 200L), points[^1]);
    }

    [Fact]
    public void PercentileDistribution_WideRange_IsMonotoneAndEndsAtTheExactMaximum()
    {
        var histogram = new LatencyHistogram();
        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            histogram.Record((long)(Math.Pow(random.NextDouble(), 3) * 50_000_000));
        }

        histogram.Record(123_456_789);

        (double Percentile, long Value)[] points = histogram.PercentileDistribution();

        Assert.True(points.Length > 100, $"{points.Length} points");
        Assert.Equal((0, histogram.Min), points[0]);
        Assert.Equal((100, 123_456_789L), points[^1]);
        for (int i = 1; i < points.Length; i++)
        {
            Assert.True(points[i].Percentile > points[i - 1].Percentile, $"percentile does not rise at {i}");
            Assert.True(points[i].Value >= points[i - 1].Value, $"value falls at {i}");
        }

        // Each point agrees with ValueAtPercentile. A point's percentage is its bucket's last rank divided by the count;
        // asked a hair below it, nearest rank cannot round up into the next bucket through floating-point error.
        foreach ((double percentile, long value) in points)
        {
            long reported = histogram.ValueAtPercentile(Math.Max(0, percentile - 1e-9));
            Assert.True(reported == value, $"p{percentile}: {value} vs {reported}");
        }
    }
}
