using System.Buffers;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>
/// Pins the wire format: each baseline is a whole frame (length prefix included), checked both ways. The baselines
/// were encoded by hand from the MessagePack specification and docs/protocol.md, not produced by this library.
/// </summary>
public class GoldenBytesTests
{
    private static readonly MessageId SampleId = new([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]);

    // 2024-01-02T03:04:05.1234567Z: sub-second precision forces the 64-bit timestamp form.
    private static readonly DateTime SampleTime = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1_234_567);

    // 93 = [opcode, requestId, timestamp]; 03 = Ping; 01 = requestId; cf + 8 bytes = uint64 1 700 000 000 000.
    private const string PingFrame = "0000000c930301cf0000018bcfe56800";

    // 96 = 6 elements; 01 Hello; 00 requestId; 01 version; 01 Client; 91 a3 "e2e"; b5 "FastChat.Client/0.1.0".
    private const string HelloFrame = "00000020960100010191a3653265b546617374436861742e436c69656e742f302e312e30";

    // 97 = 7 elements; 20 DirectMessage; 2a requestId 42; c4 10 + id; a0 ""; a3 "bob";
    // d7 ff + (123456700 ns << 34 | seconds) timestamp 64; c4 05 "hello".
    private const string DirectMessageFrame =
        "0000002b97202ac410000102030405060708090a0b0c0d0e0fa0a3626f62d7ff1d6f32f065937d25c40568656c6c6f";

    // 93 = 3 elements; 22 Ack; 07 requestId; c4 10 + id.
    private const string AckFrame = "00000015932207c410000102030405060708090a0b0c0d0e0f";

    // 94 = 4 elements; 02 Error; 09 requestId; 14 = 20 UserNotFound; ac "no such user".
    private const string ErrorFrame = "0000001194020914ac6e6f20737563682075736572";

    private static readonly byte[] HelloBody = "hello"u8.ToArray();

    [Fact]
    public void Ping_Write_MatchesBaseline() =>
        AssertWrites(PingFrame, 1, new Ping { Timestamp = 1_700_000_000_000 });

    [Fact]
    public void Ping_Read_MatchesBaseline() =>
        AssertReads(PingFrame, 1, new Ping { Timestamp = 1_700_000_000_000 });

    [Fact]
    public void Hello_Write_MatchesBaseline() =>
        AssertWrites(HelloFrame, 0, SampleHello());

    [Fact]
    public void Hello_Read_MatchesBaseline() =>
        AssertReads(HelloFrame, 0, SampleHello());

    [Fact]
    public void DirectMessage_Write_MatchesBaseline() =>
        AssertWrites(DirectMessageFrame, 42, SampleDirectMessage());

    [Fact]
    public void DirectMessage_Read_MatchesBaseline() =>
        AssertReads(DirectMessageFrame, 42, SampleDirectMessage());

    [Fact]
    public void Ack_Write_MatchesBaseline() =>
        AssertWrites(AckFrame, 7, new Ack { Id = SampleId });

    [Fact]
    public void Ack_Read_MatchesBaseline() =>
        AssertReads(AckFrame, 7, new Ack { Id = SampleId });

    [Fact]
    public void Error_Write_MatchesBaseline() =>
        AssertWrites(ErrorFrame, 9, new Error { Code = ErrorCode.UserNotFound, Message = "no such user" });

    [Fact]
    public void Error_Read_MatchesBaseline() =>
        AssertReads(ErrorFrame, 9, new Error { Code = ErrorCode.UserNotFound, Message = "no such user" });

    /// <summary>Guards the worked example in docs/protocol.md §8, which shows the Pong answering the Ping above.</summary>
    [Fact]
    public void Pong_Write_MatchesDocumentedExample() =>
        AssertWrites("0000000c930401cf0000018bcfe56800", 1, new Pong { Timestamp = 1_700_000_000_000 });

    private static Hello SampleHello() => new()
    {
        ProtocolVersion = ProtocolConstants.ProtocolVersion,
        Role = PeerRole.Client,
        Features = ["e2e"],
        Agent = "FastChat.Client/0.1.0",
    };

    private static DirectMessage SampleDirectMessage() => new()
    {
        Id = SampleId,
        Sender = string.Empty,
        Recipient = "bob",
        SentAt = SampleTime,
        Body = new ReadOnlySequence<byte>(HelloBody),
    };

    private static void AssertWrites<T>(string expectedHex, uint requestId, T message)
        where T : struct, IMessage<T>
    {
        using var output = new SegmentedBufferWriter();
        MessageSerializer.WriteFrame(output, requestId, message);
        string actualHex = Convert.ToHexStringLower(output.ToArray());

        Assert.True(
            expectedHex == actualHex,
            $"Binary encoding of {typeof(T).Name} changed.{Environment.NewLine}" +
            $"Expected: {expectedHex}{Environment.NewLine}" +
            $"Actual:   {actualHex}{Environment.NewLine}" +
            "If the change is intended, verify it against docs/protocol.md (and the MessagePack specification) and update the baseline.");
    }

    private static void AssertReads<T>(string hex, uint expectedRequestId, T expected)
        where T : struct, IMessage<T>
    {
        var buffer = new ReadOnlySequence<byte>(Convert.FromHexString(hex));
        Assert.True(FrameReader.TryReadFrame(ref buffer, ProtocolConstants.DefaultMaxFrameSize, out ReadOnlySequence<byte> payload));
        Assert.True(buffer.IsEmpty);

        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        Assert.Equal(T.Opcode, header.Opcode);
        Assert.Equal(expectedRequestId, header.RequestId);
        T actual = MessageSerializer.ReadBody<T>(ref reader, header);
        Assert.True(reader.End);

        MessageCatalog.AssertFieldsEqual(expected, actual);
    }
}
