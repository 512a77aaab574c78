using System.Buffers;
using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using FastChat.Protocol;
using FastChat.Protocol.Messages;

namespace FastChat.Benchmarks.Relay;

/// <summary>
/// The chat server's relay path per direct message, frame in to frame out, on the real routing code over in-memory
/// pipes: alice's <c>DirectMessage</c> frames enter her connection's receive loop; the server parses each, re-encodes it
/// with the sender filled in, tracks it and writes it to bob; bob's <c>Ack</c>s go back in, which settle the in-flight
/// entries and send alice <c>Ack</c> and <c>Delivered</c>. <see cref="DirectMessage"/> is that full round trip per
/// message; <see cref="Forward"/> is the one hop the target is about (frame in, route, frame out).
/// <see cref="DirectMessageBatchedAcks"/> is the same round trip between clients that negotiated <c>ack-batch</c>: bob
/// acknowledges each read batch of messages with one <c>AckBatch</c>, and alice gets one <c>AckBatch</c> and one
/// <c>DeliveredBatch</c> per server read batch instead of an <c>Ack</c> and a <c>Delivered</c> per message.
/// Targets: ≤ 150 ns and 0 B allocated per message.
/// </summary>
/// <remarks>
/// Per invocation the harness gives every message and ack a fresh id (the server rejects repeated ids as duplicates),
/// writes the batch of frames to alice's pipe, waits until bob has received them all, writes bob's acks and waits for
/// alice's acks and receipts. Both harness pipes run their continuations inline; the server's own pipes hop to the thread
/// pool as over a socket. The copy from the harness pipe into the connection's input stands in for the socket receive.
/// </remarks>
[MemoryDiagnoser]
public class RelayBenchmarks
{
    private const int BatchSize = 1000;

    // Long enough for tiered compilation's call counting (which starts after 100 ms without new tier-0 methods) and
    // its background tier-1 compiles, on a busy machine.
    private const int WarmUpMilliseconds = 3000;

    private InMemoryRelay _relay = null!;
    private RelayClient _alice = null!;
    private RelayClient _bob = null!;

    // A second server with the same users, whose clients negotiated ack-batch (the same message frames serve both).
    private InMemoryRelay _batchedRelay = null!;
    private RelayClient _batchedAlice = null!;
    private RelayClient _batchedBob = null!;
    private byte[] _messages = [];
    private int[] _messageIdOffsets = [];
    private byte[] _acks = [];
    private int[] _ackIdOffsets = [];
    private ulong _round;

