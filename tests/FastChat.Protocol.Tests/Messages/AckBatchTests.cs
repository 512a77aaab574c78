using System.Buffers;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Protocol.Tests.Framing;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>The coalesced acknowledgements (<c>ack-batch</c>): AckBatch, DeliveredBatch and their allocation-free helpers.</summary>
public class AckBatchTests
{
    // 93 = 3 elements; 24 AckBatch; 00 requestId; 92 = 2 ids; each c4 10 + 16 bytes.
    private const string AckBatchPayload =
        "932400" + "92" + "c410000102030405060708090a0b0c0d0e0f" + "c410101112131415161718191a1b1c1d1e1f";

    // 94 = 4 elements; 25 DeliveredBatch; 00 requestId; a3 "bob"; 91 = 1 id.
    private const string DeliveredBatchPayload = "942500a3626f6291c410000102030405060708090a0b0c0d0e0f";

    private static readonly MessageId IdA = new([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]);
    private static readonly MessageId IdB = new([0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f]);

    [Fact]
    public void AckBatch_Write_MatchesBaseline()
    {
        Assert.Equal(AckBatchPayload, Convert.ToHexStringLower(TestPayloads.Of(0, new AckBatch { Ids = [IdA, IdB] })));
    }

    [Fact]
    public void DeliveredBatch_Write_MatchesBaseline()
    {
        Assert.Equal(DeliveredBatchPayload, Convert.ToHexStringLower(TestPayloads.Of(0, new DeliveredBatch { Recipient = "bob", Ids = [IdA] })));
    }

    [Fact]
    public void Opcodes_AreNextToAckAndDelivered()
    {
        Assert.Equal(0x24, (byte)Opcode.AckBatch);
        Assert.Equal(0x25, (byte)Opcode.DeliveredBatch);
        Assert.Equal("ack-batch", ProtocolFeatures.AckBatch);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(300)]
    public void AckBatchWriteFrame_FromSpan_EqualsTheMessageFrame(int count)
    {
        MessageId[] ids = NewIds(count);
        var expected = new SegmentedBufferWriter();
        MessageSerializer.WriteFrame(expected, 0, new AckBatch { Ids = ids });
        var actual = new SegmentedBufferWriter();
        AckBatch.WriteFrame(actual, 0, ids);
        Assert.Equal(expected.AsReadOnlySequence().ToArray(), actual.AsReadOnlySequence().ToArray());
    }

    [Fact]
    public void DeliveredBatchWriteFrame_FromSpan_EqualsTheMessageFrame()
    {
        MessageId[] ids = NewIds(40);
        var expected = new SegmentedBufferWriter();
        MessageSerializer.WriteFrame(expected, 0, new DeliveredBatch { Recipient = "bérénice", Ids = ids });
        var actual = new SegmentedBufferWriter();
        DeliveredBatch.WriteFrame(actual, 0, "bérénice", ids);
        Assert.Equal(expected.AsReadOnlySequence().ToArray(), actual.AsReadOnlySequence().ToArray());
    }

    [Fact]
    public void AckBatchWriteFrame_OverTheLimit_Throws()
    {
        Assert.Throws<FrameTooLargeException>(() => AckBatch.WriteFrame(new SegmentedBufferWriter(), 0, NewIds(10), maxFrameSize: 100));
    }

    [Fact]
    public void AckBatchReadIds_OneBytePerSegment_ReadsEveryIdInOrder()
    {
        MessageId[] ids = NewIds(25);
        byte[] payload = TestPayloads.Of(0, new AckBatch { Ids = ids });
        var reader = new MessagePackReader(TestSequences.OneBytePerSegment(payload));
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        var read = new List<MessageId>();
        AckBatch.ReadIds(ref reader, in header, read);
        Assert.True(reader.End);
        Assert.Equal(ids, read);
    }

    [Fact]
    public void DeliveredBatchReadIds_Payload_ReadsRecipientAndIds()
    {
        MessageId[] ids = NewIds(3);
        byte[] payload = TestPayloads.Of(0, new DeliveredBatch { Recipient = "carol", Ids = ids });
        var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        var read = new List<MessageId>();
        Assert.Equal("carol", DeliveredBatch.ReadIds(ref reader, in header, read));
        Assert.True(reader.End);
        Assert.Equal(ids, read);
    }

    /// <summary>Guards forward compatibility: fields a later version appends are skipped by the allocation-free reader too.</summary>
    [Fact]
    public void AckBatchReadIds_ExtraTrailingFields_AreSkipped()
    {
        byte[] payload = TestPayloads.Create((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(5);
            w.Write(0x24);
            w.Write(0);
            w.WriteArrayHeader(1);
            w.Write(IdA.ToByteArray());
            w.Write("later");
            w.WriteMapHeader(0);
        });
        var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        var read = new List<MessageId>();
        AckBatch.ReadIds(ref reader, in header, read);
        Assert.True(reader.End);
        Assert.Equal([IdA], read);
    }

