using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastChat.Protocol.MessagePack;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

public class MessagePackReaderTests
{
    // Every encoding of 5 and of -5, including the wide, non-minimal ones other writers may produce.
    public static TheoryData<string, long> EncodingsOfSmallIntegers => new()
    {
        { "05", 5 },
        { "cc05", 5 },
        { "cd0005", 5 },
        { "ce00000005", 5 },
        { "cf0000000000000005", 5 },
        { "d005", 5 },
        { "d10005", 5 },
        { "d200000005", 5 },
        { "d30000000000000005", 5 },
        { "fb", -5 },
        { "d0fb", -5 },
        { "d1fffb", -5 },
        { "d2fffffffb", -5 },
        { "d3fffffffffffffffb", -5 },
    };

    [Theory]
    [MemberData(nameof(EncodingsOfSmallIntegers))]
    public void IntegerReads_AnyEncodingWhoseValueFits_ReturnTheValue(string hex, long value)
    {
        byte[] data = FromHex(hex);
        Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadInt64()));
        Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadInt32()));
        Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadInt16()));
        Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadSByte()));
        Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadDouble()));
        Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadSingle()));
        if (value >= 0)
        {
            Assert.Equal((ulong)value, Read(data, (ref MessagePackReader r) => r.ReadUInt64()));
            Assert.Equal((uint)value, Read(data, (ref MessagePackReader r) => r.ReadUInt32()));
            Assert.Equal((ushort)value, Read(data, (ref MessagePackReader r) => r.ReadUInt16()));
            Assert.Equal((byte)value, Read(data, (ref MessagePackReader r) => r.ReadByte()));
        }
    }

    [Theory]
    [MemberData(nameof(MessagePackWriterTests.SignedIntegers), MemberType = typeof(MessagePackWriterTests))]
    public void ReadInt64_RangeEdges_RoundTrip(long value, string hex)
    {
        Assert.Equal(value, Read(FromHex(hex), (ref MessagePackReader r) => r.ReadInt64()));
    }

    [Theory]
    [MemberData(nameof(MessagePackWriterTests.UnsignedIntegers), MemberType = typeof(MessagePackWriterTests))]
    public void ReadUInt64_RangeEdges_RoundTrip(ulong value, string hex)
    {
        Assert.Equal(value, Read(FromHex(hex), (ref MessagePackReader r) => r.ReadUInt64()));
    }

    [Fact]
    public void NarrowIntegerReads_TypeEdges_RoundTrip()
    {
        foreach (int value in new[] { sbyte.MinValue, -1, 0, sbyte.MaxValue })
        {
            Assert.Equal(value, Read(Encode((ref MessagePackWriter w) => w.Write(value)), (ref MessagePackReader r) => r.ReadSByte()));
        }

        foreach (int value in new[] { short.MinValue, sbyte.MinValue - 1, short.MaxValue })
        {
            Assert.Equal(value, Read(Encode((ref MessagePackWriter w) => w.Write(value)), (ref MessagePackReader r) => r.ReadInt16()));
        }

        foreach (int value in new[] { int.MinValue, short.MinValue - 1, int.MaxValue })
        {
            Assert.Equal(value, Read(Encode((ref MessagePackWriter w) => w.Write(value)), (ref MessagePackReader r) => r.ReadInt32()));
        }

        foreach (uint value in new uint[] { 0, byte.MaxValue, ushort.MaxValue, uint.MaxValue })
        {
            byte[] data = Encode((ref MessagePackWriter w) => w.Write(value));
            Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadUInt32()));
            if (value <= ushort.MaxValue)
            {
                Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadUInt16()));
            }

            if (value <= byte.MaxValue)
            {
                Assert.Equal(value, Read(data, (ref MessagePackReader r) => r.ReadByte()));
            }
        }
    }

    /// <summary>Guards against integer reads wrapping or throwing <see cref="OverflowException"/> instead of the library exception.</summary>
    [Theory]
    [InlineData("cfffffffffffffffff", "Int64", "18446744073709551615 (uint64) does not fit Int64")]
    [InlineData("cf8000000000000000", "Int64", "9223372036854775808 (uint64) does not fit Int64")]
    [InlineData("ce80000000", "Int32", "2147483648 (uint32) does not fit Int32")]
    [InlineData("d3ffffffff7fffffff", "Int32", "-2147483649 (int64) does not fit Int32")]
    [InlineData("cd8000", "Int16", "32768 (uint16) does not fit Int16")]
    [InlineData("d2ffff7fff", "Int16", "-32769 (int32) does not fit Int16")]
    [InlineData("cc80", "SByte", "128 (uint8) does not fit SByte")]
    [InlineData("d1ff7f", "SByte", "-129 (int16) does not fit SByte")]
    [InlineData("cd0100", "Byte", "256 (uint16) does not fit Byte")]
    [InlineData("ff", "Byte", "-1 (negative fixint) does not fit Byte")]
    [InlineData("ce00010000", "UInt16", "65536 (uint32) does not fit UInt16")]
    [InlineData("d0ff", "UInt16", "-1 (int8) does not fit UInt16")]
    [InlineData("cf0000000100000000", "UInt32", "4294967296 (uint64) does not fit UInt32")]
    [InlineData("e0", "UInt32", "-32 (negative fixint) does not fit UInt32")]
    [InlineData("d38000000000000000", "UInt64", "-9223372036854775808 (int64) does not fit UInt64")]
    public void IntegerReads_ValueOutOfRange_ThrowLibraryException(string hex, string target, string message)
    {
        byte[] data = FromHex(hex);
        ReadFunc<object> read = target switch
        {
            "Int64" => (ref MessagePackReader r) => r.ReadInt64(),
            "Int32" => (ref MessagePackReader r) => r.ReadInt32(),
            "Int16" => (ref MessagePackReader r) => r.ReadInt16(),
            "SByte" => (ref MessagePackReader r) => r.ReadSByte(),
            "Byte" => (ref MessagePackReader r) => r.ReadByte(),
            "UInt16" => (ref MessagePackReader r) => r.ReadUInt16(),
            "UInt32" => (ref MessagePackReader r) => r.ReadUInt32(),
            _ => (ref MessagePackReader r) => r.ReadUInt64(),
        };
        var ex = Assert.Throws<MessagePackSerializationException>(() => Read(data, read));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards the documented decision that float encodings are not integers.</summary>
    [Theory]
    [InlineData("ca3f800000", "0xca (float32)")]
    [InlineData("cb3ff0000000000000", "0xcb (float64)")]
    public void IntegerReads_FloatEncoding_AreRefused(string hex, string found)
    {
        var ex = Assert.Throws<MessagePackSerializationException>(() => Read(FromHex(hex), (ref MessagePackReader r) => r.ReadInt32()));
        Assert.Equal($"Unexpected msgpack code {found} encountered while reading an integer.", ex.Message);
    }

    [Fact]
    public void ReadSingle_Float64_IsRefused()
    {
        var ex = Assert.Throws<MessagePackSerializationException>(() =>
            Read(FromHex("cb3ff0000000000000"), (ref MessagePackReader r) => r.ReadSingle()));
        Assert.Contains("0xcb (float64)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadDouble_Float32AndIntegers_AreWidened()
    {
        Assert.Equal(1.5, Read(FromHex("ca3fc00000"), (ref MessagePackReader r) => r.ReadDouble()));
        Assert.Equal(18446744073709551615.0, Read(FromHex("cfffffffffffffffff"), (ref MessagePackReader r) => r.ReadDouble()));
        Assert.Equal(-9223372036854775808.0, Read(FromHex("d38000000000000000"), (ref MessagePackReader r) => r.ReadDouble()));
        Assert.Equal(-1f, Read(FromHex("ff"), (ref MessagePackReader r) => r.ReadSingle()));
    }

    public static TheoryData<double> SpecialDoubles => new()
    {
        double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, double.Epsilon, double.MaxValue,
        double.MinValue, Math.PI, BitConverter.Int64BitsToDouble(0x7ff4_0000_0000_0001), 2.2250738585072014E-308,
    };

    [Theory]
    [MemberData(nameof(SpecialDoubles))]
    public void ReadDouble_SpecialValues_RoundTripBitForBit(double value)
    {
        double read = Read(Encode((ref MessagePackWriter w) => w.Write(value)), (ref MessagePackReader r) => r.ReadDouble());
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(read));
    }

    public static TheoryData<float> SpecialSingles => new()
    {
        float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0.0f, 0.0f, float.Epsilon, float.MaxValue,
        float.MinValue, 1.17549435E-38f, 0.1f,
    };

    [Theory]
    [MemberData(nameof(SpecialSingles))]
    public void ReadSingle_SpecialValues_RoundTripBitForBit(float value)
    {
        byte[] data = Encode((ref MessagePackWriter w) => w.Write(value));
        float read = Read(data, (ref MessagePackReader r) => r.ReadSingle());
        Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(read));
        double widened = Read(data, (ref MessagePackReader r) => r.ReadDouble());
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(widened));
    }

    [Fact]
    public void ReadBooleanAndNil_TheirCodes_AreRead()
    {
        Assert.True(Read(FromHex("c3"), (ref MessagePackReader r) => r.ReadBoolean()));
        Assert.False(Read(FromHex("c2"), (ref MessagePackReader r) => r.ReadBoolean()));
        Read(FromHex("c0"), (ref MessagePackReader r) =>
        {
            r.ReadNil();
            return 0;
        });
        Assert.True(Read(FromHex("c0"), (ref MessagePackReader r) => r.TryReadNil()));
    }

    [Fact]
    public void TryReadNil_OtherToken_ReturnsFalseAndReadsNothing()
    {
        var reader = new MessagePackReader(FromHex("01"));
        Assert.False(reader.TryReadNil());
        Assert.Equal(0, reader.Consumed);
        Assert.False(reader.IsNil);
        Assert.Equal(1, reader.ReadInt32());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("héllo wörld ✓ 🚀 日本語")]
    [InlineData("nul\0inside")]
    public void ReadString_RoundTrip_ReturnsTheString(string value)
    {
        Assert.Equal(value, Read(Encode((ref MessagePackWriter w) => w.Write(value)), (ref MessagePackReader r) => r.ReadString()));
    }

    [Fact]
    public void StringReads_Nil_ReturnNullOrFalse()
    {
        byte[] nil = FromHex("c0");
        Assert.Null(Read(nil, (ref MessagePackReader r) => r.ReadString()));
        Assert.Null(Read(nil, (ref MessagePackReader r) => r.ReadStringSequence()));
        Assert.Null(Read(nil, (ref MessagePackReader r) => r.ReadBytes()));

        var reader = new MessagePackReader(nil);
        Assert.False(reader.TryReadStringSpan(out ReadOnlySpan<byte> span));
        Assert.True(span.IsEmpty);
        Assert.Equal(0, reader.Consumed);
    }

    [Fact]
    public void TryReadStringSpan_ContiguousString_ReturnsAViewOfTheInput()
    {
        byte[] data = FromHex("a3616263 01");
        var reader = new MessagePackReader(data);
        Assert.True(reader.TryReadStringSpan(out ReadOnlySpan<byte> span));
        Assert.Equal("abc"u8.ToArray(), span.ToArray());
        Assert.True(Unsafe.AreSame(in span[0], in data[1]));
        Assert.Equal(1, reader.ReadInt32());
    }

    [Fact]
    public void TryReadStringSpan_StringAcrossSegments_ReturnsFalseWithoutReading()
    {
        byte[] data = FromHex("a3616263");
        var reader = new MessagePackReader(SequenceFactory.Split(data, 2));
        Assert.False(reader.TryReadStringSpan(out _));
        Assert.Equal(0, reader.Consumed);
        ReadOnlySequence<byte>? sequence = reader.ReadStringSequence();
        Assert.Equal("abc"u8.ToArray(), sequence!.Value.ToArray());
        Assert.True(reader.End);
    }

    [Fact]
    public void TryReadStringSpan_HeaderAcrossSegmentsButBytesInOne_ReturnsTheBytes()
    {
        byte[] data = FromHex("d903616263");
        var reader = new MessagePackReader(SequenceFactory.Split(data, 1));
        Assert.True(reader.TryReadStringSpan(out ReadOnlySpan<byte> span));
        Assert.Equal("abc"u8.ToArray(), span.ToArray());
        Assert.True(reader.End);
    }

    [Fact]
    public void ReadBytes_Payload_IsASliceOfTheInputNotACopy()
    {
        byte[] data = FromHex("c403010203");
        var reader = new MessagePackReader(data);
        ReadOnlySequence<byte> bytes = reader.ReadBytes()!.Value;
        Assert.True(MemoryMarshal.TryGetArray(bytes.First, out ArraySegment<byte> segment));
        Assert.Same(data, segment.Array);
        Assert.Equal(2, segment.Offset);
        Assert.Equal(new byte[] { 1, 2, 3 }, bytes.ToArray());
    }

    [Fact]
    public void ReadExtensionFormat_Data_IsASliceOfTheInput()
    {
        byte[] data = FromHex("d6070a0b0c0d");
        var reader = new MessagePackReader(data);
        ExtensionResult extension = reader.ReadExtensionFormat();
        Assert.Equal(7, extension.TypeCode);
        Assert.Equal(new ExtensionHeader(7, 4u), extension.Header);
        Assert.True(MemoryMarshal.TryGetArray(extension.Data.First, out ArraySegment<byte> segment));
        Assert.Same(data, segment.Array);
        Assert.Equal("0a0b0c0d", Hex(extension.Data.ToArray()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void ReadExtensionFormat_EveryFamily_RoundTrips(int length)
    {
        byte[] payload = Pattern(length);
        byte[] data = Encode((ref MessagePackWriter w) => w.WriteExtensionFormat(new ExtensionResult(-100, payload)));
        ExtensionHeader header = Read(data, (ref MessagePackReader r) =>
        {
            var peek = r.CreatePeekReader();
            ExtensionHeader h = peek.ReadExtensionFormatHeader();
            Assert.True(r.TryReadExtensionFormatHeader(out ExtensionHeader again));
            Assert.Equal(h, again);
            r.ReadRaw(h.Length);
            return h;
        });
        Assert.Equal(new ExtensionHeader(-100, length), header);
        ExtensionResult result = Read(data, (ref MessagePackReader r) => r.ReadExtensionFormat());
        Assert.Equal(payload, result.Data.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void ReadStringAndBytes_LengthBoundaries_RoundTrip(int length)
    {
        string text = Text(length);
        byte[] payload = Pattern(length);
        byte[] data = Encode((ref MessagePackWriter w) =>
        {
            w.Write(text);
            w.Write(payload);
        });
        Read(data, (ref MessagePackReader r) =>
        {
            Assert.Equal(text, r.ReadString());
            Assert.Equal(payload, r.ReadBytes()!.Value.ToArray());
            return 0;
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void ReadArrayAndMapHeaders_CountBoundaries_RoundTrip(int count)
    {
        byte[] data = Encode((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(count);
            for (int i = 0; i < count; i++)
            {
                w.Write(i & 0x7f);
            }

            w.WriteMapHeader(count);
            for (int i = 0; i < count; i++)
            {
                w.Write(i);
                w.WriteNil();
            }
        });
        Read(data, (ref MessagePackReader r) =>
        {
            Assert.Equal(MessagePackType.Array, r.NextMessagePackType);
            Assert.Equal(count, r.ReadArrayHeader());
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(i & 0x7f, r.ReadInt32());
            }

            Assert.True(r.CreatePeekReader().TryReadMapHeader(out int peeked));
            Assert.Equal(count, peeked);
            Assert.Equal(count, r.ReadMapHeader());
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(i, r.ReadInt32());
                r.ReadNil();
            }

            return 0;
        });
    }

    [Fact]
    public void ReadDateTime_ThreeForms_AreUtc()
    {
        var expected32 = new DateTime(2021, 6, 15, 12, 34, 56, DateTimeKind.Utc);
        var expected64 = new DateTime(2021, 6, 15, 12, 34, 56, DateTimeKind.Utc).AddTicks(1_234_567);
        var expected96 = new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(1);
        byte[] data = Encode((ref MessagePackWriter w) =>
        {
            w.Write(expected32);
            w.Write(expected64);
            w.Write(expected96);
        });
        Assert.Equal(MessagePackCode.FixExt4, data[0]);
        Assert.Equal(MessagePackCode.FixExt8, data[6]);
        Assert.Equal(MessagePackCode.Ext8, data[16]);
        Read(data, (ref MessagePackReader r) =>
        {
            foreach (DateTime expected in new[] { expected32, expected64, expected96 })
            {
                Assert.Equal(MessagePackType.Extension, r.NextMessagePackType);
                DateTime actual = r.ReadDateTime();
                Assert.Equal(expected, actual);
                Assert.Equal(DateTimeKind.Utc, actual.Kind);
            }

            return 0;
        });
    }

    [Fact]
    public void ReadDateTime_NanosecondsBelowTickResolution_AreTruncated()
    {
        // timestamp 96: 999,999,999 ns before the epoch's next second, i.e. -1 s + 999,999,999 ns.
        byte[] data = FromHex("c70cff 3b9ac9ff ffffffffffffffff");
        DateTime read = Read(data, (ref MessagePackReader r) => r.ReadDateTime());
        Assert.Equal(DateTime.UnixEpoch.AddTicks(-1), read);
    }

    [Fact]
    public void Skip_EveryKindOfValue_LandsOnTheNextValue()
    {
        byte[] data = Encode((ref MessagePackWriter w) =>
        {
            w.WriteNil();
            w.Write(true);
            w.Write(-100000);
            w.Write(ulong.MaxValue);
            w.Write(1.5f);
            w.Write(2.5);
            w.Write(Text(40));
            w.Write(Pattern(300));
            w.WriteExtensionFormat(new ExtensionResult(5, Pattern(17)));
            w.Write(DateTime.UnixEpoch.AddTicks(-1));
            w.WriteArrayHeader(3);
            w.Write(1);
            w.WriteMapHeader(1);
            w.Write("k");
            w.WriteArrayHeader(0);
            w.WriteMapHeader(0);
            w.WriteArrayHeader(16);
            for (int i = 0; i < 16; i++)
            {
                w.WriteArrayHeader(1);
                w.Write(i);
            }

            w.Write("end");
        });
        var reader = new MessagePackReader(data);
        for (int i = 0; i < 12; i++)
        {
            reader.Skip();
        }

        Assert.Equal("end", reader.ReadString());
        Assert.True(reader.End);
    }

    [Fact]
    public void ReadRaw_NextStructure_ReturnsExactlyItsBytes()
    {
        byte[] first = Encode((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(2);
            w.Write("a");
            w.WriteArrayHeader(2);
            w.Write(1);
            w.Write("xyz");
            w.Write("b");
            w.Write(Pattern(3));
        });
        byte[] data = [.. first, 0x2a];
        var reader = new MessagePackReader(SequenceFactory.Split(data, 3, 7));
        Assert.Equal(first, reader.ReadRaw().ToArray());
        Assert.Equal(42, reader.ReadInt32());
    }

    [Fact]
    public void ReadRawLength_ReturnsSliceAndChecksBounds()
    {
        var reader = new MessagePackReader(FromHex("010203"));
        Assert.Equal("0102", Hex(reader.ReadRaw(2).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessagePackReader(FromHex("01")).ReadRaw(-1));
        var ex = Assert.Throws<MessagePackSerializationException>(() => new MessagePackReader(FromHex("01")).ReadRaw(2));
        Assert.Contains("declares 2 bytes but only 1 remain", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreatePeekReader_Reading_LeavesOriginalInPlace()
    {
        var reader = new MessagePackReader(FromHex("0102"));
        var peek = reader.CreatePeekReader();
        Assert.Equal(1, peek.ReadInt32());
        Assert.Equal(1, peek.Consumed);
        Assert.Equal(0, reader.Consumed);
        Assert.Equal(1, reader.ReadInt32());
        Assert.Equal(2, reader.ReadInt32());
    }

    [Fact]
    public void Clone_OtherData_KeepsMaxDepth()
    {
        var reader = new MessagePackReader(FromHex("01")) { MaxDepth = 1 };
        var clone = reader.Clone(new ReadOnlySequence<byte>(FromHex("9190")));
        Assert.Equal(1, clone.MaxDepth);
        Assert.Throws<MessagePackSerializationException>(() =>
        {
            var c = new MessagePackReader(FromHex("01")) { MaxDepth = 1 }.Clone(new ReadOnlySequence<byte>(FromHex("9190")));
            c.Skip();
        });
    }

    [Fact]
    public void PositionProperties_AfterReads_TrackTheInput()
    {
        byte[] data = FromHex("01a26869");
        var reader = new MessagePackReader(new ReadOnlyMemory<byte>(data));
        Assert.Equal(4, reader.Remaining);
        Assert.Equal(1, reader.ReadInt32());
        Assert.Equal(1, reader.Consumed);
        Assert.Equal(3, reader.Remaining);
        Assert.Equal(4, reader.Sequence.Length);
        Assert.Equal(1, reader.Sequence.Slice(0, reader.Position).Length);
        Assert.Equal(MessagePackCode.MinFixStr | 2, reader.NextCode);
        Assert.Equal("hi", reader.ReadString());
        Assert.True(reader.End);
    }

    [Fact]
    public void TryReads_IncompleteHeaders_ReturnFalseWithoutReading()
    {
        foreach (string hex in new[] { "", "dc", "dc00", "dd000000" })
        {
            var reader = new MessagePackReader(FromHex(hex));
            Assert.False(reader.TryReadArrayHeader(out _));
            Assert.Equal(0, reader.Consumed);
        }

        foreach (string hex in new[] { "", "de00", "df0000" })
        {
            var reader = new MessagePackReader(FromHex(hex));
            Assert.False(reader.TryReadMapHeader(out _));
            Assert.Equal(0, reader.Consumed);
        }

        foreach (string hex in new[] { "", "d4", "c705", "c80001", "c900000001" })
        {
            var reader = new MessagePackReader(FromHex(hex));
            Assert.False(reader.TryReadExtensionFormatHeader(out _));
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Fact]
    public void TryReadArrayHeader_CountBeyondRemainingBytes_ReturnsTheCountUnchecked()
    {
        // The elements may simply not have arrived yet; ReadArrayHeader is the checked variant.
        var reader = new MessagePackReader(FromHex("dc0100"));
        Assert.True(reader.TryReadArrayHeader(out int count));
        Assert.Equal(256, count);
    }

    [Fact]
    public void TrySkip_TruncatedValue_ReturnsFalseAndRestoresPosition()
    {
        byte[] whole = Encode((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.WriteMapHeader(1);
            w.Write("key");
            w.Write(Pattern(20));
            w.Write(DateTime.UnixEpoch.AddTicks(-1));
        });
        for (int length = 0; length < whole.Length; length++)
        {
            var reader = new MessagePackReader(SequenceFactory.Split(whole[..length], length / 2));
            Assert.False(reader.TrySkip());
            Assert.Equal(0, reader.Consumed);
        }

        var complete = new MessagePackReader(whole);
        Assert.True(complete.TrySkip());
        Assert.True(complete.End);
    }

    [Fact]
    public void MaxDepth_Default_Is64AndNegativeIsRefused()
    {
        var reader = new MessagePackReader(FromHex("c0"));
        Assert.Equal(64, reader.MaxDepth);
        Assert.Equal(MessagePackReader.DefaultMaxDepth, reader.MaxDepth);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessagePackReader(FromHex("c0")) { MaxDepth = -1 });
    }

    [Theory]
    [InlineData(64, 64)]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(1000, 1000)]
    [InlineData(int.MaxValue, 5000)]
    public void Skip_NestingAtMaxDepth_Succeeds(int maxDepth, int nesting)
    {
        foreach (byte[] data in new[] { NestedArrays(nesting), NestedMaps(nesting) })
        {
            var reader = new MessagePackReader(data) { MaxDepth = maxDepth };
            reader.Skip();
            Assert.True(reader.End);
            reader = new MessagePackReader(data) { MaxDepth = maxDepth };
            Assert.Equal(data.Length, reader.ReadRaw().Length);
        }
    }

    /// <summary>Guards the depth limit that keeps hostile nesting from costing unbounded work or memory.</summary>
    [Theory]
    [InlineData(64, 65)]
    [InlineData(0, 1)]
    [InlineData(3, 4)]
    [InlineData(1000, 1001)]
    public void Skip_NestingBeyondMaxDepth_Throws(int maxDepth, int nesting)
    {
        foreach (byte[] data in new[] { NestedArrays(nesting), NestedMaps(nesting), EmptyInnermost(nesting) })
        {
            var ex = Assert.Throws<MessagePackSerializationException>(() =>
            {
                var reader = new MessagePackReader(data) { MaxDepth = maxDepth };
                reader.Skip();
            });
            Assert.Contains($"maximum depth of {maxDepth}", ex.Message, StringComparison.Ordinal);
            Assert.Throws<MessagePackSerializationException>(() =>
            {
                var reader = new MessagePackReader(data) { MaxDepth = maxDepth };
                reader.TrySkip();
            });
        }
    }

    [Fact]
    public void Skip_ScalarWithMaxDepthZero_Succeeds()
    {
        var reader = new MessagePackReader(FromHex("a3616263")) { MaxDepth = 0 };
        reader.Skip();
        Assert.True(reader.End);
    }

    [Fact]
    public void NextMessagePackType_EveryCode_MatchesTheSpec()
    {
        for (int code = 0; code <= 0xff; code++)
        {
            MessagePackType expected = code switch
            {
                <= 0x7f => MessagePackType.Integer,
                <= 0x8f => MessagePackType.Map,
                <= 0x9f => MessagePackType.Array,
                <= 0xbf => MessagePackType.String,
                0xc0 => MessagePackType.Nil,
                0xc1 => MessagePackType.Unknown,
                0xc2 or 0xc3 => MessagePackType.Boolean,
                >= 0xc4 and <= 0xc6 => MessagePackType.Binary,
                >= 0xc7 and <= 0xc9 => MessagePackType.Extension,
                0xca or 0xcb => MessagePackType.Float,
                >= 0xcc and <= 0xd3 => MessagePackType.Integer,
                >= 0xd4 and <= 0xd8 => MessagePackType.Extension,
                >= 0xd9 and <= 0xdb => MessagePackType.String,
                0xdc or 0xdd => MessagePackType.Array,
                0xde or 0xdf => MessagePackType.Map,
                _ => MessagePackType.Integer,
            };
            var reader = new MessagePackReader(new[] { (byte)code });
            Assert.Equal(expected, reader.NextMessagePackType);
            Assert.Equal(code, reader.NextCode);
            Assert.False(string.IsNullOrEmpty(MessagePackCode.ToFormatName((byte)code)));
        }
    }

    internal static byte[] NestedArrays(int depth) => [.. Enumerable.Repeat((byte)0x91, depth - 1), 0x91, 0x01];

    internal static byte[] NestedMaps(int depth)
    {
        // {0: {0: ... {0: 1}}}
        var bytes = new List<byte>();
        for (int i = 0; i < depth; i++)
        {
            bytes.Add(0x81);
            bytes.Add(0x00);
        }

        bytes.Add(0x01);
        return [.. bytes];
    }

    // The innermost container is empty: depth counts containers, not only those with children.
    private static byte[] EmptyInnermost(int depth) => [.. Enumerable.Repeat((byte)0x91, depth - 1), 0x90];
}
