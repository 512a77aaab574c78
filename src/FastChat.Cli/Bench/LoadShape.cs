using System.Diagnostics;

namespace FastChat.Cli.Bench;

/// <summary>
/// The arithmetic of a run's load: how the messages are shared among the senders, and, in an open loop, when each
/// message is due. Times are <see cref="Stopwatch"/> timestamps.
/// </summary>
internal readonly struct LoadShape
{
    private readonly double _interval;
    private readonly long _durationEnd;

    /// <param name="start">When sending started.</param>
    /// <param name="senders">How many senders share the load.</param>
    /// <param name="rate">Open loop: messages per second over all senders; <see langword="null"/> for a closed loop.</param>
    /// <param name="duration">How long to send, or <see langword="null"/> when only the count bounds the run.</param>
    /// <param name="frequency">Timestamp ticks per second (<see cref="Stopwatch.Frequency"/>; a parameter for tests).</param>
    public LoadShape(long start, int senders, double? rate, TimeSpan? duration, long frequency)
    {
        Start = start;
        _interval = rate is { } perSecond ? frequency * (double)senders / perSecond : 0;
        _durationEnd = duration is { } length ? start + (long)(length.TotalSeconds * frequency) : long.MaxValue;
    }

    /// <summary>When sending started.</summary>
    public long Start { get; }

    /// <summary>
    /// How many of <paramref name="total"/> messages sender <paramref name="index"/> of <paramref name="senders"/> sends:
    /// the total spread as evenly as it goes (the first <c>total % senders</c> send one more), or
    /// <see cref="long.MaxValue"/> when only time bounds the run.
    /// </summary>
    public static long ShareOf(long? total, int senders, int index)
    {
        if (total is not { } messages)
        {
            return long.MaxValue;
        }

        long share = messages / senders;
        return index < messages % senders ? share + 1 : share;
    }

    /// <summary>
    /// Open loop: when a sender's message number <paramref name="sequence"/> is due — <c>Start + sequence × senders /
    /// rate</c> whenever the earlier ones actually went, so a slow cluster shows up as latency from this time (no
    /// coordinated omission), not as fewer, later measurements.
    /// </summary>
    public long IntendedTimestamp(long sequence) => Start + (long)(sequence * _interval);

    /// <summary>Whether a message due (or, closed loop, ready) at <paramref name="timestamp"/> is past the duration.</summary>
    public bool IsPastEnd(long timestamp) => timestamp >= _durationEnd;
}
