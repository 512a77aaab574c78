using System.Buffers;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Protocol.Tests.Framing;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>A relay's view of a direct message: routing fields read, the rest forwarded byte for byte.</summary>
public class DirectMessageRouteTests
{
    /// <summary>Guards the relay's forwarding: the copy with the sender filled in is exactly what re-encoding the message would write.</summary>
    [Fact]
    public void WriteStamped_ClientMessage_SameBytesAsReEncodingWithTheSender()
    {
        DirectMessage message = TestPayloads.SampleDirectMessage(bodyLength: 300) with { Sender = string.Empty };
        byte[] payload = Payload(9, in message);

        byte[] forwarded = Forward(new ReadOnlySequence<byte>(payload), "alice", out DirectMessageRoute route);

        Assert.Equal(Payload(0, message with { Sender = "alice" }), forwarded);
        Assert.Equal(message.Id, route.Id);
        Assert.Equal(string.Empty, route.Sender);
        Assert.Equal("bob", route.Recipient);
    }

    /// <summary>Guards multi-segment input (a payload straddling pipe segments): every split forwards the same bytes.</summary>
    [Fact]
    public void WriteStamped_PayloadSplitAtEveryOffset_ForwardsTheSameBytes()
    {
        DirectMessage message = TestPayloads.SampleDirectMessage(bodyLength: 40) with { Sender = string.Empty };
        byte[] payload = Payload(3, in message);
        byte[] expected = Payload(0, message with { Sender = "carol" });

        for (int offset = 1; offset < payload.Length; offset++)
        {
            byte[] forwarded = Forward(TestSequences.Split(payload, offset), "carol", out _);
            Assert.Equal(expected, forwarded);
        }

        Assert.Equal(expected, Forward(TestSequences.OneBytePerSegment(payload), "carol", out _));
    }

    /// <summary>Guards forward compatibility: fields after the body are skipped on reading and, as with re-encoding, not forwarded.</summary>
    [Fact]
    public void Read_ExtraTrailingFields_SkipsThemAndForwardsTheKnownFields()
    {
        DirectMessage message = TestPayloads.SampleDirectMessage() with { Sender = string.Empty };
        byte[] payload = TestPayloads.Create((ref MessagePackWriter writer) =>
        {
            writer.WriteArrayHeader(2 + DirectMessage.FieldCount + 2);
            writer.Write((int)Opcode.DirectMessage);
            writer.Write(5u);
            message.Write(ref writer);
            writer.Write("future");
            writer.WriteMapHeader(0);
        });

        var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        DirectMessageRoute route = DirectMessageRoute.Read(ref reader, in header);

        Assert.True(reader.End);
        Assert.Equal(Payload(0, message with { Sender = "alice" }), Write(in route, "alice"));
    }

    /// <summary>Guards validation parity: a malformed field is refused with the same error the full decoder gives.</summary>
    [Theory]
    [InlineData("recipient")]
    [InlineData("sentAt")]
    [InlineData("body")]
    public void Read_MalformedField_ThrowsTheSameErrorAsDirectMessageRead(string field)
    {
        DirectMessage message = TestPayloads.SampleDirectMessage();
        byte[] payload = TestPayloads.Create((ref MessagePackWriter writer) =>
        {
            writer.WriteArrayHeader(2 + DirectMessage.FieldCount);
            writer.Write((int)Opcode.DirectMessage);
            writer.Write(1u);
            writer.Write(message.Id.ToByteArray());
            writer.Write(message.Sender);
            if (field == "recipient")
            {
                writer.Write(42);
            }
            else
            {
                writer.Write(message.Recipient);
            }

            if (field == "sentAt")
            {
                writer.Write("yesterday");
            }
            else
            {
                writer.Write(message.SentAt);
            }

            if (field == "body")
            {
                writer.Write(true);
            }
            else
            {
                writer.Write(message.Body);
            }
        });

        string expected = Assert.ThrowsAny<ProtocolViolationException>(() => MessageSerializer.Deserialize<DirectMessage>(new ReadOnlySequence<byte>(payload), out _)).Message;
        ProtocolViolationException actual = Assert.ThrowsAny<ProtocolViolationException>(() =>
        {
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            DirectMessageRoute.Read(ref reader, in header);
        });

        Assert.Equal(expected, actual.Message);
        Assert.Contains("DirectMessage." + field, actual.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards the opcode check: another message is not read as a direct message.</summary>
    [Fact]
    public void Read_OtherOpcode_Throws()
    {
        byte[] payload = Payload(1, new Ack { Id = MessageId.NewId() });
        var exception = Assert.ThrowsAny<ProtocolViolationException>(() =>
        {
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            DirectMessageRoute.Read(ref reader, in header);
        });

        Assert.Contains("opcode 0x20", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards misuse: a default route has nothing to forward.</summary>
    [Fact]
    public void WriteStamped_DefaultRoute_Throws()
    {
        DirectMessageRoute route = default;
        Assert.Throws<InvalidOperationException>(() => Write(in route, "alice"));
    }

    private static byte[] Payload<T>(uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        var output = new ArrayBufferWriter<byte>();
        MessageSerializer.WritePayload(output, requestId, in message);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Forward(ReadOnlySequence<byte> payload, string sender, out DirectMessageRoute route)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        route = DirectMessageRoute.Read(ref reader, in header);
        Assert.True(reader.End);
        return Write(in route, sender);
    }

    private static byte[] Write(in DirectMessageRoute route, string sender)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(output);
        route.WriteStamped(ref writer, 0, sender);
        writer.Flush();
        return output.WrittenSpan.ToArray();
    }
}
