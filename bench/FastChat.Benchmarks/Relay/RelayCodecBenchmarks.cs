using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Benchmarks.Relay;

/// <summary>
/// The codec work the server does per relayed direct message, alone (no pipes, no threads): turning the client's
/// <c>DirectMessage</c> payload into the payload written to the recipient, with the sender filled in.
/// <see cref="DecodeAndEncode"/> decodes the whole message and encodes it again (what the relay did before);
/// <see cref="RouteAndForward"/> reads the fields the same way but encodes only the id and the sender, copying the rest
/// as received (<see cref="DirectMessageRoute"/>, what it does now). Both produce the same bytes.
/// </summary>
[MemoryDiagnoser]
public class RelayCodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private ReadOnlySequence<byte> _payload;

    [Params(64)]
    public int BodySize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var body = new byte[BodySize];
        new Random(7).NextBytes(body);
        var message = new DirectMessage
        {
            Id = MessageId.NewId(),
            Sender = string.Empty,
            Recipient = "bob",
            SentAt = new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc),
            Body = new ReadOnlySequence<byte>(body),
        };
        var payload = new ArrayBufferWriter<byte>();
        MessageSerializer.WritePayload(payload, 7, in message);
        _payload = new ReadOnlySequence<byte>(payload.WrittenMemory);

        DecodeAndEncode();
        byte[] expected = _output.WrittenSpan.ToArray();
        RouteAndForward();
        if (!_output.WrittenSpan.SequenceEqual(expected))
        {
            throw new InvalidOperationException("The forwarded payload differs from the re-encoded one.");
        }
    }

    /// <summary>Decode every field into a <see cref="DirectMessage"/>, then encode it again with the sender.</summary>
    [Benchmark(Baseline = true)]
    public int DecodeAndEncode()
    {
        var reader = new MessagePackReader(_payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        DirectMessage message = MessageSerializer.ReadBody<DirectMessage>(ref reader, header);
        DirectMessage stamped = message with { Sender = "alice" };
        _output.ResetWrittenCount();
        MessageSerializer.WritePayload(_output, 0, in stamped);
        return _output.WrittenCount;
    }

    /// <summary>Read the routing fields (validating the rest), then write the id and the sender and copy the rest.</summary>
    [Benchmark]
    public int RouteAndForward()
    {
        var reader = new MessagePackReader(_payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        DirectMessageRoute route = DirectMessageRoute.Read(ref reader, in header);
        _output.ResetWrittenCount();
        var writer = new MessagePackWriter(_output);
        route.WriteStamped(ref writer, 0, "alice");
        writer.Flush();
        return _output.WrittenCount;
    }
}
