using System.Buffers;
using FastChat.Protocol.Framing;

namespace FastChat.Protocol.Tests.Framing;

public class SegmentedBufferWriterTests
{
    [Fact]
    public void AsReadOnlySequence_Empty_IsEmpty()
    {
        using var writer = new SegmentedBufferWriter();

        Assert.Equal(0, writer.WrittenCount);
        Assert.True(writer.AsReadOnlySequence().IsEmpty);
        Assert.Empty(writer.ToArray());
    }

    [Fact]
    public void AsReadOnlySequence_WithinOneSegment_IsSingleSegment()
    {
        using var writer = new SegmentedBufferWriter();
        writer.Write(new byte[] { 1, 2, 3 });

        ReadOnlySequence<byte> sequence = writer.AsReadOnlySequence();

        Assert.True(sequence.IsSingleSegment);
        Assert.Equal(new byte[] { 1, 2, 3 }, sequence.ToArray());
        Assert.Equal(3, writer.WrittenCount);
    }

    [Fact]
    public void AsReadOnlySequence_SpanningSegments_IsMultiSegmentWithAllBytesInOrder()
    {
        using var writer = new SegmentedBufferWriter(minimumSegmentSize: 16);
        byte[] expected = WriteChunks(writer, chunkSize: 7, chunks: 100);

        ReadOnlySequence<byte> sequence = writer.AsReadOnlySequence();

        Assert.False(sequence.IsSingleSegment);
        Assert.Equal(expected.Length, sequence.Length);
        Assert.Equal(expected, sequence.ToArray());
        Assert.Equal(expected, writer.ToArray());
        Assert.Equal(expected.Length, writer.WrittenCount);
    }

    [Fact]
    public void CopyTo_DestinationLargeEnough_CopiesEverything()
    {
        using var writer = new SegmentedBufferWriter(minimumSegmentSize: 8);
        byte[] expected = WriteChunks(writer, chunkSize: 5, chunks: 20);
        byte[] destination = new byte[expected.Length + 3];

        writer.CopyTo(destination);

        Assert.Equal(expected, destination[..expected.Length]);
        Assert.Equal(new byte[3], destination[expected.Length..]);
    }

    [Fact]
    public void CopyTo_DestinationTooSmall_ThrowsArgumentException()
    {
        using var writer = new SegmentedBufferWriter();
        writer.Write(new byte[10]);

        Assert.Throws<ArgumentException>(() => writer.CopyTo(new byte[9]));
    }

    /// <summary>
    /// Guards the property that makes prefix backfilling safe: memory handed out earlier is still part of the
    /// output after the writer grows, so writing into it later shows up in the result.
    /// </summary>
    [Fact]
    public void GetMemory_AfterGrowth_EarlierMemoryIsStillTheOutput()
    {
        using var writer = new SegmentedBufferWriter(minimumSegmentSize: 16);
        Memory<byte> reserved = writer.GetMemory(4);
        writer.Advance(4);
        byte[] rest = WriteChunks(writer, chunkSize: 13, chunks: 50);

        reserved.Span[..4].Fill(0xee);

        byte[] all = writer.ToArray();
        Assert.Equal(new byte[] { 0xee, 0xee, 0xee, 0xee }, all[..4]);
        Assert.Equal(rest, all[4..]);
    }

    [Fact]
    public void GetSpan_SizeHintLargerThanSegment_ReturnsAtLeastThatMuch()
    {
        using var writer = new SegmentedBufferWriter(minimumSegmentSize: 16);
        writer.Write(new byte[] { 1 });

        Span<byte> span = writer.GetSpan(10_000);

        Assert.True(span.Length >= 10_000);
    }

    [Fact]
    public void GetSpan_NoSizeHint_ReturnsAtLeastOneByte()
    {
        using var writer = new SegmentedBufferWriter(minimumSegmentSize: 1);
        writer.Write(new byte[] { 1 });

        Assert.True(writer.GetSpan().Length >= 1);
    }

