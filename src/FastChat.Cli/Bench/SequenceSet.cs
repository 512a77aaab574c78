namespace FastChat.Cli.Bench;

/// <summary>
/// The sequence numbers a receiver has seen from its one peer, as a bit set that grows by doubling: telling a first
/// delivery from a duplicate costs a bit per message and allocates only while the run is still growing it.
/// </summary>
internal sealed class SequenceSet
{
    private ulong[] _bits;

    /// <summary>A set with room for the first 4096 sequence numbers before it grows.</summary>
    public SequenceSet()
        : this(64)
    {
    }

    /// <summary>A set with room for the first <paramref name="initialWords"/> × 64 sequence numbers before it grows.</summary>
    /// <param name="initialWords">At least 1.</param>
    public SequenceSet(int initialWords) => _bits = new ulong[initialWords];

    /// <summary>Marks <paramref name="sequence"/> as seen; <see langword="false"/> if it already was.</summary>
    /// <param name="sequence">A sequence number from 0 to the number of messages sent (the caller checks the bound).</param>
    public bool Add(long sequence)
    {
        long word = sequence >> 6;
        if (word >= _bits.Length)
        {
            Array.Resize(ref _bits, (int)Math.Max(_bits.Length * 2L, word + 1));
        }

        ulong mask = 1UL << (int)(sequence & 63);
        ref ulong slot = ref _bits[word];
        if ((slot & mask) != 0)
        {
            return false;
        }

        slot |= mask;
        return true;
    }
}
