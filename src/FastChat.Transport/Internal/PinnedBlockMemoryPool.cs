using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace FastChat.Transport.Internal;

// The default buffer pool of connection pipes: fixed-size blocks on the pinned object heap, kept in a lock-free
// queue shared by every connection.
//
// Why not the array pool (the pipes' default): it keeps only a few dozen arrays of each size per core, so a
// burst with more in flight (an echo or a relay of a few hundred KiB per connection) allocates a new array for
// most rents and leaves the old ones to the GC. The blocks here are reused however many are in flight. Pinned
// allocation means the socket never has to pin them (Memory<byte>.Pin is free) and they never fragment the
// ordinary heaps; they are still plain arrays, so scatter/gather sends can take them as ArraySegments.
//
// Why 16 KiB blocks (Kestrel uses 4 KiB): a block is what one receive fills and what one send segment carries,
// and on loopback the syscalls, not the copies, are the cost. Measured on the framed-echo benchmark against 4 KiB
// blocks: 64 B frames about 20% and 4 KiB frames about 30% less time per frame, from a quarter of the receives
// and sends of at most 8 segments (see SocketSender) carrying 128 KiB instead of 32 KiB. It is also the largest
// TLS record, so a full block becomes one record without being copied. The cost is memory per busy connection:
// a connection holds a block per pipe only while bytes wait in it (idle connections hold none: they wait with a
// zero-byte read), so 10,000 connections all mid-message would hold about 320 MiB rather than 80 MiB.
//
// Retention policy, so a burst does not hold memory for the life of the process:
// - bounded: at most MaxRetainedBlocks free blocks are kept (64 MiB of 16 KiB blocks); a block returned beyond
//   that is dropped for the GC to collect;
// - trimmed: every TrimInterval the pool releases half of the free blocks it did not need during the interval
//   (the lowest number of free blocks seen in it), so after a burst its memory decays geometrically to what the
//   steady load uses, and to nothing when idle.
//
// Safety: a block disposed twice is returned once (a per-block flag flipped atomically), so a double Dispose
// cannot put one block in the queue twice and hand it to two owners. (A Dispose through a stale reference after
// the block was rented again cannot be told apart from its new owner's; Pipe never does that.) Blocks returned
// after the pool is disposed are dropped; Rent then throws ObjectDisposedException. The trim timer holds the
// pool only weakly.
//
// Deliberately left out: blocks larger than BlockSize (Pipe rents those from the array pool itself, since they
// exceed MaxBufferSize), slab allocation (single blocks can be released one by one when trimming), and
// per-thread caches (one queue operation per 16 KiB is not where the time goes).
internal sealed class PinnedBlockMemoryPool : MemoryPool<byte>
{
    public const int DefaultBlockSize = 16 * 1024;

    public const long DefaultMaxRetainedBytes = 64 * 1024 * 1024;

    public static readonly TimeSpan DefaultTrimInterval = TimeSpan.FromSeconds(5);

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly Timer? _trimTimer;
    private int _freeCount;
    private int _lowWater;
    private long _allocated;
    private bool _disposed;

    public PinnedBlockMemoryPool()
        : this(DefaultBlockSize, (int)(DefaultMaxRetainedBytes / DefaultBlockSize), DefaultTrimInterval)
    {
    }

    // trimInterval: Timeout.InfiniteTimeSpan for no timer (tests call Trim themselves).
    public PinnedBlockMemoryPool(int blockSize, int maxRetainedBlocks, TimeSpan trimInterval)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBlocks);
        BlockSize = blockSize;
        MaxRetainedBlocks = maxRetainedBlocks;
        if (trimInterval != Timeout.InfiniteTimeSpan)
        {
            // A weak reference, so that a pool nobody disposed can still be collected.
            _trimTimer = new Timer(
                static state => OnTrimTimer((WeakReference<PinnedBlockMemoryPool>)state!),
                new WeakReference<PinnedBlockMemoryPool>(this),
                trimInterval,
                trimInterval);
        }
    }

    // The pool every connection uses unless TransportOptions.MemoryPool names another. Never disposed.
    public static PinnedBlockMemoryPool Default { get; } = new();

    public int BlockSize { get; }

    public int MaxRetainedBlocks { get; }

    public override int MaxBufferSize => BlockSize;

    // Free blocks held now (approximate while other threads rent and return).
    public int FreeBlockCount => Volatile.Read(ref _freeCount);

    // Blocks allocated over the pool's life: it stops growing once the pool covers the load.
    public long AllocatedBlockCount => Interlocked.Read(ref _allocated);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            ThrowTooLarge(minBufferSize, BlockSize);
        }

        if (Volatile.Read(ref _disposed))
        {
            ThrowDisposed();
        }

        if (_free.TryDequeue(out Block? block))
        {
            int free = Interlocked.Decrement(ref _freeCount);
            if (free < Volatile.Read(ref _lowWater))
            {
                // Racy on purpose: the low-water mark steers trimming, it is not an invariant.
                Volatile.Write(ref _lowWater, free);
            }

            block.Lease();
            return block;
        }

        Volatile.Write(ref _lowWater, 0);
        Interlocked.Increment(ref _allocated);
        return new Block(this, BlockSize);
    }

    // Releases half (rounded up) of the free blocks not needed since the last trim. Called by the timer.
    public void Trim()
    {
        int release = (Volatile.Read(ref _lowWater) + 1) / 2;
        while (release > 0 && _free.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _freeCount);
            release--;
        }

        Volatile.Write(ref _lowWater, Volatile.Read(ref _freeCount));
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        _trimTimer?.Dispose();
        while (_free.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    [DoesNotReturn]
    private static void ThrowTooLarge(int size, int blockSize) =>
        throw new ArgumentOutOfRangeException(nameof(size), size, $"The pool's blocks hold {blockSize} B.");

    [DoesNotReturn]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(PinnedBlockMemoryPool));

    private static void OnTrimTimer(WeakReference<PinnedBlockMemoryPool> reference)
    {
        if (reference.TryGetTarget(out PinnedBlockMemoryPool? pool))
        {
            pool.Trim();
        }
    }

    private void Return(Block block)
    {
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        if (Interlocked.Increment(ref _freeCount) > MaxRetainedBlocks)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }

        _free.Enqueue(block);
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly PinnedBlockMemoryPool _pool;

        // 0 while rented, 1 once returned: flipped atomically, so only the first Dispose returns the block.
        private int _returned;

        public Block(PinnedBlockMemoryPool pool, int size)
        {
            _pool = pool;
            byte[] array = GC.AllocateUninitializedArray<byte>(size, pinned: true);
            Memory = MemoryMarshal.CreateFromPinnedArray(array, 0, size);
        }

        public Memory<byte> Memory { get; }

        public void Lease() => Volatile.Write(ref _returned, 0);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                _pool.Return(this);
            }
        }
    }
}
