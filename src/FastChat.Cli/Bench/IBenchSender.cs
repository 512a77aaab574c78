namespace FastChat.Cli.Bench;

/// <summary>What the send loop drives: a pair's sender or a group's.</summary>
internal interface IBenchSender
{
    /// <summary>The messages in flight: taken before a send, given back when the message is delivered and acknowledged.</summary>
    InFlightWindow Window { get; }

    /// <summary>Sends the next message; the caller holds a window slot.</summary>
    /// <param name="intendedTimestamp">When the message was meant to go (closed loop: now), a <see cref="System.Diagnostics.Stopwatch"/> timestamp.</param>
    void Send(long intendedTimestamp);
}

/// <summary>A moment's sums over a run's senders and receivers.</summary>
/// <param name="Sent">Sends started.</param>
/// <param name="Acked">Sends the server acknowledged.</param>
/// <param name="Failed">Sends that failed.</param>
/// <param name="Delivered">First deliveries.</param>
/// <param name="Expected">The first deliveries the sends so far call for (for a group, each message once per other member).</param>
internal readonly record struct BenchProgress(long Sent, long Acked, long Failed, long Delivered, long Expected);
