using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using FastChat.Transport.Internal;

namespace FastChat.Transport.Tests;

public sealed class PinnedBlockMemoryPoolTests
{
    private const int BlockSize = 1024;

    /// <summary>Guards the block shape the transport relies on: whole blocks, array-backed (for gather sends), any smaller size served.</summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(BlockSize)]
    public void Rent_UpToBlockSize_ReturnsWholeArrayBackedBlock(int size)
    {
        using PinnedBlockMemoryPool pool = CreatePool();

        using IMemoryOwner<byte> block = pool.Rent(size);

        Assert.Equal(BlockSize, block.Memory.Length);
        Assert.Equal(BlockSize, pool.MaxBufferSize);
        Assert.True(MemoryMarshal.TryGetArray<byte>(block.Memory, out ArraySegment<byte> array));
        Assert.Equal(BlockSize, array.Count);
        using MemoryHandle pinned = block.Memory.Pin();
    }

    /// <summary>Guards the pool's reason to exist: a returned block is handed out again instead of a new one being allocated.</summary>
    [Fact]
    public void Rent_AfterReturn_ReusesTheBlock()
    {
        using PinnedBlockMemoryPool pool = CreatePool();
        IMemoryOwner<byte> first = pool.Rent();
        byte[] firstArray = ArrayOf(first);
        first.Dispose();

        using IMemoryOwner<byte> second = pool.Rent();

        Assert.Same(firstArray, ArrayOf(second));
        Assert.Equal(1, pool.AllocatedBlockCount);
        Assert.Equal(0, pool.FreeBlockCount);
    }

    /// <summary>Regression guard: disposing a block twice must not queue it twice, which would hand one buffer to two owners.</summary>
    [Fact]
    public void Dispose_Twice_ReturnsTheBlockOnce()
    {
        using PinnedBlockMemoryPool pool = CreatePool();
        IMemoryOwner<byte> block = pool.Rent();

        block.Dispose();
        block.Dispose();

        Assert.Equal(1, pool.FreeBlockCount);
        using IMemoryOwner<byte> a = pool.Rent();
        using IMemoryOwner<byte> b = pool.Rent();
        Assert.NotSame(ArrayOf(a), ArrayOf(b));
        Assert.Equal(2, pool.AllocatedBlockCount);
    }

