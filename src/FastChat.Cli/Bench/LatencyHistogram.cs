using System.Numerics;

namespace FastChat.Cli.Bench;

/// <summary>
/// A log-bucketed latency histogram in nanoseconds, in the manner of HdrHistogram: values below 256 ns are kept exactly,
/// and every power-of-two range above is split into 128 equal sub-buckets, so a recorded value is known to within 1/128
/// (0.8%) of itself. Values from 0 up to <see cref="HighestTrackableValue"/> (about 68.7 s) are bucketed; larger ones
/// are counted in the top bucket and still reported exactly by <see cref="Max"/>.
/// </summary>
/// <remarks>
/// Not thread-safe: each worker records into its own histogram and the run merges them at the end, so recording never
/// contends. <see cref="Record"/> allocates nothing.
/// </remarks>
internal sealed class LatencyHistogram
{
    /// <summary>The largest value a bucket distinguishes: 2^36 - 1 ns, just over a minute.</summary>
    public const long HighestTrackableValue = (1L << 36) - 1;

    // 128 sub-buckets per octave bound the bucket width to 1/128 of its lower edge; the first 256 values (two
    // "octaves" at unit width) are exact.
    private const int SubBucketBits = 7;
    private const int SubBucketCount = 1 << SubBucketBits;
    private const int ExactLimit = 2 * SubBucketCount;

    // Octaves 8..35 (shift 1..28) above the exact range.
    private const int BucketCount = ExactLimit + ((36 - SubBucketBits - 1) * SubBucketCount);

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _sum;
    private long _min = long.MaxValue;
    private long _max;

    /// <summary>How many values were recorded.</summary>
    public long Count => _count;

    /// <summary>The largest recorded value, exactly (0 when empty).</summary>
    public long Max => _max;

    /// <summary>The smallest recorded value, exactly (0 when empty).</summary>
    public long Min => _count == 0 ? 0 : _min;

    /// <summary>The mean of the recorded values, exactly (0 when empty).</summary>
    public double Mean => _count == 0 ? 0 : (double)_sum / _count;

    /// <summary>Records one value in nanoseconds; a negative value (clocks never run backwards, but be safe) counts as 0.</summary>
    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        _counts[IndexOf(value)]++;
        _count++;
        _sum += value;
        if (value < _min)
        {
            _min = value;
        }

        if (value > _max)
        {
            _max = value;
        }
    }

    /// <summary>Adds every value recorded in <paramref name="other"/> to this histogram.</summary>
    public void Merge(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._count == 0)
        {
            return;
        }

        for (int i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        _count += other._count;
        _sum += other._sum;
        _min = Math.Min(_min, other._min);
        _max = Math.Max(_max, other._max);
    }

    /// <summary>
    /// The value at or below which <paramref name="percentile"/> percent of the recorded values lie (nearest rank): the
    /// middle of the bucket holding that rank (so within 1/256 of any value in it), never above <see cref="Max"/> nor
    /// below <see cref="Min"/>; the first and last ranks are <see cref="Min"/> and <see cref="Max"/> exactly. 0 when empty.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percentile"/> is not within 0..100.</exception>
    public long ValueAtPercentile(double percentile)
    {
        if (percentile is < 0 or > 100 || double.IsNaN(percentile))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "A percentile is between 0 and 100.");
        }

        if (_count == 0)
        {
            return 0;
        }

        // The rank of the value, counted from 1, as a sorted array would give it (nearest-rank method).
        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * _count));
        if (rank == 1)
        {
            return Min;
        }

        if (rank >= _count)
        {
            // The last rank is the largest value, which is known exactly (even beyond the bucketed range).
            return _max;
        }

        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Clamp(MiddleOf(i), Min, _max);
            }
        }

        return _max;
    }

    /// <summary>
    /// The percentile distribution, for plotting: the point (0, <see cref="Min"/>), then one point per non-empty bucket
    /// in increasing order, (the percentage of values up to and including that bucket, the bucket's value as
    /// <see cref="ValueAtPercentile"/> reports it), the last being (100, <see cref="Max"/>). Empty when nothing was
    /// recorded. One pass over the buckets; the only allocation is the result.
    /// </summary>
    public (double Percentile, long Value)[] PercentileDistribution()
    {
        if (_count == 0)
        {
            return [];
        }

        int occupied = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            occupied += _counts[i] != 0 ? 1 : 0;
        }

        var points = new (double Percentile, long Value)[occupied + 1];
        points[0] = (0, Min);
        long seen = 0;
        int next = 1;
        for (int i = 0; i < BucketCount && next < points.Length; i++)
        {
            if (_counts[i] == 0)
            {
                continue;
            }

            seen += _counts[i];
            points[next++] = seen >= _count ? (100, _max) : (100.0 * seen / _count, Math.Clamp(MiddleOf(i), Min, _max));
        }

        return points;
    }

    /// <summary>The bucket of a value: exact below 256, else octave and the 7 bits below its top bit.</summary>
    internal static int IndexOf(long value)
    {
        if (value < ExactLimit)
        {
            return (int)value;
        }

        if (value > HighestTrackableValue)
        {
            return BucketCount - 1;
        }

        int topBit = 63 - BitOperations.LeadingZeroCount((ulong)value);
        int shift = topBit - SubBucketBits;
        int mantissa = (int)(value >> shift);
        return ExactLimit + ((shift - 1) * SubBucketCount) + (mantissa - SubBucketCount);
    }

    /// <summary>The lowest value that falls in bucket <paramref name="index"/>.</summary>
    internal static long LowestOf(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        int shift = ((index - ExactLimit) / SubBucketCount) + 1;
        long mantissa = SubBucketCount + ((index - ExactLimit) % SubBucketCount);
        return mantissa << shift;
    }

    private static long MiddleOf(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        int shift = ((index - ExactLimit) / SubBucketCount) + 1;
        return LowestOf(index) + ((1L << shift) >> 1);
    }
}
