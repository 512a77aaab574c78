using FastChat.Cli.Bench;

namespace FastChat.Cli.Tests.Bench;

public sealed class LatencyHistogramTests
{
    // The bucket width is at most 1/128 of a value; the reported middle of a bucket is within half of that.
    private const double RelativeErrorBound = 0.01;

    private static readonly double[] Percentiles = [0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

    [Fact]
    public void Record_ValuesBelow256_AreKeptExactly()
    {
        var histogram = new LatencyHistogram();
        for (long value = 1; value <= 200; value++)
        {
            histogram.Record(value);
        }

        Assert.Equal(200, histogram.Count);
        Assert.Equal(1, histogram.Min);
        Assert.Equal(200, histogram.Max);
        Assert.Equal(100.5, histogram.Mean);
        Assert.Equal(1, histogram.ValueAtPercentile(0));
        Assert.Equal(1, histogram.ValueAtPercentile(0.5));
        Assert.Equal(100, histogram.ValueAtPercentile(50));
        Assert.Equal(180, histogram.ValueAtPercentile(90));
        Assert.Equal(198, histogram.ValueAtPercentile(99));
        Assert.Equal(200, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void ValueAtPercentile_RandomLatencies_WithinOnePercentOfSortedReference()
    {
        var random = new Random(20261122);
        var histogram = new LatencyHistogram();
        long[] values = new long[100_000];
        for (int i = 0; i < values.Length; i++)
        {
            // Log-uniform from 1 µs to 1 min: every octave of the range gets its share.
            values[i] = (long)Math.Exp(Math.Log(1_000) + (random.NextDouble() * (Math.Log(60e9) - Math.Log(1_000))));
            histogram.Record(values[i]);
        }

        Array.Sort(values);
        foreach (double percentile in Percentiles)
        {
            long expected = values[Math.Max(0, (int)Math.Ceiling(percentile / 100 * values.Length) - 1)];
            long actual = histogram.ValueAtPercentile(percentile);
            Assert.True(
                Math.Abs(actual - expected) <= expected * RelativeErrorBound,
                $"p{percentile}: the histogram says {actual} ns, the sorted values {expected} ns.");
        }

        Assert.Equal(values[^1], histogram.Max);
        Assert.Equal(values[0], histogram.Min);
        Assert.Equal(values.Length, histogram.Count);
    }

    [Fact]
    public void IndexOf_EveryBucketAboveTheExactRange_IsAtMostOnePart_In128_Wide()
    {
        var random = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            long value = 256 + (long)(random.NextDouble() * (LatencyHistogram.HighestTrackableValue - 256));
            int index = LatencyHistogram.IndexOf(value);
            long lowest = LatencyHistogram.LowestOf(index);
            long next = LatencyHistogram.LowestOf(index + 1);
            Assert.InRange(value, lowest, next - 1);
            Assert.True(next - lowest <= lowest / 128.0, $"bucket [{lowest}, {next}) is wider than 1/128 of its lower edge.");
        }
    }

    [Fact]
    public void Merge_TwoHistograms_MatchesOneWithEveryValue()
    {
        var random = new Random(42);
        var all = new LatencyHistogram();
        var first = new LatencyHistogram();
        var second = new LatencyHistogram();
        for (int i = 0; i < 20_000; i++)
        {
            long value = random.NextInt64(1_000, 50_000_000);
            all.Record(value);
            (i % 3 == 0 ? first : second).Record(value);
        }

        first.Merge(second);
        first.Merge(new LatencyHistogram());

        Assert.Equal(all.Count, first.Count);
        Assert.Equal(all.Min, first.Min);
        Assert.Equal(all.Max, first.Max);
        Assert.Equal(all.Mean, first.Mean, 6);
        foreach (double percentile in Percentiles)
        {
            Assert.Equal(all.ValueAtPercentile(percentile), first.ValueAtPercentile(percentile));
        }
    }

    [Fact]
    public void Max_ValueBeyondTheTrackableRange_IsStillExact()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_234_567);
        histogram.Record(LatencyHistogram.HighestTrackableValue + 12_345);

        Assert.Equal(LatencyHistogram.HighestTrackableValue + 12_345, histogram.Max);
        Assert.Equal(histogram.Max, histogram.ValueAtPercentile(100));
        Assert.InRange(histogram.ValueAtPercentile(50), 1_234_567 * 0.99, 1_234_567 * 1.01);
    }

    /// <summary>Guards against a negative latency (a body header from another clock) landing outside the buckets.</summary>
    [Fact]
    public void Record_NegativeValue_CountsAsZero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);

        Assert.Equal(1, histogram.Count);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(0, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void Empty_ReportsZeroes()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(0, histogram.Min);
        Assert.Equal(0, histogram.Mean);
        Assert.Equal(0, histogram.ValueAtPercentile(99.9));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(100.1)]
    [InlineData(double.NaN)]
    public void ValueAtPercentile_OutOfRange_Throws(double percentile)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1_000);

        Assert.Throws<ArgumentOutOfRangeException>(() => histogram.ValueAtPercentile(percentile));
    }
}
