namespace FastChat.Compare.Workloads;

/// <summary>
/// The sequence numbers one receiver has seen from one sender, as a bitset grown in chunks (a receiver sees a
/// sender's numbers from 0 up, so chunks fill in order). One writer: the receiver's loop.
/// </summary>
internal sealed class SeenSet
{
    private const int ChunkBits = 1 << 15;
    private ulong[]?[] _chunks = new ulong[]?[4];

    /// <summary>Marks <paramref name="sequence"/> seen; <see langword="false"/> if it already was (a duplicate).</summary>
    public bool Add(long sequence)
    {
        long chunk = sequence / ChunkBits;
        if (chunk >= _chunks.Length)
        {
            Array.Resize(ref _chunks, (int)Math.Max(chunk + 1, _chunks.Length * 2L));
        }

        ulong[] bits = _chunks[chunk] ??= new ulong[ChunkBits / 64];
        int bit = (int)(sequence % ChunkBits);
        ulong mask = 1UL << (bit & 63);
        ref ulong word = ref bits[bit >> 6];
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        return true;
    }
}

/// <summary>
/// For a group sender: how many receivers have each message, so that the one completing it (every receiver has it)
/// opens the sender's window for the next. Receivers count from their own threads; chunks are made by whoever needs
/// them first.
/// </summary>
internal sealed class DeliveryCounts
{
    private const int ChunkSize = 1 << 14;

    // Room for 2^31 sequence numbers: far more than a bounded run sends to a group.
    private readonly int[]?[] _chunks = new int[]?[(int.MaxValue / ChunkSize) + 1];

    /// <summary>Counts one more receiver of <paramref name="sequence"/>; returns how many have it now.</summary>
    public int Increment(long sequence)
    {
        int[] chunk = ChunkOf(sequence);
        return Interlocked.Increment(ref chunk[sequence % ChunkSize]);
    }

    private int[] ChunkOf(long sequence)
    {
        long index = sequence / ChunkSize;
        int[]? chunk = Volatile.Read(ref _chunks[index]);
        if (chunk is null)
        {
            Interlocked.CompareExchange(ref _chunks[index], new int[ChunkSize], null);
            chunk = _chunks[index]!;
        }

        return chunk;
    }
}
