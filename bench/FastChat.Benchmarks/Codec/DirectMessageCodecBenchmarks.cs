using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastChat.Protocol.Framing;
using FastChat.Protocol.Messages;

namespace FastChat.Benchmarks.Codec;

/// <summary>
/// Writes and reads one DirectMessage frame with a 64-byte body: the per-message codec cost on the relay path.
/// Targets: ≤ 100 ns and 0 B allocated each way.
/// </summary>
[MemoryDiagnoser]
public class DirectMessageCodecBenchmarks
{
    private readonly SegmentedBufferWriter _output = new();
    private DirectMessage _message;
    private ReadOnlySequence<byte> _frame;

    [GlobalSetup]
    public void Setup()
    {
        var body = new byte[64];
        new Random(7).NextBytes(body);
        _message = new DirectMessage
        {
            Id = MessageId.NewId(),
            Sender = "alice",
            Recipient = "bob",
            SentAt = new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc),
            Body = new ReadOnlySequence<byte>(body),
        };

        MessageSerializer.WriteFrame(_output, 42, in _message);
        _frame = new ReadOnlySequence<byte>(_output.AsReadOnlySequence().ToArray());
        _output.Reset();

        // Warm the name cache the way a server's steady state does.
        _ = Read();
    }

    [GlobalCleanup]
    public void Cleanup() => _output.Dispose();

    /// <summary>Encodes the frame (prefix, header, fields, body) into a reused pooled writer.</summary>
    [Benchmark]
    public long Write()
    {
        _output.Reset();
        MessageSerializer.WriteFrame(_output, 42, in _message);
        return _output.WrittenCount;
    }

    /// <summary>Slices the frame, reads the header and every field (body as a zero-copy slice).</summary>
    [Benchmark]
    public long Read()
    {
        ReadOnlySequence<byte> buffer = _frame;
        FrameReader.TryReadFrame(ref buffer, 1 << 20, out ReadOnlySequence<byte> payload);
        DirectMessage message = MessageSerializer.Deserialize<DirectMessage>(payload, out uint requestId);
        return message.Body.Length + requestId + message.Recipient.Length;
    }
}