    /// <summary>Guards against a larger request leaving an empty segment in the chain (a segment that was handed out but never written).</summary>
    [Fact]
    public void GetSpan_LargerRequestBeforeAnyWrite_ReplacesTheUnwrittenSegment()
    {
        using var pool = new CountingPool();
        using (var writer = new SegmentedBufferWriter(minimumSegmentSize: 16, pool))
        {
            writer.GetSpan(1);
            writer.GetSpan(5000);
            writer.Advance(5000);

            Assert.True(writer.AsReadOnlySequence().IsSingleSegment);
        }

        Assert.Equal(pool.Rented, pool.Returned);
    }

    [Fact]
    public void Advance_MoreThanHandedOut_ThrowsArgumentOutOfRange()
    {
        using var writer = new SegmentedBufferWriter(minimumSegmentSize: 16);
        int length = writer.GetSpan(1).Length;

        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(length + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(-1));
    }

    [Fact]
    public void Advance_BeforeGetMemory_ThrowsArgumentOutOfRange()
    {
        using var writer = new SegmentedBufferWriter();

        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(1));
        writer.Advance(0);
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public void Reset_AfterWriting_StartsOverAndReturnsExtraSegments()
    {
        using var pool = new CountingPool();
        using var writer = new SegmentedBufferWriter(minimumSegmentSize: 16, pool);
        WriteChunks(writer, chunkSize: 10, chunks: 30);
        Assert.True(pool.Rented > 1);

        writer.Reset();

        Assert.Equal(0, writer.WrittenCount);
        Assert.True(writer.AsReadOnlySequence().IsEmpty);
        Assert.Equal(pool.Rented - 1, pool.Returned);

        writer.Write(new byte[] { 7, 8, 9 });
        Assert.Equal(new byte[] { 7, 8, 9 }, writer.ToArray());
    }

    [Fact]
    public void Dispose_AfterWriting_ReturnsEverySegmentOnce()
    {
        using var pool = new CountingPool();
        var writer = new SegmentedBufferWriter(minimumSegmentSize: 16, pool);
        WriteChunks(writer, chunkSize: 10, chunks: 30);
        writer.Reset();
        WriteChunks(writer, chunkSize: 11, chunks: 30);

        writer.Dispose();
        writer.Dispose();

        Assert.True(pool.Rented > 2);
        Assert.Equal(pool.Rented, pool.Returned);
        Assert.Throws<ObjectDisposedException>(() => writer.GetSpan(1));
        Assert.Throws<ObjectDisposedException>(() => writer.AsReadOnlySequence());
    }

    [Fact]
    public void Constructor_NonPositiveSegmentSize_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SegmentedBufferWriter(0));
    }

    /// <summary>
    /// Guards allocation-free reuse: a warmed-up write / read / reset cycle that grows to several segments allocates
    /// nothing (arrays come back from the pool, segment objects are kept across resets).
    /// </summary>
    [Fact]
    public void WriteAndAsReadOnlySequence_WarmedUp_AllocatesNothing()
    {
        using var writer = new SegmentedBufferWriter(minimumSegmentSize: 64);
        byte[] chunk = new byte[48];

        static long Cycle(SegmentedBufferWriter writer, byte[] chunk)
        {
            long total = 0;
            for (int i = 0; i < 10; i++)
            {
                writer.Write(chunk);
            }

            total += writer.AsReadOnlySequence().Length;
            writer.Reset();
            return total;
        }

        for (int i = 0; i < 100; i++)
        {
            Cycle(writer, chunk);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long length = 0;
        for (int i = 0; i < 100; i++)
        {
            length += Cycle(writer, chunk);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(100 * 480, length);
        Assert.Equal(0, allocated);
    }

    private static byte[] WriteChunks(IBufferWriter<byte> writer, int chunkSize, int chunks)
    {
        var all = new List<byte>();
        for (int i = 0; i < chunks; i++)
        {
            byte[] chunk = new byte[chunkSize];
            chunk.AsSpan().Fill((byte)i);
            writer.Write(chunk);
            all.AddRange(chunk);
        }

        return [.. all];
    }

    private sealed class CountingPool : ArrayPool<byte>, IDisposable
    {
        public int Rented { get; private set; }

        public int Returned { get; private set; }

        public override byte[] Rent(int minimumLength)
        {
            Rented++;
            return new byte[minimumLength];
        }

        public override void Return(byte[] array, bool clearArray = false) => Returned++;

        public void Dispose()
        {
        }
    }
}