    [Params(64)]
    public int BodySize { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _relay.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _batchedRelay.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>One direct message relayed from alice to bob and settled by bob's ack.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public async Task DirectMessage()
    {
        _round++;
        StampIds(_messages, _messageIdOffsets, _round);
        StampIds(_acks, _ackIdOffsets, _round);
        await _alice.WriteAsync(_messages).ConfigureAwait(false);
        await _bob.DrainAsync(BatchSize).ConfigureAwait(false);
        await _bob.WriteAsync(_acks).ConfigureAwait(false);

        // Ack and Delivered for every message.
        await _alice.DrainAsync(2 * BatchSize).ConfigureAwait(false);
    }

    /// <summary>
    /// The <see cref="DirectMessage"/> round trip with coalesced acknowledgements: bob answers each read batch of messages
    /// with one <c>AckBatch</c>, and alice's acks and receipts come as <c>AckBatch</c> and <c>DeliveredBatch</c> frames.
    /// </summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public async Task DirectMessageBatchedAcks()
    {
        _round++;
        StampIds(_messages, _messageIdOffsets, _round);
        await _batchedAlice.WriteAsync(_messages).ConfigureAwait(false);
        await _batchedBob.DrainAndAckBatchesAsync(BatchSize).ConfigureAwait(false);

        // An acked id and a delivered id for every message.
        await _batchedAlice.DrainBatchedIdsAsync(2 * BatchSize).ConfigureAwait(false);
    }

    /// <summary>Gives the next <see cref="Forward"/> invocation fresh ids (outside the measurement).</summary>
    [IterationSetup(Target = nameof(Forward))]
    public void StampForward()
    {
        _round++;
        StampIds(_messages, _messageIdOffsets, _round);
        StampIds(_acks, _ackIdOffsets, _round);
    }

    /// <summary>
    /// One relay hop as the issue defines it: a <c>DirectMessage</c> frame in on alice's connection, routed, and out on
    /// bob's, per message, with the 1,000 frames arriving in the receive loop's read batches as under load. Bob's acks
    /// (and alice's <c>Ack</c> + <c>Delivered</c>) are settled after the measurement, in <see cref="SettleForward"/>, so
    /// nothing stays in flight from one iteration to the next.
    /// </summary>
    /// <remarks>An iteration setup makes BenchmarkDotNet run one invocation per iteration: each iteration is 1,000 messages.</remarks>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public async Task Forward()
    {
        await _alice.WriteAsync(_messages).ConfigureAwait(false);
        await _bob.DrainAsync(BatchSize).ConfigureAwait(false);
    }

    /// <summary>Acks what <see cref="Forward"/> delivered and waits for alice's receipts (outside the measurement).</summary>
    [IterationCleanup(Target = nameof(Forward))]
    public void SettleForward() => SettleAsync().AsTask().GetAwaiter().GetResult();

    private async ValueTask SettleAsync()
    {
        await _bob.WriteAsync(_acks).ConfigureAwait(false);
        await _alice.DrainAsync(2 * BatchSize).ConfigureAwait(false);
    }

    private async Task SetupAsync()
    {
        _relay = await InMemoryRelay.CreateAsync().ConfigureAwait(false);
        await _relay.CreateAccountAsync("alice").ConfigureAwait(false);
        await _relay.CreateAccountAsync("bob").ConfigureAwait(false);
        _alice = await _relay.SignInAsync("alice").ConfigureAwait(false);
        _bob = await _relay.SignInAsync("bob").ConfigureAwait(false);

        var body = new byte[BodySize];
        new Random(7).NextBytes(body);
        // Sized so they never grow: a frame's length prefix is filled in after its payload, in place.
        var messages = new ArrayBufferWriter<byte>(BatchSize * (BodySize + 256));
        var acks = new ArrayBufferWriter<byte>(BatchSize * 64);
        _messageIdOffsets = new int[BatchSize];
        _ackIdOffsets = new int[BatchSize];
        for (int i = 0; i < BatchSize; i++)
        {
            MessageId marker = Marker(i);
            var message = new DirectMessage
            {
                Id = marker,
                Sender = string.Empty,
                Recipient = "bob",
                SentAt = new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc),
                Body = new ReadOnlySequence<byte>(body),
            };
            int start = messages.WrittenCount;
            MessageSerializer.WriteFrame(messages, (uint)(i + 2), in message);
            _messageIdOffsets[i] = start + FindId(messages.WrittenSpan[start..], marker);

            start = acks.WrittenCount;
            MessageSerializer.WriteFrame(acks, 0, new Ack { Id = marker });
            _ackIdOffsets[i] = start + FindId(acks.WrittenSpan[start..], marker);
        }

        _messages = messages.WrittenSpan.ToArray();
        _acks = acks.WrittenSpan.ToArray();

        // One checked round: bob gets the messages, alice gets Ack then Delivered for each, and nothing stays in flight.
        _round = 1;
        StampIds(_messages, _messageIdOffsets, _round);
        StampIds(_acks, _ackIdOffsets, _round);
        await _alice.WriteAsync(_messages).ConfigureAwait(false);
        try
        {
            for (int i = 0; i < BatchSize; i++)
            {
                await _bob.ExpectAsync(Opcode.DirectMessage).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            // Alice should hear nothing before bob acks: this throws with the server's error, if it sent one.
            await _alice.ExpectAsync(Opcode.Ack).ConfigureAwait(false);
            throw;
        }

        await _bob.WriteAsync(_acks).ConfigureAwait(false);
        for (int i = 0; i < BatchSize; i++)
        {
            await _alice.ExpectAsync(Opcode.Ack).ConfigureAwait(false);
            await _alice.ExpectAsync(Opcode.Delivered).ConfigureAwait(false);
        }

        int inFlight = _bob.Handler.Client!.Tracker.Count;
        if (inFlight != 0)
        {
            throw new InvalidOperationException($"{inFlight} deliveries are still in flight after the acks.");
        }

        await SetupBatchedAsync().ConfigureAwait(false);

        // Forward runs one invocation per iteration, too few for the JIT to promote the relay path out of tier 0 within
        // BenchmarkDotNet's warm-up: round trips for a few seconds first, so every benchmark measures optimised code.
        long warmUntil = Environment.TickCount64 + WarmUpMilliseconds;
        while (Environment.TickCount64 < warmUntil)
        {
            await DirectMessage().ConfigureAwait(false);
            await DirectMessageBatchedAcks().ConfigureAwait(false);
        }
    }

    private async Task SetupBatchedAsync()
    {
        _batchedRelay = await InMemoryRelay.CreateAsync().ConfigureAwait(false);
        await _batchedRelay.CreateAccountAsync("alice").ConfigureAwait(false);
        await _batchedRelay.CreateAccountAsync("bob").ConfigureAwait(false);
        _batchedAlice = await _batchedRelay.SignInAsync("alice", [ProtocolFeatures.AckBatch]).ConfigureAwait(false);
        _batchedBob = await _batchedRelay.SignInAsync("bob", [ProtocolFeatures.AckBatch]).ConfigureAwait(false);
        if (!_batchedAlice.Handler.Client!.AckBatchEnabled || !_batchedBob.Handler.Client!.AckBatchEnabled)
        {
            throw new InvalidOperationException("The server did not negotiate ack-batch with the benchmark's clients.");
        }

        // One checked round: every message reaches bob, and alice hears of every id as acked and as delivered.
        await DirectMessageBatchedAcks().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        int inFlight = _batchedBob.Handler.Client!.Tracker.Count;
        if (inFlight != 0)
        {
            throw new InvalidOperationException($"{inFlight} deliveries are still in flight after the batched acks.");
        }
    }

    // A recognisable id to find in the encoded frame: high half all 0xA5, low half the index.
    private static MessageId Marker(int index)
    {
        Span<byte> bytes = stackalloc byte[MessageId.Size];
        bytes[..8].Fill(0xA5);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], (ulong)index);
        return new MessageId(bytes);
    }

    private static int FindId(ReadOnlySpan<byte> frame, MessageId id)
    {
        Span<byte> bytes = stackalloc byte[MessageId.Size];
        id.TryWriteBytes(bytes);
        int offset = frame.IndexOf(bytes);
        return offset >= 0 ? offset : throw new InvalidOperationException("The message id was not found in its frame.");
    }

    // Unique per round and message: the round in the high half, the index in the low half.
    private static void StampIds(byte[] frames, int[] offsets, ulong round)
    {
        for (int i = 0; i < offsets.Length; i++)
        {
            Span<byte> id = frames.AsSpan(offsets[i], MessageId.Size);
            BinaryPrimitives.WriteUInt64BigEndian(id, round);
            BinaryPrimitives.WriteUInt64BigEndian(id[8..], (ulong)i);
        }
    }
}
