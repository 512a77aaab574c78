namespace FastChat.Cli.Bench;

/// <summary>What a bench run exercises.</summary>
internal enum BenchScenario
{
    /// <summary>Each pair's sender sends direct messages to its receiver; latency is one way (send to receive).</summary>
    Dm,

    /// <summary>Each pair's sender sends, its receiver echoes every message back; latency is the round trip.</summary>
    PingPong,

    /// <summary>
    /// One group: some members send group messages and every other member receives each one; latency is one way, per
    /// delivery.
    /// </summary>
    Group,

    /// <summary>
    /// Many concurrent signed-in sessions, held: connect rate, the servers' memory per connection, then a trickle of
    /// direct messages among them.
    /// </summary>
    Connections,
}

/// <summary>A bench run's settings, as validated from the command line.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Pairs">How many sender/receiver pairs (each side a client of its own).</param>
/// <param name="Size">The body size in bytes (at least 16: the intended send time and the sequence number).</param>
/// <param name="Window">Closed loop: how many messages of a pair (or of a group sender) may be in flight (sent, and not yet both received by every recipient and acknowledged by the server).</param>
/// <param name="Rate">Open loop: messages per second over all pairs (or group senders); <see langword="null"/> runs the closed loop.</param>
/// <param name="Messages">How many messages to send over all pairs (or group senders); <see langword="null"/> when only the duration bounds the run.</param>
/// <param name="Duration">How long to send; <see langword="null"/> when only the message count bounds the run.</param>
/// <param name="Servers">With <see cref="BalancerHost"/> <see langword="null"/>: how many chat servers the in-process cluster runs.</param>
/// <param name="BalancerHost">The running cluster's balancer host (loopback), or <see langword="null"/> to spawn a cluster.</param>
/// <param name="BalancerPort">The running cluster's balancer port.</param>
/// <param name="GroupSize">For <see cref="BenchScenario.Group"/>: how many members the group has (each a client of its own); 0 otherwise.</param>
/// <param name="GroupSenders">For <see cref="BenchScenario.Group"/>: how many of the members send; 0 otherwise.</param>
/// <param name="Connections">For <see cref="BenchScenario.Connections"/>: how many sessions to open and hold; 0 otherwise.</param>
/// <param name="Hold">For <see cref="BenchScenario.Connections"/>: how long to hold them once connected (the trickle runs meanwhile).</param>
/// <param name="Trickle">For <see cref="BenchScenario.Connections"/>: direct messages per second among random held sessions while holding (0 for none).</param>
/// <param name="EndToEnd">For dm, pingpong and group: whether bodies are really end-to-end encrypted (DESIGN.md §5) rather than opaque random bytes.</param>
internal sealed record BenchSettings(
    BenchScenario Scenario,
    int Pairs,
    int Size,
    int Window,
    double? Rate,
    long? Messages,
    TimeSpan? Duration,
    int Servers,
    string? BalancerHost,
    int BalancerPort,
    int GroupSize = 0,
    int GroupSenders = 0,
    int Connections = 0,
    TimeSpan Hold = default,
    double Trickle = 0,
    bool EndToEnd = false)
{
    /// <summary>The largest group the command accepts.</summary>
    public const int MaxGroupSize = 1000;

    /// <summary>The smallest body: 8 bytes of intended send time and 8 of sequence number.</summary>
    public const int HeaderSize = 16;

    /// <summary>The largest body the command accepts.</summary>
    public const int MaxSize = 1024 * 1024;

    /// <summary>The message count when neither <c>--messages</c> nor <c>--duration</c> bounds the run.</summary>
    public const long DefaultMessages = 100_000;

    /// <summary>
    /// Open loop: the most messages of one pair in flight before its sender waits. It bounds memory when the cluster
    /// cannot keep up; a wait still shows in the latencies, which are measured from the intended send time.
    /// </summary>
    public const int OpenLoopInFlightLimit = 8192;

    /// <summary>Whether the run is an open loop (a fixed rate) rather than a closed one (a window).</summary>
    public bool OpenLoop => Rate is not null;

    /// <summary>The largest body on the wire: <see cref="Size"/>, plus a direct envelope's overhead with <see cref="EndToEnd"/> (a group envelope's is smaller).</summary>
    public int BodySize => EndToEnd ? Size + FastChat.Client.Crypto.DirectEnvelope.Overhead : Size;

    /// <summary>How many send loops share the messages and the rate: the pairs, or the group's senders.</summary>
    public int SenderCount => Scenario == BenchScenario.Group ? GroupSenders : Pairs;
}