    [Fact]
    public void AckBatch_NilIds_ReadsAsEmpty()
    {
        AckBatch batch = MessageSerializer.Deserialize<AckBatch>(new ReadOnlySequence<byte>(Convert.FromHexString("932400c0")), out _);
        Assert.Empty(batch.Ids);
    }

    /// <summary>Guards against a hostile count making the reader size anything by it: the count is checked against the bytes left first.</summary>
    [Theory]
    [InlineData("932400dd7fffffff", "Reading 'AckBatch.ids' as Array failed")]
    [InlineData("932400dc0002c410000102030405060708090a0b0c0d0e0f", "2 message id(s) need at least 36 bytes; 18 are left")]
    [InlineData("93240091c40f000102030405060708090a0b0c0d0e00", "a message id is a bin of 16 bytes; got 15")]
    [InlineData("93240091a00000000000000000000000000000000000", "Reading 'AckBatch.ids' as MessageId failed")]
    [InlineData("93240091c410000102030405060708090a0b0c0d0e", "1 message id(s) need at least 18 bytes; 17 are left")]
    [InlineData("932400a3616263", "Reading 'AckBatch.ids' as Array failed")]
    [InlineData("922400", "AckBatch has 0 field(s); protocol version 1 requires 1.")]
    public void AckBatch_HostilePayload_ThrowsProtocolViolationNamingTheField(string hex, string expected)
    {
        byte[] payload = Convert.FromHexString(hex);
        ProtocolViolationException read = Assert.ThrowsAny<ProtocolViolationException>(
            () => MessageSerializer.Deserialize<AckBatch>(new ReadOnlySequence<byte>(payload), out _));
        Assert.Contains(expected, read.Message, StringComparison.Ordinal);

        var ids = new List<MessageId>();
        ProtocolViolationException streamed = Assert.ThrowsAny<ProtocolViolationException>(() =>
        {
            var reader = new MessagePackReader(TestSequences.OneBytePerSegment(payload));
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            AckBatch.ReadIds(ref reader, in header, ids);
        });
        Assert.Contains(expected, streamed.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards the DeliveredBatch reader against a hostile count and a mistyped recipient.</summary>
    [Theory]
    [InlineData("942500a3626f62dd00010000", "Reading 'DeliveredBatch.ids' as Array failed")]
    [InlineData("94250001" + "90", "Reading 'DeliveredBatch.recipient' as String failed")]
    [InlineData("932500a3626f62", "DeliveredBatch has 1 field(s); protocol version 1 requires 2.")]
    public void DeliveredBatch_HostilePayload_ThrowsProtocolViolationNamingTheField(string hex, string expected)
    {
        byte[] payload = Convert.FromHexString(hex);
        ProtocolViolationException read = Assert.ThrowsAny<ProtocolViolationException>(
            () => MessageSerializer.Deserialize<DeliveredBatch>(new ReadOnlySequence<byte>(payload), out _));
        Assert.Contains(expected, read.Message, StringComparison.Ordinal);

        ProtocolViolationException streamed = Assert.ThrowsAny<ProtocolViolationException>(() =>
        {
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            DeliveredBatch.ReadIds(ref reader, in header, new List<MessageId>());
        });
        Assert.Contains(expected, streamed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AckBatchReadIds_AnotherOpcode_Throws()
    {
        byte[] payload = TestPayloads.Of(0, new Ack { Id = IdA });
        ProtocolViolationException ex = Assert.ThrowsAny<ProtocolViolationException>(() =>
        {
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            AckBatch.ReadIds(ref reader, in header, new List<MessageId>());
        });
        Assert.Contains("Expected AckBatch (opcode 0x24)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadIdsAndWriteFrame_SteadyState_AllocateNothing()
    {
        MessageId[] ids = NewIds(64);
        var output = new SegmentedBufferWriter();
        var read = new List<MessageId>(64);

        static void Run(SegmentedBufferWriter output, MessageId[] ids, List<MessageId> read, int iterations)
        {
            for (int i = 0; i < iterations; i++)
            {
                output.Reset();
                AckBatch.WriteFrame(output, 0, ids);
                ReadOnlySequence<byte> frame = output.AsReadOnlySequence();
                var reader = new MessagePackReader(frame.Slice(4));
                MessageHeader header = MessageSerializer.ReadHeader(ref reader);
                read.Clear();
                AckBatch.ReadIds(ref reader, in header, read);
            }
        }

        Run(output, ids, read, 10);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(output, ids, read, 100);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(ids, read);
    }

    private static MessageId[] NewIds(int count)
    {
        var ids = new MessageId[count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = MessageId.NewId();
        }

        return ids;
    }
}
