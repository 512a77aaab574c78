using System.Buffers;
using FastChat.Protocol.MessagePack;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

/// <summary>
/// Encodings checked by hand against the specification, byte by byte. A failure here means the wire format
/// changed: verify the new bytes against spec.md before touching the expectation.
/// </summary>
public class GoldenBytesTests
{
    [Fact]
    public void CompactSchemaMap_MatchesTheSpecificationsOwnExample()
    {
        // {"compact": true, "schema": 0}: fixmap(2), fixstr(7) "compact", true, fixstr(6) "schema", fixint 0.
        const string expected = "82 a7636f6d70616374 c3 a6736368656d61 00";
        byte[] written = Encode((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(2);
            w.Write("compact");
            w.Write(true);
            w.Write("schema");
            w.Write(0);
        });
        Assert.Equal(FromHex(expected), written);

        var reader = new MessagePackReader(FromHex(expected));
        Assert.Equal(2, reader.ReadMapHeader());
        Assert.Equal("compact", reader.ReadString());
        Assert.True(reader.ReadBoolean());
        Assert.Equal("schema", reader.ReadString());
        Assert.Equal(0, reader.ReadInt32());
        Assert.True(reader.End);
    }

    [Fact]
    public void FrameShapedArray_MatchesHandEncoding()
    {
        // [3, 300, "alice", bin[1, 2], -1 s before the epoch, 1.5f, nil, {}]
        const string expected =
            "98" +                                  // fixarray(8)
            "03" +                                  // positive fixint 3
            "cd012c" +                              // uint16 300
            "a5616c696365" +                        // fixstr(5) "alice"
            "c4020102" +                            // bin8(2) 01 02
            "c70cff00000000ffffffffffffffff" +      // ext8(12) type -1: ns 0, s -1 (timestamp 96)
            "ca3fc00000" +                          // float32 1.5
            "c0" +                                  // nil
            "80";                                   // fixmap(0)
        byte[] written = Encode((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(8);
            w.Write(3);
            w.Write(300);
            w.Write("alice");
            w.Write(new byte[] { 1, 2 });
            w.Write(DateTime.UnixEpoch.AddSeconds(-1));
            w.Write(1.5f);
            w.WriteNil();
            w.WriteMapHeader(0);
        });
        Assert.Equal(expected, Hex(written));

        var reader = new MessagePackReader(FromHex(expected));
        Assert.Equal(8, reader.ReadArrayHeader());
        Assert.Equal(3, reader.ReadByte());
        Assert.Equal(300, reader.ReadUInt16());
        Assert.Equal("alice", reader.ReadString());
        Assert.Equal(new byte[] { 1, 2 }, reader.ReadBytes()!.Value.ToArray());
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(-1), reader.ReadDateTime());
        Assert.Equal(1.5f, reader.ReadSingle());
        reader.ReadNil();
        Assert.Equal(0, reader.ReadMapHeader());
        Assert.True(reader.End);
    }

    [Fact]
    public void NestedEmptyContainers_MatchHandEncoding()
    {
        // [[], {}, [nil], [[-32]]]
        byte[] written = Encode((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(4);
            w.WriteArrayHeader(0);
            w.WriteMapHeader(0);
            w.WriteArrayHeader(1);
            w.WriteNil();
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(1);
            w.Write(-32);
        });
        Assert.Equal("949080 91c0 9191e0", Hex(written).Insert(6, " ").Insert(11, " "));
    }
}
