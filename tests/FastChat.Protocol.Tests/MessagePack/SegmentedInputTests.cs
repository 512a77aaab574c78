using System.Buffers;
using System.Text;
using FastChat.Protocol.MessagePack;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

/// <summary>
/// Pipes hand the reader data in segments that may split any token anywhere. These tests read one document of
/// every format family split at every offset, split twice within every short window, split into one-byte
/// segments and with empty segments, and require the same values every time.
/// </summary>
public class SegmentedInputTests
{
    private static readonly DateTime Timestamp32 = new(2021, 6, 15, 12, 34, 56, DateTimeKind.Utc);
    private static readonly DateTime Timestamp64 = Timestamp32.AddTicks(1_234_567);
    private static readonly DateTime Timestamp96 = new DateTime(1969, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(5);

    private static readonly long[] Integers =
    [
        0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, long.MaxValue,
        -1, -32, -33, -128, -129, -32768, -32769, int.MinValue, -2147483649, long.MinValue,
    ];

    private static readonly byte[] Document = Encode(WriteDocument);

    [Fact]
    public void Document_Contiguous_ReadsBack()
    {
        var reader = new MessagePackReader(Document);
        VerifyDocument(ref reader);
        Assert.True(reader.End);
    }

    [Fact]
    public void Document_SplitAtEveryOffset_ReadsBack()
    {
        for (int offset = 0; offset <= Document.Length; offset++)
        {
            AssertReadsBack(SequenceFactory.Split(Document, offset), $"split at {offset}");
        }
    }

    [Fact]
    public void Document_SplitTwiceWithinEveryShortWindow_ReadsBack()
    {
        for (int first = 1; first < Document.Length; first++)
        {
            for (int second = first + 1; second <= Math.Min(first + 10, Document.Length - 1); second++)
            {
                AssertReadsBack(SequenceFactory.Split(Document, first, second), $"split at {first} and {second}");
            }
        }
    }

    [Fact]
    public void Document_OneByteSegments_ReadsBack()
    {
        AssertReadsBack(SequenceFactory.OneByteSegments(Document), "one-byte segments");
    }

    [Fact]
    public void Document_EmptySegmentsInterleaved_ReadsBack()
    {
        for (int offset = 0; offset <= Document.Length; offset += 3)
        {
            AssertReadsBack(SequenceFactory.Split(Document, offset, offset, offset), $"empty segments at {offset}");
        }
    }

    [Fact]
    public void LargeValues_OneByteSegments_ReadBack()
    {
        string text16 = Text(300);
        string text32 = Text(70_000);
        byte[] bin16 = Pattern(300);
        byte[] bin32 = Pattern(70_000);
        byte[] data = Encode((ref MessagePackWriter w) =>
        {
            w.Write(text16);
            w.Write(text32);
            w.Write(bin16);
            w.Write(bin32);
            w.WriteExtensionFormat(new ExtensionResult(9, bin32));
            w.WriteArrayHeader(70_000);
            for (int i = 0; i < 70_000; i++)
            {
                w.Write(i & 0x7f);
            }
        });

        foreach (ReadOnlySequence<byte> sequence in new[] { SequenceFactory.OneByteSegments(data), SequenceFactory.Split(data, 2, 301, 70_001) })
        {
            var reader = new MessagePackReader(sequence);
            Assert.Equal(text16, reader.ReadString());
            Assert.Equal(text32, reader.ReadString());
            Assert.Equal(bin16, reader.ReadBytes()!.Value.ToArray());
            Assert.Equal(bin32, reader.ReadBytes()!.Value.ToArray());
            ExtensionResult extension = reader.ReadExtensionFormat();
            Assert.Equal(9, extension.TypeCode);
            Assert.Equal(bin32, extension.Data.ToArray());
            Assert.Equal(70_000, reader.ReadArrayHeader());
            for (int i = 0; i < 70_000; i++)
            {
                Assert.Equal(i & 0x7f, reader.ReadInt32());
            }

            Assert.True(reader.End);

            var skipper = new MessagePackReader(sequence);
            for (int i = 0; i < 6; i++)
            {
                skipper.Skip();
            }

            Assert.True(skipper.End);
        }
    }

    private static void AssertReadsBack(ReadOnlySequence<byte> sequence, string description)
    {
        var reader = new MessagePackReader(sequence);
        VerifyDocument(ref reader);
        Assert.True(reader.End, description);

        var skipper = new MessagePackReader(sequence);
        skipper.Skip();
        Assert.Equal(Document, skipper.Sequence.Slice(0, skipper.Position).ToArray());
        Assert.True(skipper.End, description);

        var raw = new MessagePackReader(sequence);
        Assert.Equal(Document, raw.ReadRaw().ToArray());
    }

    private static void WriteDocument(ref MessagePackWriter w)
    {
        // One top-level array so that Skip and ReadRaw cover the whole document.
        w.WriteArrayHeader(17);

        w.WriteNil();
        w.Write(true);
        w.Write(false);

        w.WriteArrayHeader(Integers.Length + 9);
        foreach (long value in Integers)
        {
            w.Write(value);
        }

        w.Write(ulong.MaxValue);
        w.WriteUInt8(1);
        w.WriteUInt16(2);
        w.WriteUInt32(3);
        w.WriteUInt64(4);
        w.WriteInt8(-1);
        w.WriteInt16(-2);
        w.WriteInt32(-3);
        w.WriteInt64(-4);

        w.Write(1.5f);
        w.Write(float.NegativeInfinity);
        w.Write(-0.0d);
        w.Write(double.MaxValue);

        w.Write(string.Empty);
        w.Write(Text(31));
        w.Write(Text(32));
        w.Write("é✓🚀");

        w.Write(ReadOnlySpan<byte>.Empty);
        w.Write(Pattern(40));

        w.WriteMapHeader(16);
        for (int i = 0; i < 16; i++)
        {
            w.Write("k" + i);
            w.WriteArrayHeader(1);
            w.Write(i * 1000);
        }

        w.WriteArrayHeader(8);
        foreach (int length in new[] { 1, 2, 4, 8, 16, 0, 3, 20 })
        {
            w.WriteExtensionFormat(new ExtensionResult((sbyte)length, Pattern(length)));
        }

        w.WriteArrayHeader(3);
        w.Write(Timestamp32);
        w.Write(Timestamp64);
        w.Write(Timestamp96);
    }

    private static void VerifyDocument(ref MessagePackReader r)
    {
        Assert.Equal(17, r.ReadArrayHeader());

        Assert.True(r.TryReadNil());
        Assert.True(r.ReadBoolean());
        Assert.False(r.ReadBoolean());

        Assert.Equal(Integers.Length + 9, r.ReadArrayHeader());
        foreach (long value in Integers)
        {
            Assert.Equal(value, r.ReadInt64());
        }

        Assert.Equal(ulong.MaxValue, r.ReadUInt64());
        Assert.Equal(1, r.ReadByte());
        Assert.Equal(2, r.ReadUInt16());
        Assert.Equal(3u, r.ReadUInt32());
        Assert.Equal(4, r.ReadInt32());
        Assert.Equal(-1, r.ReadSByte());
        Assert.Equal(-2, r.ReadInt16());
        Assert.Equal(-3, r.ReadInt32());
        Assert.Equal(-4, r.ReadInt64());

        Assert.Equal(1.5f, r.ReadSingle());
        Assert.Equal(double.NegativeInfinity, r.ReadDouble());
        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0d), BitConverter.DoubleToInt64Bits(r.ReadDouble()));
        Assert.Equal(double.MaxValue, r.ReadDouble());

