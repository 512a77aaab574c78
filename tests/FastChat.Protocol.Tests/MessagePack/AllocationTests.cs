using System.Buffers;
using FastChat.Protocol.MessagePack;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

/// <summary>
/// Guards the relay's allocation budget: writing and reading a small message frame, contiguous or segmented,
/// must allocate nothing in steady state (timing itself belongs to the benchmarks).
/// </summary>
public class AllocationTests
{
    private static readonly DateTime Timestamp = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(6);

    [Fact]
    public void WriteAndReadSmallFrame_SteadyState_AllocatesNothing()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        byte[] sender = "alice"u8.ToArray();
        byte[] ciphertext = Pattern(48);
        ReadOnlySequence<byte> segmented = SequenceFactory.Split(Encode((ref MessagePackWriter w) => WriteFrame(ref w, sender, ciphertext)), 3, 9, 20);

        long checksum = 0;
        for (int i = 0; i < 5; i++)
        {
            checksum += RoundTrip(buffer, sender, ciphertext, segmented);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            checksum += RoundTrip(buffer, sender, ciphertext, segmented);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(205 * 2 * (7 + 123_456_789_012 + 5 + 48 + 1), checksum);
    }

    private static long RoundTrip(ArrayBufferWriter<byte> buffer, byte[] sender, byte[] ciphertext, ReadOnlySequence<byte> segmented)
    {
        buffer.ResetWrittenCount();
        var writer = new MessagePackWriter(buffer);
        WriteFrame(ref writer, sender, ciphertext);
        writer.Flush();

        var contiguous = new MessagePackReader(buffer.WrittenMemory);
        var split = new MessagePackReader(segmented);
        return ReadFrame(ref contiguous) + ReadFrame(ref split);
    }

    private static void WriteFrame(ref MessagePackWriter writer, byte[] sender, byte[] ciphertext)
    {
        writer.WriteArrayHeader(7);
        writer.Write(7);
        writer.Write(123_456_789_012L);
        writer.WriteString(sender);
        writer.Write(ciphertext);
        writer.Write(Timestamp);
        writer.Write(true);
        writer.WriteMapHeader(1);
        writer.Write(1);
        writer.WriteNil();
    }

    private static long ReadFrame(ref MessagePackReader reader)
    {
        long sum = reader.ReadArrayHeader() == 7 ? 0 : -1_000_000;
        sum += reader.ReadInt32();
        sum += reader.ReadInt64();
        if (reader.TryReadStringSpan(out ReadOnlySpan<byte> sender))
        {
            sum += sender.Length;
        }
        else
        {
            sum += reader.ReadStringSequence()!.Value.Length;
        }

        sum += reader.ReadBytes()!.Value.Length;
        sum += reader.ReadDateTime() == Timestamp ? 1 : -1_000_000;
        sum += reader.ReadBoolean() ? 0 : -1_000_000;
        reader.Skip();
        return reader.End ? sum : -1_000_000;
    }
}
