using System.Buffers;
using FastChat.Protocol.MessagePack;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

public class MessagePackWriterTests
{
    // Every edge of every signed range, with the exact encoding the spec prescribes for the smallest format.
    public static TheoryData<long, string> SignedIntegers => new()
    {
        { 0, "00" },
        { 1, "01" },
        { 127, "7f" },
        { 128, "cc80" },
        { 255, "ccff" },
        { 256, "cd0100" },
        { 65535, "cdffff" },
        { 65536, "ce00010000" },
        { 4294967295, "ceffffffff" },
        { 4294967296, "cf0000000100000000" },
        { long.MaxValue, "cf7fffffffffffffff" },
        { -1, "ff" },
        { -32, "e0" },
        { -33, "d0df" },
        { -128, "d080" },
        { -129, "d1ff7f" },
        { -32768, "d18000" },
        { -32769, "d2ffff7fff" },
        { int.MinValue, "d280000000" },
        { -2147483649, "d3ffffffff7fffffff" },
        { long.MinValue, "d38000000000000000" },
    };

    public static TheoryData<ulong, string> UnsignedIntegers => new()
    {
        { 0, "00" },
        { 127, "7f" },
        { 128, "cc80" },
        { 255, "ccff" },
        { 256, "cd0100" },
        { 65535, "cdffff" },
        { 65536, "ce00010000" },
        { uint.MaxValue, "ceffffffff" },
        { 1UL << 32, "cf0000000100000000" },
        { ulong.MaxValue, "cfffffffffffffffff" },
    };

