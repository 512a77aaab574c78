using FastChat.Cli.Bench;

namespace FastChat.Cli.Tests.Bench;

public sealed class LoadShapeTests
{
    private const long Frequency = 1_000_000; // one tick a microsecond, to keep the expectations readable

    [Theory]
    [InlineData(100_000, 1)]
    [InlineData(100_000, 3)]
    [InlineData(7, 16)]
    [InlineData(1_000_001, 1000)]
    public void ShareOf_Total_SharesAddUpAndDifferByAtMostOne(long total, int senders)
    {
        long sum = 0, smallest = long.MaxValue, largest = 0;
        for (int i = 0; i < senders; i++)
        {
            long share = LoadShape.ShareOf(total, senders, i);
            sum += share;
            smallest = Math.Min(smallest, share);
            largest = Math.Max(largest, share);
        }

        Assert.Equal(total, sum);
        Assert.InRange(largest - smallest, 0, 1);
    }

    [Fact]
    public void ShareOf_NoMessageCount_IsUnbounded()
    {
        Assert.Equal(long.MaxValue, LoadShape.ShareOf(null, 4, 2));
    }

    [Fact]
    public void IntendedTimestamp_FourSendersAt2000PerSecond_EachSenderEvery2Milliseconds()
    {
        var shape = new LoadShape(start: 5_000, senders: 4, rate: 2000, duration: null, Frequency);

        Assert.Equal(5_000, shape.IntendedTimestamp(0));
        Assert.Equal(7_000, shape.IntendedTimestamp(1));
        Assert.Equal(5_000 + (999 * 2_000), shape.IntendedTimestamp(999));
    }

    /// <summary>
    /// Guards against coordinated omission: the schedule is fixed by the start and the rate alone, so a message due
    /// during a stall keeps its due time and the stall shows in its latency, instead of the schedule sliding with it.
    /// </summary>
    [Fact]
    public void IntendedTimestamp_AfterAStall_StaysOnTheOriginalSchedule()
    {
        var shape = new LoadShape(start: 0, senders: 1, rate: 1000, duration: null, Frequency);
        var latency = new LatencyHistogram();
        long now = 0;
        for (long i = 0; i < 100; i++)
        {
            long due = shape.IntendedTimestamp(i);

            // The cluster stalls for 50 ms at message 10; every message after it goes out late, at "now".
            now = i == 10 ? due + 50_000 : Math.Max(now, due);
            latency.Record((now - due) * 1000);
        }

        // Messages 10..59 were due during the stall: 50 of them waited 50 ms down to 1 ms (mean of all 100: 12.75 ms).
        // A schedule that slid with the stall would have recorded one 50 ms sample and 99 zeros (mean 0.5 ms).
        Assert.Equal(60_000, shape.IntendedTimestamp(60));
        Assert.Equal(50_000_000, latency.Max, tolerance: 50_000_000 / 100);
        Assert.Equal(12_750_000, latency.Mean, tolerance: 12_750_000 / 100);
        Assert.InRange(latency.ValueAtPercentile(75), 20_000_000, 30_000_000);
        Assert.Equal(0, latency.Min);
    }

    [Fact]
    public void IsPastEnd_TenSecondDuration_EndsExactlyAtStartPlusDuration()
    {
        var shape = new LoadShape(start: 1_000, senders: 2, rate: 100, duration: TimeSpan.FromSeconds(10), Frequency);

        Assert.False(shape.IsPastEnd(1_000 + 9_999_999));
        Assert.True(shape.IsPastEnd(1_000 + 10_000_000));

        // 100 msgs/s over 2 senders: each sender's 500th message (index 500) is the first past the end.
        Assert.False(shape.IsPastEnd(shape.IntendedTimestamp(499)));
        Assert.True(shape.IsPastEnd(shape.IntendedTimestamp(500)));
    }

    [Fact]
    public void IsPastEnd_NoDuration_NeverEnds()
    {
        var shape = new LoadShape(start: 0, senders: 1, rate: null, duration: null, Frequency);

        Assert.False(shape.IsPastEnd(long.MaxValue - 1));
    }
}
