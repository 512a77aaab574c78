using FastChat.Protocol.MessagePack;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

/// <summary>
/// Truncated, malformed and absurd input must surface as <see cref="MessagePackSerializationException"/> with a
/// message naming what was expected and what was found — never IndexOutOfRange, Overflow, OutOfMemory,
/// EndOfStream or a stack overflow, which would take down more than the one offending connection.
/// </summary>
public class HostileInputTests
{
    public static TheoryData<string, string, string> Cases => new()
    {
        // The never-used code, wherever it appears.
        { "c1", "ReadString", "Unexpected msgpack code 0xc1 (never used) encountered while reading a string." },
        { "c1", "ReadInt32", "Unexpected msgpack code 0xc1 (never used) encountered while reading an integer." },
        { "c1", "ReadBytes", "Unexpected msgpack code 0xc1 (never used) encountered while reading binary data." },
        { "c1", "ReadArrayHeader", "Unexpected msgpack code 0xc1 (never used) encountered while reading an array header." },
        { "c1", "ReadDateTime", "Unexpected msgpack code 0xc1 (never used) encountered while reading an extension header." },
        { "c1", "Skip", "Unexpected msgpack code 0xc1 (never used) encountered while reading a value." },
        { "9301c102", "Skip", "Unexpected msgpack code 0xc1 (never used) encountered while reading a value." },
        { "81a161c1", "ReadRaw", "0xc1 (never used)" },

        // Lengths far beyond the input: refused before anything is sliced, decoded or allocated.
        { "dbffffffff616263", "ReadString", "the string declares 4294967295 bytes but only 3 remain" },
        { "dbffffffff616263", "ReadStringSequence", "the string declares 4294967295 bytes but only 3 remain" },
        { "dbffffffff616263", "TryReadStringSpan", "the string declares 4294967295 bytes but only 3 remain" },
        { "c6ffffffff00", "ReadBytes", "the binary data declares 4294967295 bytes but only 1 remain" },
        { "c9ffffffff0100", "ReadExtensionFormat", "the extension declares 4294967295 bytes but only 1 remain" },
        { "c9ffffffff01", "ReadExtensionFormatHeader", "the extension declares 4294967295 bytes but only 0 remain" },
        { "a56162", "ReadString", "the string declares 5 bytes but only 2 remain" },
        { "c4050102", "ReadBytes", "the binary data declares 5 bytes but only 2 remain" },
        { "d80100", "ReadExtensionFormat", "the extension declares 16 bytes but only 1 remain" },

        // Counts far beyond the input: checked against the remaining bytes before a caller can size anything by them.
        { "ddffffffff", "ReadArrayHeader", "array header declares 4294967295 entries, which need at least 4294967295 bytes, but only 0 remain" },
        { "dd000000050102", "ReadArrayHeader", "array header declares 5 entries, which need at least 5 bytes, but only 2 remain" },
        { "dfffffffff", "ReadMapHeader", "map header declares 4294967295 entries, which need at least 8589934590 bytes, but only 0 remain" },
        { "df800000000102", "ReadMapHeader", "map header declares 2147483648 entries" },
        { "83010203", "ReadMapHeader", "map header declares 3 entries, which need at least 6 bytes, but only 3 remain" },
        { "ddffffffff", "TryReadArrayHeader", "declares a length of 4294967295, more than the 2147483647 this reader supports" },
        { "ddffffffff", "Skip", "The msgpack data ended before the value being skipped could be read." },
        { "dfffffffff", "Skip", "The msgpack data ended before the value being skipped could be read." },

        // Truncation inside a token.
        { "", "ReadInt32", "The msgpack data ended before an integer could be read." },
        { "", "NextCode", "The msgpack data ended before the next msgpack code could be read." },
        { "", "ReadNil", "The msgpack data ended before the next msgpack code could be read." },
        { "", "Skip", "The msgpack data ended before the value being skipped could be read." },
        { "cd01", "ReadInt32", "The msgpack data ended before an integer could be read." },
        { "cf00000000000000", "ReadUInt64", "The msgpack data ended before an integer could be read." },
        { "cb3ff00000", "ReadDouble", "The msgpack data ended before a float or an integer could be read." },
        { "d9", "ReadString", "The msgpack data ended before a string could be read." },
        { "c5ff", "ReadBytes", "The msgpack data ended before binary data could be read." },
        { "dc00", "ReadArrayHeader", "The msgpack data ended before an array header could be read." },
        { "de", "ReadMapHeader", "The msgpack data ended before a map header could be read." },
        { "c8ff", "ReadExtensionFormat", "The msgpack data ended before an extension header could be read." },
        { "9291", "Skip", "The msgpack data ended before the value being skipped could be read." },
        { "91", "ReadRaw", "The msgpack data ended before the value being skipped could be read." },

        // Wrong types.
        { "a3616263", "ReadArrayHeader", "Unexpected msgpack code 0xa3 (fixstr) encountered while reading an array header." },
        { "c0", "ReadBoolean", "Unexpected msgpack code 0xc0 (nil) encountered while reading a boolean." },
        { "c0", "ReadInt32", "Unexpected msgpack code 0xc0 (nil) encountered while reading an integer." },
        { "c0", "ReadArrayHeader", "Unexpected msgpack code 0xc0 (nil) encountered while reading an array header." },
        { "01", "ReadNil", "Unexpected msgpack code 0x01 (positive fixint) encountered while reading nil." },
        { "c403010203", "ReadString", "Unexpected msgpack code 0xc4 (bin8) encountered while reading a string." },
        { "a3616263", "ReadBytes", "Unexpected msgpack code 0xa3 (fixstr) encountered while reading binary data." },
        { "90", "ReadMapHeader", "Unexpected msgpack code 0x90 (fixarray) encountered while reading a map header." },
        { "ca3f800000", "ReadInt64", "Unexpected msgpack code 0xca (float32) encountered while reading an integer." },
        { "cb3ff0000000000000", "ReadSingle", "Unexpected msgpack code 0xcb (float64) encountered while reading a float32 or an integer." },
        { "a3616263", "ReadDouble", "Unexpected msgpack code 0xa3 (fixstr) encountered while reading a float or an integer." },
        { "01", "ReadExtensionFormatHeader", "Unexpected msgpack code 0x01 (positive fixint) encountered while reading an extension header." },
        { "01", "TryReadExtensionFormatHeader", "Unexpected msgpack code 0x01 (positive fixint) encountered while reading an extension header." },
        { "01", "TryReadMapHeader", "Unexpected msgpack code 0x01 (positive fixint) encountered while reading a map header." },

        // Integers out of range.
        { "cfffffffffffffffff", "ReadInt64", "The msgpack integer 18446744073709551615 (uint64) does not fit Int64." },
        { "ff", "ReadUInt64", "The msgpack integer -1 (negative fixint) does not fit UInt64." },

        // Timestamps.
        { "d60500000000", "ReadDateTime", "Unexpected msgpack extension type 5 encountered while reading a timestamp (type -1)." },
        { "c705ff0000000000", "ReadDateTime", "the extension is 5 bytes long; the timestamp forms are 4, 8 or 12" },
        { "d4ff00", "ReadDateTime", "the extension is 1 bytes long; the timestamp forms are 4, 8 or 12" },
        { "d7ffffffffff00000000", "ReadDateTime", "the nanoseconds field is 1073741823, more than 999999999" },
        { "c70cff3b9aca000000000000000000", "ReadDateTime", "the nanoseconds field is 1000000000, more than 999999999" },
        { "c70cff0000000000000000000000", "ReadDateTime", "The msgpack data is truncated: the extension declares 12 bytes but only 11 remain." },
        { "c70cff000000000000003afff44180", "ReadDateTime", "253402300800 s after 1970-01-01T00:00:00Z is outside the range of DateTime" },
        { "c70cff00000000fffffff1886e08ff", "ReadDateTime", "-62135596801 s after 1970-01-01T00:00:00Z is outside the range of DateTime" },
        { "c70cff000000008000000000000000", "ReadDateTime", "-9223372036854775808 s after" },
        { "c70cff000000007fffffffffffffff", "ReadDateTime", "9223372036854775807 s after" },
        { "d6ff0000", "ReadDateTime", "The msgpack data is truncated: the extension declares 4 bytes but only 2 remain." },
    };