    [Theory]
    [MemberData(nameof(SignedIntegers))]
    public void WriteInt64_RangeEdge_UsesSmallestFormat(long value, string expected)
    {
        Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write(value))));
    }

    [Theory]
    [MemberData(nameof(SignedIntegers))]
    public void WriteNarrowerSignedTypes_RangeEdge_MatchInt64Encoding(long value, string expected)
    {
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write((int)value))));
        }

        if (value is >= short.MinValue and <= short.MaxValue)
        {
            Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write((short)value))));
        }

        if (value is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write((sbyte)value))));
        }
    }

    [Theory]
    [MemberData(nameof(UnsignedIntegers))]
    public void WriteUnsignedTypes_RangeEdge_UseSmallestFormat(ulong value, string expected)
    {
        Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write(value))));
        if (value <= uint.MaxValue)
        {
            Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write((uint)value))));
        }

        if (value <= ushort.MaxValue)
        {
            Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write((ushort)value))));
        }

        if (value <= byte.MaxValue)
        {
            Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write((byte)value))));
        }
    }

    [Fact]
    public void WriteForcedFormats_SmallValues_KeepTheRequestedFormat()
    {
        Assert.Equal("cc05", Hex(Encode((ref MessagePackWriter w) => w.WriteUInt8(5))));
        Assert.Equal("cd0005", Hex(Encode((ref MessagePackWriter w) => w.WriteUInt16(5))));
        Assert.Equal("ce00000005", Hex(Encode((ref MessagePackWriter w) => w.WriteUInt32(5))));
        Assert.Equal("cf0000000000000005", Hex(Encode((ref MessagePackWriter w) => w.WriteUInt64(5))));
        Assert.Equal("d0fb", Hex(Encode((ref MessagePackWriter w) => w.WriteInt8(-5))));
        Assert.Equal("d1fffb", Hex(Encode((ref MessagePackWriter w) => w.WriteInt16(-5))));
        Assert.Equal("d2fffffffb", Hex(Encode((ref MessagePackWriter w) => w.WriteInt32(-5))));
        Assert.Equal("d3fffffffffffffffb", Hex(Encode((ref MessagePackWriter w) => w.WriteInt64(-5))));
    }

    [Fact]
    public void WriteNilAndBooleans_Always_UseTheirSingleByteCodes()
    {
        Assert.Equal("c0", Hex(Encode((ref MessagePackWriter w) => w.WriteNil())));
        Assert.Equal("c3", Hex(Encode((ref MessagePackWriter w) => w.Write(true))));
        Assert.Equal("c2", Hex(Encode((ref MessagePackWriter w) => w.Write(false))));
        Assert.Equal("c0", Hex(Encode((ref MessagePackWriter w) => w.Write((string?)null))));
    }

    [Fact]
    public void WriteFloats_SpecialValues_AreBitExactBigEndian()
    {
        Assert.Equal("ca3fc00000", Hex(Encode((ref MessagePackWriter w) => w.Write(1.5f))));
        Assert.Equal("ca7f800000", Hex(Encode((ref MessagePackWriter w) => w.Write(float.PositiveInfinity))));
        Assert.Equal("caff800000", Hex(Encode((ref MessagePackWriter w) => w.Write(float.NegativeInfinity))));
        Assert.Equal("ca80000000", Hex(Encode((ref MessagePackWriter w) => w.Write(-0.0f))));
        Assert.Equal("ca00000001", Hex(Encode((ref MessagePackWriter w) => w.Write(float.Epsilon))));
        Assert.Equal("ca7f7fffff", Hex(Encode((ref MessagePackWriter w) => w.Write(float.MaxValue))));
        Assert.Equal("cb3ff8000000000000", Hex(Encode((ref MessagePackWriter w) => w.Write(1.5d))));
        Assert.Equal("cb7ff0000000000000", Hex(Encode((ref MessagePackWriter w) => w.Write(double.PositiveInfinity))));
        Assert.Equal("cbfff0000000000000", Hex(Encode((ref MessagePackWriter w) => w.Write(double.NegativeInfinity))));
        Assert.Equal("cb8000000000000000", Hex(Encode((ref MessagePackWriter w) => w.Write(-0.0d))));
        Assert.Equal("cb0000000000000001", Hex(Encode((ref MessagePackWriter w) => w.Write(double.Epsilon))));
        Assert.Equal("cb7fefffffffffffff", Hex(Encode((ref MessagePackWriter w) => w.Write(double.MaxValue))));
        Assert.Equal("cbffefffffffffffff", Hex(Encode((ref MessagePackWriter w) => w.Write(double.MinValue))));
        byte[] nan = Encode((ref MessagePackWriter w) => w.Write(double.NaN));
        Assert.Equal(MessagePackCode.Float64, nan[0]);
        Assert.True(double.IsNaN(Read(nan, (ref MessagePackReader r) => r.ReadDouble())));
    }

    [Theory]
    [InlineData(0, "a0")]
    [InlineData(31, "bf")]
    [InlineData(32, "d920")]
    [InlineData(255, "d9ff")]
    [InlineData(256, "da0100")]
    [InlineData(65535, "daffff")]
    [InlineData(65536, "db00010000")]
    public void WriteString_LengthBoundary_UsesSmallestHeader(int length, string header)
    {
        string text = Text(length);
        byte[] fromString = Encode((ref MessagePackWriter w) => w.Write(text));
        byte[] fromUtf8 = Encode((ref MessagePackWriter w) => w.WriteString(System.Text.Encoding.UTF8.GetBytes(text)));
        byte[] fromHeader = Encode((ref MessagePackWriter w) =>
        {
            w.WriteStringHeader(length);
            w.WriteRaw(System.Text.Encoding.UTF8.GetBytes(text));
        });

        Assert.Equal(header, Hex(fromString.AsSpan(0, header.Length / 2)));
        Assert.Equal((header.Length / 2) + length, fromString.Length);
        Assert.Equal(fromString, fromUtf8);
        Assert.Equal(fromString, fromHeader);
        Assert.Equal(text, Read(fromString, (ref MessagePackReader r) => r.ReadString()));
    }

    [Fact]
    public void WriteString_MultiByteCharacters_HeaderCountsUtf8Bytes()
    {
        // 11 characters, but "é", "✓" and the surrogate pair take 2, 3 and 4 UTF-8 bytes.
        string text = "é✓🚀abcdefgh";
        byte[] bytes = Encode((ref MessagePackWriter w) => w.Write(text));
        Assert.Equal((byte)(MessagePackCode.MinFixStr | 17), bytes[0]);
        Assert.Equal(18, bytes.Length);
        Assert.Equal(text, Read(bytes, (ref MessagePackReader r) => r.ReadString()));
    }

    [Theory]
    [InlineData(0, "c400")]
    [InlineData(1, "c401")]
    [InlineData(255, "c4ff")]
    [InlineData(256, "c50100")]
    [InlineData(65535, "c5ffff")]
    [InlineData(65536, "c600010000")]
    public void WriteBinary_LengthBoundary_UsesSmallestHeader(int length, string header)
    {
        byte[] payload = Pattern(length);
        byte[] fromSpan = Encode((ref MessagePackWriter w) => w.Write(payload));
        byte[] fromSequence = Encode((ref MessagePackWriter w) =>
            w.Write(SequenceFactory.Split(payload, length / 3, length / 2)));
        byte[] fromHeader = Encode((ref MessagePackWriter w) =>
        {
            w.WriteBinHeader(length);
            w.WriteRaw(payload);
        });

        Assert.Equal(header, Hex(fromSpan.AsSpan(0, header.Length / 2)));
        Assert.Equal(payload, fromSpan.AsSpan(header.Length / 2).ToArray());
        Assert.Equal(fromSpan, fromSequence);
        Assert.Equal(fromSpan, fromHeader);
    }

    [Theory]
    [InlineData(0, "90", "80")]
    [InlineData(1, "91", "81")]
    [InlineData(15, "9f", "8f")]
    [InlineData(16, "dc0010", "de0010")]
    [InlineData(65535, "dcffff", "deffff")]
    [InlineData(65536, "dd00010000", "df00010000")]
    public void WriteArrayAndMapHeaders_CountBoundary_UseSmallestHeader(int count, string arrayHeader, string mapHeader)
    {
        Assert.Equal(arrayHeader, Hex(Encode((ref MessagePackWriter w) => w.WriteArrayHeader(count))));
        Assert.Equal(arrayHeader, Hex(Encode((ref MessagePackWriter w) => w.WriteArrayHeader((uint)count))));
        Assert.Equal(mapHeader, Hex(Encode((ref MessagePackWriter w) => w.WriteMapHeader(count))));
        Assert.Equal(mapHeader, Hex(Encode((ref MessagePackWriter w) => w.WriteMapHeader((uint)count))));
    }

    [Fact]
    public void WriteArrayAndMapHeaders_MaximumCount_UseArray32AndMap32()
    {
        Assert.Equal("ddffffffff", Hex(Encode((ref MessagePackWriter w) => w.WriteArrayHeader(uint.MaxValue))));
        Assert.Equal("dfffffffff", Hex(Encode((ref MessagePackWriter w) => w.WriteMapHeader(uint.MaxValue))));
    }

    [Theory]
    [InlineData(1, "d42a")]
    [InlineData(2, "d52a")]
    [InlineData(4, "d62a")]
    [InlineData(8, "d72a")]
    [InlineData(16, "d82a")]
    [InlineData(0, "c7002a")]
    [InlineData(3, "c7032a")]
    [InlineData(17, "c7112a")]
    [InlineData(255, "c7ff2a")]
    [InlineData(256, "c801002a")]
    [InlineData(65535, "c8ffff2a")]
    [InlineData(65536, "c9000100002a")]
    public void WriteExtension_LengthBoundary_UsesFixExtOrSmallestExtHeader(int length, string header)
    {
        byte[] data = Pattern(length);
        byte[] whole = Encode((ref MessagePackWriter w) => w.WriteExtensionFormat(new ExtensionResult(42, data)));
        byte[] split = Encode((ref MessagePackWriter w) =>
            w.WriteExtensionFormat(new ExtensionResult(42, SequenceFactory.Split(data, length / 2, length / 2))));
        byte[] headerOnly = Encode((ref MessagePackWriter w) =>
            w.WriteExtensionFormatHeader(new ExtensionHeader(42, length)));

        Assert.Equal(header, Hex(headerOnly));
        Assert.Equal(header + Hex(data), Hex(whole));
        Assert.Equal(whole, split);
    }

    [Fact]
    public void WriteExtension_NegativeTypeCode_IsWrittenAsSignedByte()
    {
        Assert.Equal("d480ff", Hex(Encode((ref MessagePackWriter w) =>
            w.WriteExtensionFormat(new ExtensionResult(sbyte.MinValue, new byte[] { 0xff })))));
    }

    public static TheoryData<DateTime, string> Timestamps => new()
    {
        // timestamp 32: whole seconds in [0, 2^32).
        { DateTime.UnixEpoch, "d6ff00000000" },
        { DateTime.UnixEpoch.AddSeconds(1), "d6ff00000001" },
        { DateTime.UnixEpoch.AddSeconds(uint.MaxValue), "d6ffffffffff" },

        // timestamp 64: nanoseconds, or seconds in [2^32, 2^34).
        { DateTime.UnixEpoch.AddTicks(1), "d7ff0000019000000000" },
        { DateTime.UnixEpoch.AddSeconds(1L << 32), "d7ff0000000100000000" },
        { DateTime.UnixEpoch.AddSeconds((1L << 34) - 1), "d7ff00000003ffffffff" },
        { DateTime.UnixEpoch.AddSeconds(1).AddTicks(9_999_999), "d7ffee6b267000000001" },

        // timestamp 96: negative seconds or seconds of 2^34 and beyond.
        { DateTime.UnixEpoch.AddSeconds(-1), "c70cff00000000ffffffffffffffff" },
        { DateTime.UnixEpoch.AddTicks(-1), "c70cff3b9ac99cffffffffffffffff" },
        { DateTime.UnixEpoch.AddSeconds(1L << 34), "c70cff000000000000000400000000" },
        { DateTime.MinValue, "c70cff00000000fffffff1886e0900" },
        { DateTime.MaxValue, "c70cff3b9ac99c0000003afff4417f" },
    };

    [Theory]
    [MemberData(nameof(Timestamps))]
    public void WriteDateTime_Instant_UsesSmallestTimestampForm(DateTime value, string expected)
    {
        DateTime utc = DateTime.SpecifyKind(value, DateTimeKind.Utc);
        Assert.Equal(expected, Hex(Encode((ref MessagePackWriter w) => w.Write(utc))));
        DateTime read = Read(FromHex(expected), (ref MessagePackReader r) => r.ReadDateTime());
        Assert.Equal(utc, read);
        Assert.Equal(DateTimeKind.Utc, read.Kind);
    }

    [Fact]
    public void WriteDateTime_LocalKind_IsConvertedToUtc()
    {
        var utc = new DateTime(2021, 6, 15, 12, 34, 56, 789, DateTimeKind.Utc);
        DateTime local = utc.ToLocalTime();
        Assert.Equal(
            Hex(Encode((ref MessagePackWriter w) => w.Write(utc))),
            Hex(Encode((ref MessagePackWriter w) => w.Write(local))));
    }

    [Fact]
    public void WriteDateTime_UnspecifiedKind_IsTakenAsUtc()
    {
        var utc = new DateTime(2021, 6, 15, 12, 34, 56, DateTimeKind.Utc);
        DateTime unspecified = DateTime.SpecifyKind(utc, DateTimeKind.Unspecified);
        byte[] bytes = Encode((ref MessagePackWriter w) => w.Write(unspecified));
        Assert.Equal(Hex(Encode((ref MessagePackWriter w) => w.Write(utc))), Hex(bytes));
        Assert.Equal(1623760496u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(2)));
    }

    [Fact]
    public void BytesWritten_BeforeAndAfterFlush_CountsEveryByte()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        Assert.Equal(0, writer.BytesWritten);
        writer.WriteArrayHeader(2);
        writer.Write(300);
        Assert.Equal(4, writer.BytesWritten);
        Assert.Equal(0, buffer.WrittenCount);
        writer.Flush();
        Assert.Equal(4, buffer.WrittenCount);
        writer.Write("abc");
        Assert.Equal(8, writer.BytesWritten);
        writer.Flush();
        Assert.Equal("92cd012ca3616263", Hex(buffer.WrittenSpan));
    }

    [Fact]
    public void GetSpanAndAdvance_RawBytes_LandBetweenValues()
    {
        byte[] bytes = Encode((ref MessagePackWriter w) =>
        {
            w.Write(1);
            Span<byte> span = w.GetSpan(3);
            Assert.True(span.Length >= 3);
            span[0] = 0xa2;
            span[1] = (byte)'h';
            span[2] = (byte)'i';
            w.Advance(3);
            w.Write(2);
        });
        Assert.Equal("01a2686902", Hex(bytes));
    }

    [Fact]
    public void Writer_SmallSegmentDestination_SpreadsLargePayloadsAcrossSegments()
    {
        var destination = new TinySegmentWriter(7);
        var writer = new MessagePackWriter(destination);
        byte[] payload = Pattern(1000);
        writer.Write(Text(300));
        writer.Write(payload);
        writer.WriteRaw(SequenceFactory.Split(payload, 10, 500));
        writer.Flush();

        byte[] expected = Encode((ref MessagePackWriter w) =>
        {
            w.Write(Text(300));
            w.Write(payload);
            w.WriteRaw(payload);
        });
        Assert.Equal(expected, destination.ToArray());
    }

    [Fact]
    public void Constructor_NullDestination_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new MessagePackWriter(null!));
    }

    [Fact]
    public void HeaderWriters_NegativeLengths_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode((ref MessagePackWriter w) => w.WriteArrayHeader(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode((ref MessagePackWriter w) => w.WriteMapHeader(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode((ref MessagePackWriter w) => w.WriteBinHeader(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode((ref MessagePackWriter w) => w.WriteStringHeader(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode((ref MessagePackWriter w) => w.GetSpan(-1)));
    }

    // A destination that hands out spans no longer than asked for (and at most `segmentSize` when asked for
    // less), so headers and payloads regularly run into the end of a span.
    private sealed class TinySegmentWriter(int segmentSize) : IBufferWriter<byte>
    {
        private readonly List<byte> _written = [];
        private byte[] _current = [];

        public void Advance(int count)
        {
            _written.AddRange(_current.AsSpan(0, count).ToArray());
            _current = [];
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            _current = new byte[Math.Max(sizeHint, segmentSize)];
            return _current;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public byte[] ToArray() => [.. _written];
    }
}