    /// <summary>Guards the size contract Pipe relies on: a request over MaxBufferSize is refused, not silently served short.</summary>
    [Fact]
    public void Rent_LargerThanBlock_Throws()
    {
        using PinnedBlockMemoryPool pool = CreatePool();

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(BlockSize + 1));
    }

    /// <summary>Guards use after dispose: renting throws, and blocks still out are dropped when returned instead of being kept.</summary>
    [Fact]
    public void Dispose_BlocksOutstanding_RentThrowsAndReturnsAreDropped()
    {
        PinnedBlockMemoryPool pool = CreatePool();
        IMemoryOwner<byte> outstanding = pool.Rent();
        pool.Rent().Dispose();
        Assert.Equal(1, pool.FreeBlockCount);

        pool.Dispose();
        outstanding.Dispose();

        Assert.Equal(0, pool.FreeBlockCount);
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }

    /// <summary>Guards the retention bound: free blocks beyond MaxRetainedBlocks are released, not kept.</summary>
    [Fact]
    public void Return_BeyondMaxRetainedBlocks_DropsTheSurplus()
    {
        using PinnedBlockMemoryPool pool = CreatePool(maxRetainedBlocks: 2);
        IMemoryOwner<byte>[] blocks = RentMany(pool, 5);

        foreach (IMemoryOwner<byte> block in blocks)
        {
            block.Dispose();
        }

        Assert.Equal(2, pool.FreeBlockCount);
    }

    /// <summary>Guards the trimming policy: after a burst, unused free blocks are released by halves down to none.</summary>
    [Fact]
    public void Trim_AfterBurst_ReleasesHalfOfTheUnusedBlocksEachTime()
    {
        using PinnedBlockMemoryPool pool = CreatePool();
        foreach (IMemoryOwner<byte> block in RentMany(pool, 8))
        {
            block.Dispose();
        }

        var free = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            pool.Trim();
            free.Add(pool.FreeBlockCount);
        }

        // The first trim closes the interval of the burst, in which every block was needed.
        Assert.Equal(new[] { 8, 4, 2, 1, 0, 0 }, free.ToArray());
    }

    /// <summary>Guards the trimming policy: blocks the load used during the interval are kept; only the never-needed ones go.</summary>
    [Fact]
    public void Trim_BlocksUsedDuringInterval_AreKept()
    {
        using PinnedBlockMemoryPool pool = CreatePool();
        foreach (IMemoryOwner<byte> block in RentMany(pool, 8))
        {
            block.Dispose();
        }

        pool.Trim();
        foreach (IMemoryOwner<byte> block in RentMany(pool, 6))
        {
            block.Dispose();
        }

        pool.Trim();

        // Two blocks stayed free all interval: one (half, rounded up) is released.
        Assert.Equal(7, pool.FreeBlockCount);
        Assert.Equal(8, pool.AllocatedBlockCount);
    }

    /// <summary>Guards the lock-free queue: blocks rented concurrently are never shared between two renters.</summary>
    [Fact]
    public async Task Rent_ConcurrentRentersAndReturners_NeverShareABlock()
    {
        using PinnedBlockMemoryPool pool = CreatePool();
        const int Workers = 4;
        const int Rounds = 20_000;
        var workers = new Task[Workers];
        for (int w = 0; w < Workers; w++)
        {
            byte mark = (byte)(w + 1);
            workers[w] = Task.Factory.StartNew(
                () =>
                {
                    for (int i = 0; i < Rounds; i++)
                    {
                        IMemoryOwner<byte> block = pool.Rent();
                        Span<byte> span = block.Memory.Span[..64];
                        span.Fill(mark);
                        Thread.SpinWait(10);
                        Assert.True(span.IndexOfAnyExcept(mark) < 0, "Another renter wrote to this block.");
                        block.Dispose();
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(workers).WithTimeout();

        // Blocks were reused: a renter racing a return may allocate one more now and then, but nothing like one per rent.
        Assert.True(pool.AllocatedBlockCount <= 64, $"{pool.AllocatedBlockCount} blocks allocated for {Workers * Rounds} rents by {Workers} renters.");
        Assert.Equal(pool.AllocatedBlockCount, pool.FreeBlockCount);
    }

    /// <summary>Guards the default: with no MemoryPool in the options, connections receive into the pinned pool's blocks, not array-pool arrays.</summary>
    [Fact]
    public async Task Connection_DefaultOptions_UsesThePinnedBlockPool()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        await pair.Client.Output.WriteAsync(new byte[] { 1, 2, 3 }).WithTimeout();

        ReadResult result = await pair.Server.Input.ReadAsync().WithTimeout();
        Assert.True(MemoryMarshal.TryGetArray(result.Buffer.First, out ArraySegment<byte> segment));
        pair.Server.Input.AdvanceTo(result.Buffer.End);

        Assert.Equal(PinnedBlockMemoryPool.DefaultBlockSize, segment.Array!.Length);
        Assert.True(PinnedBlockMemoryPool.Default.AllocatedBlockCount > 0);
    }

    private static PinnedBlockMemoryPool CreatePool(int maxRetainedBlocks = 64) =>
        new(BlockSize, maxRetainedBlocks, Timeout.InfiniteTimeSpan);

    private static IMemoryOwner<byte>[] RentMany(PinnedBlockMemoryPool pool, int count)
    {
        var blocks = new IMemoryOwner<byte>[count];
        for (int i = 0; i < count; i++)
        {
            blocks[i] = pool.Rent();
        }

        return blocks;
    }

    private static byte[] ArrayOf(IMemoryOwner<byte> block)
    {
        Assert.True(MemoryMarshal.TryGetArray<byte>(block.Memory, out ArraySegment<byte> segment));
        return segment.Array!;
    }
}