    /// <summary>Each row is a hostile input and the exact exception type and message it must produce.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_HostileInput_ThrowsLibraryExceptionNamingTheProblem(string hex, string operation, string message)
    {
        byte[] data = FromHex(hex);

        // Contiguous, and one byte per segment (the straddling slow paths must fail the same way).
        foreach (var sequence in new[] { new System.Buffers.ReadOnlySequence<byte>(data), SequenceFactory.OneByteSegments(data) })
        {
            Exception? caught = Record.Exception(() =>
            {
                var reader = new MessagePackReader(sequence);
                Run(ref reader, operation);
            });
            var ex = Assert.IsType<MessagePackSerializationException>(caught);
            Assert.Contains(message, ex.Message, StringComparison.Ordinal);
            Assert.IsAssignableFrom<ProtocolViolationException>(ex);
        }
    }

    /// <summary>A str32 declaring 4 GiB followed by gigabytes that never come must not allocate for the declared length.</summary>
    [Fact]
    public void ReadString_Str32ClaimingFourGiB_ThrowsWithoutAllocatingForIt()
    {
        byte[] data = FromHex("dbffffffff616263");
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<MessagePackSerializationException>(() => new MessagePackReader(data).ReadString());
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 64 * 1024);
    }

    /// <summary>Nesting 10,000 deep must neither overflow the stack nor be accepted.</summary>
    [Fact]
    public void Skip_TenThousandNestedArrays_ThrowsDepthExceeded()
    {
        byte[] data = [.. Enumerable.Repeat((byte)0x91, 10_000), 0xc0];
        foreach (var sequence in new[] { new System.Buffers.ReadOnlySequence<byte>(data), SequenceFactory.OneByteSegments(data) })
        {
            var ex = Assert.Throws<MessagePackSerializationException>(() => new MessagePackReader(sequence).Skip());
            Assert.Equal("The msgpack data nests arrays and maps deeper than the maximum depth of 64.", ex.Message);
        }
    }

    /// <summary>Nesting 10,000 deep of maps (keys and values) must fail the same way.</summary>
    [Fact]
    public void ReadRaw_TenThousandNestedMaps_ThrowsDepthExceeded()
    {
        byte[] data = MessagePackReaderTests.NestedMaps(10_000);
        Assert.Throws<MessagePackSerializationException>(() => new MessagePackReader(data).ReadRaw());
    }

    /// <summary>A million-element array of one-byte values is legitimate and must be skipped without recursion or allocation per element.</summary>
    [Fact]
    public void Skip_WideArray_IsIterative()
    {
        byte[] data = Encode((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1_000_000);
            for (int i = 0; i < 1_000_000; i++)
            {
                w.WriteArrayHeader(0);
            }
        });
        var reader = new MessagePackReader(data);
        reader.Skip();
        Assert.True(reader.End);
    }

    internal static void Run(ref MessagePackReader reader, string operation)
    {
        switch (operation)
        {
            case "ReadString": reader.ReadString(); break;
            case "ReadStringSequence": reader.ReadStringSequence(); break;
            case "TryReadStringSpan": reader.TryReadStringSpan(out _); break;
            case "ReadBytes": reader.ReadBytes(); break;
            case "ReadInt32": reader.ReadInt32(); break;
            case "ReadInt64": reader.ReadInt64(); break;
            case "ReadUInt64": reader.ReadUInt64(); break;
            case "ReadSingle": reader.ReadSingle(); break;
            case "ReadDouble": reader.ReadDouble(); break;
            case "ReadBoolean": reader.ReadBoolean(); break;
            case "ReadNil": reader.ReadNil(); break;
            case "NextCode": _ = reader.NextCode; break;
            case "ReadArrayHeader": reader.ReadArrayHeader(); break;
            case "TryReadArrayHeader": reader.TryReadArrayHeader(out _); break;
            case "ReadMapHeader": reader.ReadMapHeader(); break;
            case "TryReadMapHeader": reader.TryReadMapHeader(out _); break;
            case "ReadExtensionFormatHeader": reader.ReadExtensionFormatHeader(); break;
            case "TryReadExtensionFormatHeader": reader.TryReadExtensionFormatHeader(out _); break;
            case "ReadExtensionFormat": reader.ReadExtensionFormat(); break;
            case "ReadDateTime": reader.ReadDateTime(); break;
            case "Skip": reader.Skip(); break;
            case "ReadRaw": reader.ReadRaw(); break;
            default: throw new ArgumentOutOfRangeException(nameof(operation), operation, "Unknown operation.");
        }
    }
}