        Assert.Equal(string.Empty, r.ReadString());
        Assert.Equal(Text(31), ReadStringZeroCopy(ref r));
        Assert.Equal(Text(32), r.ReadString());
        Assert.Equal("é✓🚀", ReadStringZeroCopy(ref r));

        Assert.Equal(0, r.ReadBytes()!.Value.Length);
        Assert.Equal(Pattern(40), r.ReadBytes()!.Value.ToArray());

        Assert.Equal(16, r.ReadMapHeader());
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal("k" + i, r.ReadString());
            Assert.Equal(1, r.ReadArrayHeader());
            Assert.Equal(i * 1000, r.ReadInt32());
        }

        Assert.Equal(8, r.ReadArrayHeader());
        foreach (int length in new[] { 1, 2, 4, 8, 16, 0, 3, 20 })
        {
            ExtensionResult extension = r.ReadExtensionFormat();
            Assert.Equal((sbyte)length, extension.TypeCode);
            Assert.Equal(Pattern(length), extension.Data.ToArray());
        }

        Assert.Equal(3, r.ReadArrayHeader());
        Assert.Equal(Timestamp32, r.ReadDateTime());
        Assert.Equal(Timestamp64, r.ReadDateTime());
        Assert.Equal(Timestamp96, r.ReadDateTime());
    }

    private static string ReadStringZeroCopy(ref MessagePackReader r)
    {
        if (r.TryReadStringSpan(out ReadOnlySpan<byte> span))
        {
            return Encoding.UTF8.GetString(span);
        }

        return Encoding.UTF8.GetString(r.ReadStringSequence()!.Value);
    }
}
