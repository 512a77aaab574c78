using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FastChat.Protocol.Framing;

namespace FastChat.Protocol.Tests.Framing;

public class FrameReaderTests
{
    private const int MaxFrameSize = 1024;

    [Fact]
    public void TryReadFrame_ContiguousFrame_ReturnsPayloadAndConsumesFrame()
    {
        byte[] frame = Frame([1, 2, 3, 4, 5]);
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.True(FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out ReadOnlySequence<byte> payload));

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, payload.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    /// <summary>Guards the zero-copy promise: the payload must be a slice of the input, not a copy.</summary>
    [Fact]
    public void TryReadFrame_ContiguousFrame_PayloadIsASliceOfTheInput()
    {
        byte[] frame = Frame([9, 8, 7]);
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.True(FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out ReadOnlySequence<byte> payload));

        Assert.True(MemoryMarshal.TryGetArray(payload.First, out ArraySegment<byte> segment));
        Assert.Same(frame, segment.Array);
        Assert.Equal(FrameReader.HeaderSize, segment.Offset);
    }

    [Fact]
    public void TryReadFrame_SplitAtEveryOffset_ReadsTheSameFrames()
    {
        byte[] first = [0x93, 0x03, 0x01, 0x2a];
        byte[] second = [0xc0];
        byte[] data = [.. Frame(first), .. Frame(second)];

        for (int offset = 0; offset <= data.Length; offset++)
        {
            ReadOnlySequence<byte> buffer = TestSequences.Split(data, offset);
            List<byte[]> frames = ReadAll(ref buffer);

            Assert.Equal(2, frames.Count);
            Assert.Equal(first, frames[0]);
            Assert.Equal(second, frames[1]);
            Assert.True(buffer.IsEmpty, $"bytes left after a split at {offset}");
        }
    }

    [Fact]
    public void TryReadFrame_OneBytePerSegment_ReadsTheSameFrames()
    {
        byte[] first = [.. Enumerable.Range(0, 300).Select(i => (byte)i)];
        byte[] second = [];
        byte[] third = [0x42];
        ReadOnlySequence<byte> buffer = TestSequences.OneBytePerSegment([.. Frame(first), .. Frame(second), .. Frame(third)]);

        List<byte[]> frames = ReadAll(ref buffer);

        Assert.Equal(3, frames.Count);
        Assert.Equal(first, frames[0]);
        Assert.Empty(frames[1]);
        Assert.Equal(third, frames[2]);
        Assert.True(buffer.IsEmpty);
    }

    /// <summary>
    /// Guards the "need more data" contract: every strict prefix of a frame, contiguous or split, returns false and
    /// leaves the buffer untouched, so a pipe reader can AdvanceTo(start, end) and wait.
    /// </summary>
    [Fact]
    public void TryReadFrame_IncompleteFrame_ReturnsFalseAndLeavesBufferUntouched()
    {
        byte[] data = Frame([1, 2, 3, 4, 5, 6, 7]);

        for (int length = 0; length < data.Length; length++)
        {
            for (int split = 0; split <= length; split++)
            {
                ReadOnlySequence<byte> buffer = TestSequences.Split(data.AsSpan(0, length), split);
                ReadOnlySequence<byte> before = buffer;

                Assert.False(FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out ReadOnlySequence<byte> payload));

                Assert.True(payload.IsEmpty);
                Assert.Equal(before.Start, buffer.Start);
                Assert.Equal(before.End, buffer.End);
            }
        }
    }

    [Fact]
    public void TryReadFrame_ManyFramesInOneBuffer_ReadsThemAllInOrder()
    {
        var expected = new List<byte[]>();
        var data = new List<byte>();
        for (int i = 0; i < 200; i++)
        {
            byte[] payload = new byte[i % 37];
            payload.AsSpan().Fill((byte)i);
            expected.Add(payload);
            data.AddRange(Frame(payload));
        }

        var buffer = new ReadOnlySequence<byte>(data.ToArray());
        List<byte[]> frames = ReadAll(ref buffer);

        Assert.Equal(expected.Count, frames.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], frames[i]);
        }
    }

    [Fact]
    public void TryReadFrame_ZeroLengthFrame_ReturnsEmptyPayload()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 0, 0xff });

        Assert.True(FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out ReadOnlySequence<byte> payload));

        Assert.True(payload.IsEmpty);
        Assert.Equal(new byte[] { 0xff }, buffer.ToArray());
    }

    /// <summary>
    /// Guards the pre-buffering size check: an over-limit length must be refused from the 4 prefix bytes alone,
    /// before the reader waits for (and buffers) a payload an attacker never intends to send.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void TryReadFrame_LengthOverMaximum_ThrowsAsSoonAsThePrefixIsThere(int split)
    {
        byte[] prefix = Prefix(MaxFrameSize + 1);

        FrameTooLargeException ex = Assert.Throws<FrameTooLargeException>(() =>
        {
            ReadOnlySequence<byte> buffer = TestSequences.Split(prefix, split);
            FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out _);
        });

        Assert.Equal(MaxFrameSize + 1, ex.FrameLength);
        Assert.Equal(MaxFrameSize, ex.MaxFrameSize);
        Assert.Contains("exceeds the maximum frame size of 1024", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards against an off-by-one in the limit: a frame of exactly the maximum size is legal.</summary>
    [Fact]
    public void TryReadFrame_LengthEqualToMaximum_IsAccepted()
    {
        byte[] payload = new byte[MaxFrameSize];
        payload.AsSpan().Fill(0x5a);
        byte[] data = Frame(payload);

        var partial = new ReadOnlySequence<byte>(data, 0, data.Length - 1);
        Assert.False(FrameReader.TryReadFrame(ref partial, MaxFrameSize, out _));

        var whole = new ReadOnlySequence<byte>(data);
        Assert.True(FrameReader.TryReadFrame(ref whole, MaxFrameSize, out ReadOnlySequence<byte> read));
        Assert.Equal(payload, read.ToArray());
    }

    /// <summary>Guards against the length being read as a signed int: 0xFFFFFFFF must be 4 GiB - 1, not -1.</summary>
    [Fact]
    public void TryReadFrame_LengthAllOnes_ThrowsFrameTooLarge()
    {
        FrameTooLargeException ex = Assert.Throws<FrameTooLargeException>(() =>
        {
            var buffer = new ReadOnlySequence<byte>(new byte[] { 0xff, 0xff, 0xff, 0xff });
            FrameReader.TryReadFrame(ref buffer, int.MaxValue, out _);
        });

        Assert.Equal(uint.MaxValue, ex.FrameLength);
        Assert.Equal(int.MaxValue, ex.MaxFrameSize);
    }

    [Fact]
    public void TryReadFrame_LengthJustOverIntMax_ThrowsFrameTooLarge()
    {
        FrameTooLargeException ex = Assert.Throws<FrameTooLargeException>(() =>
        {
            var buffer = new ReadOnlySequence<byte>(new byte[] { 0x80, 0x00, 0x00, 0x00 });
            FrameReader.TryReadFrame(ref buffer, int.MaxValue, out _);
        });

        Assert.Equal(0x8000_0000L, ex.FrameLength);
    }

    [Fact]
    public void TryReadFrame_FewerThanFourBytes_ReturnsFalseEvenIfTheyLookHuge()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0xff, 0xff, 0xff });

        Assert.False(FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out _));
        Assert.Equal(3, buffer.Length);
    }

    [Fact]
    public void TryReadFrame_NegativeMaximum_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            var buffer = new ReadOnlySequence<byte>(Frame([1]));
            FrameReader.TryReadFrame(ref buffer, -1, out _);
        });
    }

    [Fact]
    public void TryReadLength_PrefixSplitAcrossSegments_ReadsBigEndian()
    {
        ReadOnlySequence<byte> buffer = TestSequences.Split([0x01, 0x02, 0x03, 0x04, 0xee], 1, 3);

        Assert.True(FrameReader.TryReadLength(buffer, out uint length));

        Assert.Equal(0x01020304u, length);
        Assert.Equal(5, buffer.Length);
    }

    internal static byte[] Frame(byte[] payload) => [.. Prefix(payload.Length), .. payload];

    private static byte[] Prefix(long length)
    {
        byte[] prefix = new byte[FrameReader.HeaderSize];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, checked((uint)length));
        return prefix;
    }

    private static List<byte[]> ReadAll(ref ReadOnlySequence<byte> buffer)
    {
        var frames = new List<byte[]>();
        while (FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out ReadOnlySequence<byte> payload))
        {
            frames.Add(payload.ToArray());
        }

        return frames;
    }
}
