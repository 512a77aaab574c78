using System.Buffers;
using System.IO.Pipelines;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Protocol.Tests.Messages;

public class MessageSerializerTests
{
    [Fact]
    public void WritePayload_Message_EqualsTheFramePayload()
    {
        DirectMessage message = TestPayloads.SampleDirectMessage();
        using var framed = new SegmentedBufferWriter();
        MessageSerializer.WriteFrame(framed, 5, message);

        byte[] payload = TestPayloads.Of(5, message);

        Assert.Equal(framed.ToArray()[FrameReader.HeaderSize..], payload);
    }

    /// <summary>Guards the sender-side limit: a message too large for the peer is refused before it is sent.</summary>
    [Fact]
    public void WriteFrame_PayloadOverMaximum_ThrowsFrameTooLarge()
    {
        using var output = new SegmentedBufferWriter();

        FrameTooLargeException ex = Assert.Throws<FrameTooLargeException>(
            () => MessageSerializer.WriteFrame(output, 1, TestPayloads.SampleDirectMessage(bodyLength: 1000), maxFrameSize: 1000));

        Assert.Equal(1000, ex.MaxFrameSize);
        Assert.True(ex.FrameLength > 1000);
    }

    [Fact]
    public void WriteFrame_NullOutput_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => MessageSerializer.WriteFrame(null!, 1, new Ping()));
        Assert.Throws<ArgumentNullException>(() => MessageSerializer.WritePayload(null!, 1, new Ping()));
    }

    [Fact]
    public void WriteMessage_SeveralThroughOneWriter_ProducesConsecutiveMessages()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(output);
        MessageSerializer.WriteMessage(ref writer, 1, new Ping { Timestamp = 10 });
        MessageSerializer.WriteMessage(ref writer, 2, new Pong { Timestamp = 10 });
        writer.Flush();

        var reader = new MessagePackReader(output.WrittenMemory);
        MessageHeader first = MessageSerializer.ReadHeader(ref reader);
        Ping ping = MessageSerializer.ReadBody<Ping>(ref reader, first);
        MessageHeader second = MessageSerializer.ReadHeader(ref reader);
        Pong pong = MessageSerializer.ReadBody<Pong>(ref reader, second);

        Assert.Equal((Opcode.Ping, 1u, 10L), (first.Opcode, first.RequestId, ping.Timestamp));
        Assert.Equal((Opcode.Pong, 2u, 10L), (second.Opcode, second.RequestId, pong.Timestamp));
        Assert.True(reader.End);
    }

    [Fact]
    public void ReadBody_HeaderOfAnotherMessage_ThrowsProtocolViolation()
    {
        byte[] payload = TestPayloads.Of(1, new Ping());

        ProtocolViolationException ex = Assert.Throws<ProtocolViolationException>(() =>
        {
            var reader = new MessagePackReader(payload);
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            MessageSerializer.ReadBody<Pong>(ref reader, header);
        });

        Assert.Equal("Expected Pong (opcode 0x04) but the message's opcode is 0x03.", ex.Message);
    }

    /// <summary>Guards the relay path: a payload nested in Relay.Frame comes out byte-identical and decodes as the original message.</summary>
    [Fact]
    public async Task Relay_NestedPayload_RoundTripsUnchanged()
    {
        DirectMessage inner = TestPayloads.SampleDirectMessage(bodyLength: 300) with { Body = new ReadOnlySequence<byte>(Enumerable.Range(0, 300).Select(i => (byte)i).ToArray()) };
        byte[] innerPayload = TestPayloads.Of(9, inner);
        var relay = new Relay { FromServerId = "server-1", Recipient = "bob", Frame = new ReadOnlySequence<byte>(innerPayload) };
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 64));

        MessageSerializer.WriteFrame(pipe.Writer, 0, relay);
        await pipe.Writer.FlushAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await pipe.Writer.CompleteAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        ReadResult result = await pipe.Reader.ReadAtLeastAsync(int.MaxValue).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        ReadOnlySequence<byte> buffer = result.Buffer;
        Assert.True(FrameReader.TryReadFrame(ref buffer, ProtocolConstants.DefaultMaxFrameSize, out ReadOnlySequence<byte> payload));
        Relay read = MessageSerializer.Deserialize<Relay>(payload, out _);
        Assert.Equal(innerPayload, read.Frame.ToArray());
        DirectMessage nested = MessageSerializer.Deserialize<DirectMessage>(read.Frame, out uint innerRequestId);
        Assert.Equal(9u, innerRequestId);
        MessageCatalog.AssertFieldsEqual(inner, nested);

        pipe.Reader.AdvanceTo(buffer.End);
        await pipe.Reader.CompleteAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Guards the zero-copy promise for binary fields: a body read from a contiguous payload is a view of it.</summary>
    [Fact]
    public void Deserialize_BinaryField_IsASliceOfThePayload()
    {
        byte[] payload = TestPayloads.Of(1, TestPayloads.SampleDirectMessage(bodyLength: 10));

        DirectMessage message = MessageSerializer.Deserialize<DirectMessage>(new ReadOnlySequence<byte>(payload), out _);

        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(message.Body.First, out ArraySegment<byte> segment));
        Assert.Same(payload, segment.Array);
        Assert.Equal(payload.Length - 10, segment.Offset);
    }

    [Fact]
    public void MessageHeader_NegativeFieldCount_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessageHeader(Opcode.Ping, 1, -1));
        Assert.Equal("Ping (0x03) #7, 1 fields", new MessageHeader(Opcode.Ping, 7, 1).ToString());
    }

    [Fact]
    public void Read_NegativeFieldCount_ThrowsProtocolViolation()
    {
        Assert.Throws<ProtocolViolationException>(() =>
        {
            var reader = new MessagePackReader(new byte[] { 0xc0 });
            Ok.Read(ref reader, -1);
        });
    }

    [Fact]
    public void ReadHeader_MaximumRequestIdInWidestEncoding_IsAccepted()
    {
        var reader = new MessagePackReader(Convert.FromHexString("9205cf00000000ffffffff"));

        MessageHeader header = MessageSerializer.ReadHeader(ref reader);

        Assert.Equal(uint.MaxValue, header.RequestId);
        Assert.Equal(Opcode.Ok, header.Opcode);
        Assert.Equal(0, header.FieldCount);
    }
}
