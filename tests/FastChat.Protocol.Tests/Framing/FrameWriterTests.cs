using System.Buffers;
using System.IO.Pipelines;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Tests.Framing;

public class FrameWriterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void WriteFrame_Span_WritesBigEndianPrefixThenPayload()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteFrame(output, new byte[] { 0xaa, 0xbb, 0xcc });

        Assert.Equal(new byte[] { 0, 0, 0, 3, 0xaa, 0xbb, 0xcc }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteFrame_EmptySpan_WritesZeroLengthFrame()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteFrame(output, ReadOnlySpan<byte>.Empty);

        Assert.Equal(new byte[] { 0, 0, 0, 0 }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteFrame_MultiSegmentSequence_RoundTripsThroughFrameReader()
    {
        byte[] payload = [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 7))];
        ReadOnlySequence<byte> source = TestSequences.Split(payload, 1, 2, 500, 999);
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteFrame(output, source);

        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.True(FrameReader.TryReadFrame(ref buffer, int.MaxValue, out ReadOnlySequence<byte> read));
        Assert.Equal(payload, read.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void WriteFrame_SingleSegmentSequence_WritesSameBytesAsSpan()
    {
        byte[] payload = [1, 2, 3, 4];
        var fromSpan = new ArrayBufferWriter<byte>();
        var fromSequence = new ArrayBufferWriter<byte>();

        FrameWriter.WriteFrame(fromSpan, payload);
        FrameWriter.WriteFrame(fromSequence, new ReadOnlySequence<byte>(payload));

        Assert.Equal(fromSpan.WrittenSpan.ToArray(), fromSequence.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(0x1_0000_0000L)]
    public void WriteFrameHeader_LengthOutOfRange_ThrowsArgumentOutOfRange(long length)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteFrameHeader(new ArrayBufferWriter<byte>(), length));
    }

    [Fact]
    public void WriteFrameHeader_MaximumLength_WritesAllOnes()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameWriter.WriteFrameHeader(output, uint.MaxValue);

        Assert.Equal(new byte[] { 0xff, 0xff, 0xff, 0xff }, output.WrittenSpan.ToArray());
    }

    /// <summary>
    /// Guards the backfilled prefix through a real pipe: the payload is large enough to span several of the pipe's
    /// segments, so the prefix must be written into memory the MessagePack writer has already committed.
    /// </summary>
    [Fact]
    public async Task BeginEndFrame_ThroughPipeWriter_PrefixMatchesPayloadAcrossSegments()
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 512));
        string text = new('x', 10_000);

        WriteTwoFrames(pipe.Writer, text);
        await pipe.Writer.FlushAsync().AsTask().WaitAsync(Timeout);
        await pipe.Writer.CompleteAsync().AsTask().WaitAsync(Timeout);

        ReadResult result = await pipe.Reader.ReadAtLeastAsync(int.MaxValue).AsTask().WaitAsync(Timeout);
        ReadOnlySequence<byte> buffer = result.Buffer;
        Assert.False(buffer.IsSingleSegment);
        (string first, long second) = ReadTwoFrames(ref buffer);
        pipe.Reader.AdvanceTo(buffer.Start, buffer.End);

        Assert.Equal(text, first);
        Assert.Equal(42L, second);
        Assert.True(buffer.IsEmpty);
    }

    /// <summary>Guards the backfilled prefix through <see cref="SegmentedBufferWriter"/> with tiny segments.</summary>
    [Fact]
    public void BeginEndFrame_ThroughSegmentedBufferWriter_PrefixMatchesPayloadAcrossSegments()
    {
        using var output = new SegmentedBufferWriter(minimumSegmentSize: 16);
        string text = new('y', 5000);

        WriteTwoFrames(output, text);

        ReadOnlySequence<byte> buffer = output.AsReadOnlySequence();
        Assert.False(buffer.IsSingleSegment);
        (string first, long second) = ReadTwoFrames(ref buffer);
        Assert.Equal(text, first);
        Assert.Equal(42L, second);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void EndFrame_PayloadOverMaximum_ThrowsFrameTooLarge()
    {
        using var output = new SegmentedBufferWriter();

        FrameTooLargeException ex = Assert.Throws<FrameTooLargeException>(() =>
        {
            var writer = new MessagePackWriter(output);
            FramePrefix prefix = FrameWriter.BeginFrame(ref writer);
            writer.Write(new byte[100]);
            FrameWriter.EndFrame(ref writer, prefix, maxFrameSize: 101);
        });

        Assert.Equal(102, ex.FrameLength);
        Assert.Equal(101, ex.MaxFrameSize);
    }

    [Fact]
    public void EndFrame_PayloadExactlyMaximum_IsAccepted()
    {
        using var output = new SegmentedBufferWriter();
        var writer = new MessagePackWriter(output);
        FramePrefix prefix = FrameWriter.BeginFrame(ref writer);
        writer.Write(new byte[100]);
        FrameWriter.EndFrame(ref writer, prefix, maxFrameSize: 102);
        writer.Flush();

        Assert.Equal(106, output.WrittenCount);
        Assert.Equal(new byte[] { 0, 0, 0, 102 }, output.ToArray()[..4]);
    }

    private static void WriteTwoFrames(IBufferWriter<byte> output, string text)
    {
        var writer = new MessagePackWriter(output);
        FramePrefix first = FrameWriter.BeginFrame(ref writer);
        writer.Write(text);
        FrameWriter.EndFrame(ref writer, first);
        FramePrefix second = FrameWriter.BeginFrame(ref writer);
        writer.Write(42L);
        FrameWriter.EndFrame(ref writer, second);
        writer.Flush();
    }

    private static (string First, long Second) ReadTwoFrames(ref ReadOnlySequence<byte> buffer)
    {
        Assert.True(FrameReader.TryReadFrame(ref buffer, int.MaxValue, out ReadOnlySequence<byte> first));
        var reader = new MessagePackReader(first);
        string? text = reader.ReadString();
        Assert.True(reader.End);

        Assert.True(FrameReader.TryReadFrame(ref buffer, int.MaxValue, out ReadOnlySequence<byte> second));
        reader = new MessagePackReader(second);
        long value = reader.ReadInt64();
        Assert.True(reader.End);

        return (text!, value);
    }
}
