using System.Buffers;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>The versioning rules of docs/protocol.md §3: trailing fields are skipped, missing ones rejected, enums open.</summary>
public class ForwardCompatibilityTests
{
    /// <summary>Guards forward compatibility: a newer peer's extra trailing fields, of any type, are skipped.</summary>
    [Fact]
    public void Deserialize_ExtraTrailingFields_ReadsKnownFieldsAndSkipsTheRest()
    {
        DirectMessage expected = TestPayloads.SampleDirectMessage();
        byte[] payload = TestPayloads.Create((ref MessagePackWriter writer) =>
        {
            writer.WriteArrayHeader(2 + DirectMessage.FieldCount + 4);
            writer.Write((int)Opcode.DirectMessage);
            writer.Write(77u);
            expected.Write(ref writer);
            writer.Write(12345);
            writer.WriteMapHeader(1);
            writer.Write("future");
            writer.WriteArrayHeader(2);
            writer.Write(1.5);
            writer.WriteNil();
            writer.Write(new byte[] { 1, 2, 3 });
            writer.Write(DateTime.UnixEpoch);
        });

        DirectMessage actual = MessageSerializer.Deserialize<DirectMessage>(new ReadOnlySequence<byte>(payload), out uint requestId);

        Assert.Equal(77u, requestId);
        MessageCatalog.AssertFieldsEqual(expected, actual);
    }

    [Fact]
    public void Deserialize_FieldlessMessageWithExtraFields_Succeeds()
    {
        byte[] payload = TestPayloads.Create((ref MessagePackWriter writer) =>
        {
            writer.WriteArrayHeader(4);
            writer.Write((int)Opcode.Ok);
            writer.Write(3u);
            writer.Write("extra");
            writer.WriteArrayHeader(0);
        });

        MessageSerializer.Deserialize<Ok>(new ReadOnlySequence<byte>(payload), out uint requestId);

        Assert.Equal(3u, requestId);
    }

    /// <summary>Guards forward compatibility inside nested records: a ServerStatus with extra elements still reads.</summary>
    [Fact]
    public void Deserialize_ServerStatusWithExtraElements_ReadsKnownElements()
    {
        var expected = (ServerStatus)MessageCatalog.CreateSample(typeof(ServerStatus));
        byte[] payload = TestPayloads.Create((ref MessagePackWriter writer) =>
        {
            writer.WriteArrayHeader(3);
            writer.Write((int)Opcode.ClusterStatus);
            writer.Write(0u);
            writer.WriteArrayHeader(2);
            for (int i = 0; i < 2; i++)
            {
                writer.WriteArrayHeader(10);
                writer.Write(expected.ServerId);
                writer.Write(expected.Host);
                writer.Write(expected.Port);
                writer.Write(expected.Connections);
                writer.Write(expected.Cpu);
                writer.Write(expected.MemoryBytes);
                writer.Write(expected.LastReportAt);
                writer.Write(expected.Live);
                writer.Write("zone-a");
                writer.WriteMapHeader(0);
            }
        });

        ClusterStatus status = MessageSerializer.Deserialize<ClusterStatus>(new ReadOnlySequence<byte>(payload), out _);

        Assert.Equal(2, status.Servers.Count);
        MessageCatalog.AssertFieldsEqual(expected, status.Servers[0]);
        MessageCatalog.AssertFieldsEqual(expected, status.Servers[1]);
    }

    /// <summary>Guards the "all v1 fields are required" rule: an older or truncated message is rejected with a clear message.</summary>
    [Fact]
    public void Deserialize_FewerFieldsThanVersion1_ThrowsNamingTheMessageAndCounts()
    {
        DirectMessage sample = TestPayloads.SampleDirectMessage();
        byte[] payload = TestPayloads.Create((ref MessagePackWriter writer) =>
        {
            writer.WriteArrayHeader(2 + 4);
            writer.Write((int)Opcode.DirectMessage);
            writer.Write(1u);
            writer.Write(sample.Id.ToByteArray());
            writer.Write(sample.Sender);
            writer.Write(sample.Recipient);
            writer.Write(sample.SentAt);
        });

        ProtocolViolationException ex = Assert.Throws<ProtocolViolationException>(
            () => MessageSerializer.Deserialize<DirectMessage>(new ReadOnlySequence<byte>(payload), out _));

        Assert.Equal("DirectMessage has 4 field(s); protocol version 1 requires 5.", ex.Message);
    }

    [Fact]
    public void Deserialize_ServerStatusWithTooFewElements_ThrowsNamingServerStatus()
    {
        byte[] payload = TestPayloads.Create((ref MessagePackWriter writer) =>
        {
            writer.WriteArrayHeader(3);
            writer.Write((int)Opcode.ClusterStatus);
            writer.Write(0u);
            writer.WriteArrayHeader(1);
            writer.WriteArrayHeader(2);
            writer.Write("s1");
            writer.Write("host");
        });

        ProtocolViolationException ex = Assert.Throws<ProtocolViolationException>(
            () => MessageSerializer.Deserialize<ClusterStatus>(new ReadOnlySequence<byte>(payload), out _));

        Assert.Equal("ServerStatus has 2 field(s); protocol version 1 requires 8.", ex.Message);
    }

    /// <summary>Guards open enums: values a newer peer defines are kept, not rejected.</summary>
    [Fact]
    public void Deserialize_UnknownEnumValues_AreKeptAsIs()
    {
        Hello hello = MessageSerializer.Deserialize<Hello>(
            new ReadOnlySequence<byte>(TestPayloads.Of(0, new Hello { Role = (PeerRole)200 })), out _);
        Error error = MessageSerializer.Deserialize<Error>(
            new ReadOnlySequence<byte>(TestPayloads.Of(0, new Error { Code = (ErrorCode)9999 })), out _);
        GroupChanged changed = MessageSerializer.Deserialize<GroupChanged>(
            new ReadOnlySequence<byte>(TestPayloads.Of(0, new GroupChanged { Kind = (GroupChangeKind)77 })), out _);

        Assert.Equal((PeerRole)200, hello.Role);
        Assert.Equal((ErrorCode)9999, error.Code);
        Assert.Equal((GroupChangeKind)77, changed.Kind);
    }

    /// <summary>Guards the first error grade: an unknown opcode is not the header reader's business; the dispatcher skips it.</summary>
    [Fact]
    public void ReadHeader_UnknownOpcode_ReturnsItWithoutError()
    {
        byte[] payload = TestPayloads.Create((ref MessagePackWriter writer) =>
        {
            writer.WriteArrayHeader(4);
            writer.Write(0xee);
            writer.Write(5u);
            writer.Write("a");
            writer.Write(new byte[] { 1 });
        });
        var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));

        MessageHeader header = MessageSerializer.ReadHeader(ref reader);

        Assert.Equal((Opcode)0xee, header.Opcode);
        Assert.False(Enum.IsDefined(header.Opcode));
        Assert.Equal(5u, header.RequestId);
        Assert.Equal(2, header.FieldCount);
        reader.Skip();
        reader.Skip();
        Assert.True(reader.End);
    }
}
