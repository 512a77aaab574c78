using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace FastChat.Protocol.Internal;

/// <summary>
/// A bounded, lock-free cache that turns short UTF-8 names (user, group and server ids) into strings without
/// allocating once a name has been seen.
/// </summary>
/// <remarks>
/// <para>
/// The cache is a fixed, power-of-two array of immutable entries indexed by a hash of the bytes. A hit compares
/// the bytes and returns the stored string; a miss decodes a new string and overwrites the slot. Entries are
/// immutable and a reference write is atomic, so concurrent readers always see a consistent (bytes, string)
/// pair: a race costs at most an extra allocation, never a wrong answer. There is no eviction policy beyond
/// "last writer wins", which keeps the hit path to a hash, an array load and a short compare.
/// </para>
/// <para>
/// The hash is seeded randomly per process, so a peer cannot choose names that collide on purpose to thrash the
/// cache (and a collision would only cost an allocation anyway).
/// </para>
/// <para>
/// Decoding is strict: invalid UTF-8 raises <see cref="ProtocolViolationException"/>. Replacing bad bytes with
/// U+FFFD would map different byte strings to one name, which is unacceptable for identifiers.
/// </para>
/// </remarks>
internal sealed class NameCache
{
    /// <summary>The longest name, in UTF-8 bytes, that is cached; longer strings are decoded without caching.</summary>
    public const int MaxCachedLength = 64;

    // 4096 entries: enough for the active users, groups and servers one process sees at once. Each entry holds at
    // most 64 B of UTF-8 and its string (about 270 B with object headers), so the cache stays near 1 MiB even when
    // every slot holds a maximal name, and far below it for typical names.
    private const int DefaultCapacity = 4096;

    private static readonly ulong s_seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));

    private readonly Entry?[] _entries;
    private readonly int _mask;

    /// <summary>Creates a cache with <paramref name="capacity"/> slots, rounded up to a power of two.</summary>
    public NameCache(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 20);
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)capacity);
        _entries = new Entry?[size];
        _mask = size - 1;
    }

    /// <summary>The process-wide cache the message readers use.</summary>
    public static NameCache Shared { get; } = new();

    /// <summary>The number of slots.</summary>
    public int Capacity => _entries.Length;

    /// <summary>Returns the string for <paramref name="utf8"/>, from the cache when it was seen before.</summary>
    /// <exception cref="ProtocolViolationException"><paramref name="utf8"/> is not valid UTF-8.</exception>
    public string GetOrAdd(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (utf8.Length > MaxCachedLength)
        {
            return Decode(utf8);
        }

        ref Entry? slot = ref _entries[GetHash(utf8) & _mask];
        Entry? entry = Volatile.Read(ref slot);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8))
        {
            return entry.Value;
        }

        return AddSlow(ref slot, utf8);
    }

    /// <summary>Returns the string for a name that may span several segments.</summary>
    /// <exception cref="ProtocolViolationException"><paramref name="utf8"/> is not valid UTF-8.</exception>
    public string GetOrAdd(in ReadOnlySequence<byte> utf8)
    {
        if (utf8.IsSingleSegment)
        {
            return GetOrAdd(utf8.FirstSpan);
        }

        if (utf8.Length <= MaxCachedLength)
        {
            // Names straddling a segment boundary are rare; a 64-byte stack copy keeps them allocation-free.
            Span<byte> scratch = stackalloc byte[MaxCachedLength];
            int length = (int)utf8.Length;
            utf8.CopyTo(scratch);
            return GetOrAdd(scratch[..length]);
        }

        return Decode(utf8);
    }

    /// <summary>Decodes strict UTF-8 to a new string (no caching).</summary>
    /// <exception cref="ProtocolViolationException"><paramref name="utf8"/> is not valid UTF-8.</exception>
    public static string Decode(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return string.Empty;
        }

        if (!Utf8.IsValid(utf8))
        {
            ThrowHelper.ThrowInvalidUtf8();
        }

        return Encoding.UTF8.GetString(utf8);
    }

    /// <summary>Decodes strict UTF-8 spread over several segments to a new string (no caching).</summary>
    /// <exception cref="ProtocolViolationException"><paramref name="utf8"/> is not valid UTF-8.</exception>
    public static string Decode(in ReadOnlySequence<byte> utf8)
    {
        if (utf8.IsSingleSegment)
        {
            return Decode(utf8.FirstSpan);
        }

        // A slice of one frame is bounded by the frame limit (an int); anything longer cannot be a string anyway.
        if (utf8.Length > Array.MaxLength)
        {
            ThrowHelper.ThrowProtocolViolation($"A string of {utf8.Length} B is too long to decode.");
        }

        int length = (int)utf8.Length;
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            utf8.CopyTo(rented);
            return Decode(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // A multiply-rotate hash over 8-byte words, with the tail read as (possibly overlapping) words, in the manner of
    // xxHash3's short-input path: about a third of the cost of HashCode.AddBytes for names of a few bytes, which
    // matters because every name of every message read goes through here. The seed is random per process.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int GetHash(ReadOnlySpan<byte> utf8)
    {
        const ulong Prime1 = 0x9E3779B185EBCA87UL;
        const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;

        int length = utf8.Length;
        ulong hash = s_seed ^ ((ulong)length * Prime1);
        int i = 0;
        for (; length - i >= sizeof(ulong); i += sizeof(ulong))
        {
            hash = BitOperations.RotateLeft((hash ^ MemoryMarshal.Read<ulong>(utf8[i..])) * Prime2, 31);
        }

        int remaining = length - i;
        ulong tail;
        if (remaining >= sizeof(uint))
        {
            tail = MemoryMarshal.Read<uint>(utf8[i..]) | ((ulong)MemoryMarshal.Read<uint>(utf8[(length - sizeof(uint))..]) << 32);
        }
        else if (remaining > 0)
        {
            tail = utf8[i] | ((ulong)utf8[i + (remaining >> 1)] << 8) | ((ulong)utf8[length - 1] << 16);
        }
        else
        {
            tail = 0;
        }

        hash = (hash ^ tail) * Prime2;
        hash ^= hash >> 33;
        hash *= Prime1;
        hash ^= hash >> 29;
        return (int)hash;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string AddSlow(ref Entry? slot, ReadOnlySpan<byte> utf8)
    {
        string value = Decode(utf8);
        Volatile.Write(ref slot, new Entry(utf8.ToArray(), value));
        return value;
    }

    // Immutable so that a reader that loads the reference sees bytes and string that belong together.
    private sealed class Entry(byte[] utf8, string value)
    {
        public byte[] Utf8 { get; } = utf8;

        public string Value { get; } = value;
    }
}
