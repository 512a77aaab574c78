using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Tests.MessagePack;

/// <summary>Writes values through a <see cref="MessagePackWriter"/> (ref structs cannot be captured by lambdas).</summary>
internal delegate void WriteAction(ref MessagePackWriter writer);

/// <summary>Reads (and asserts) values through a <see cref="MessagePackReader"/>.</summary>
internal delegate void ReadAction(ref MessagePackReader reader);

/// <summary>Reads one value through a <see cref="MessagePackReader"/>.</summary>
internal delegate T ReadFunc<T>(ref MessagePackReader reader);

internal static class MessagePackTestHelpers
{
    public static byte[] Encode(WriteAction write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        Assert.Equal(buffer.WrittenCount, writer.BytesWritten);
        return buffer.WrittenSpan.ToArray();
    }

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static byte[] FromHex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    public static T Read<T>(byte[] data, ReadFunc<T> read)
    {
        var reader = new MessagePackReader(data);
        T value = read(ref reader);
        Assert.True(reader.End, "The read left bytes unread.");
        return value;
    }

    public static string Text(int length)
    {
        return string.Create(length, 0, static (span, _) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + (i % 26));
            }
        });
    }

    public static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((i * 31) + 7);
        }

        return bytes;
    }
}

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s to exercise tokens that straddle segments.</summary>
/// <remarks>
/// Every segment is a window into a larger array whose bytes outside the window are 0xc1 (never used), so a
/// reader that strayed outside a segment would read garbage and fail loudly.
/// </remarks>
internal static class SequenceFactory
{
    /// <summary>Splits <paramref name="data"/> before each of <paramref name="offsets"/> (ascending; repeats make empty segments).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] offsets)
    {
        Segment? first = null;
        Segment? last = null;
        int start = 0;
        foreach (int offset in offsets.Append(data.Length))
        {
            Assert.InRange(offset, start, data.Length);
            ReadOnlyMemory<byte> window = Guarded(data.AsSpan(start, offset - start));
            if (first is null)
            {
                first = last = new Segment(window, 0);
            }
            else
            {
                last = last!.Append(window);
            }

            start = offset;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> OneByteSegments(byte[] data)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        return Split(data, Enumerable.Range(1, data.Length - 1).ToArray());
    }

    private static ReadOnlyMemory<byte> Guarded(ReadOnlySpan<byte> bytes)
    {
        var array = new byte[bytes.Length + 4];
        array.AsSpan().Fill(MessagePackCode.NeverUsed);
        bytes.CopyTo(array.AsSpan(2));
        return array.AsMemory(2, bytes.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
