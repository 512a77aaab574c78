using System.Buffers;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// One message payload (<c>[opcode, requestId, fields...]</c>, no length prefix) in an array rented from
/// <see cref="ArrayPool{T}.Shared"/>, shared by reference count between the deliveries that still need it (one for a
/// direct message, one per member copy for a group message). The last <see cref="Release"/> returns the array and
/// the buffer object to their pools, so the relay path allocates nothing per message in steady state.
/// </summary>
/// <remarks>
/// A pooled buffer keeps an array of up to <see cref="RetainedArrayLength"/> bytes: a burst of messages waiting for
/// acks holds far more arrays than the shared array pool keeps per size (a few dozen), and every array it dropped
/// would be allocated again for the next burst. Larger arrays go back to the shared pool.
/// </remarks>
internal sealed class PayloadBuffer : IBufferWriter<byte>
{
    // Covers typical chat messages; the pool then holds at most 1024 × 2 KiB.
    private const int RetainedArrayLength = 2048;

    private static readonly ObjectPool<PayloadBuffer> s_pool = new(1024);

    private byte[] _array = [];
    private int _length;
    private int _references;

    private PayloadBuffer()
    {
    }

    /// <summary>The payload written so far.</summary>
    public ReadOnlySpan<byte> Span => _array.AsSpan(0, _length);

    /// <summary>The payload written so far.</summary>
    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, _length);

    /// <summary>The payload's length in bytes.</summary>
    public int Length => _length;

    /// <summary>Rents an empty buffer with one reference, able to hold <paramref name="capacity"/> bytes without growing.</summary>
    public static PayloadBuffer Rent(int capacity)
    {
        PayloadBuffer buffer = s_pool.Rent() ?? new PayloadBuffer();
        if (buffer._array.Length < Math.Max(capacity, 1))
        {
            if (buffer._array.Length != 0)
            {
                ArrayPool<byte>.Shared.Return(buffer._array);
            }

            buffer._array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));
        }

        buffer._length = 0;
        buffer._references = 1;
        return buffer;
    }

    /// <summary>Rents a buffer holding a copy of <paramref name="payload"/>.</summary>
    public static PayloadBuffer CopyOf(in ReadOnlySequence<byte> payload)
    {
        PayloadBuffer buffer = Rent(checked((int)payload.Length));
        payload.CopyTo(buffer._array);
        buffer._length = (int)payload.Length;
        return buffer;
    }

    /// <summary>Adds a reference for one more holder.</summary>
    public void AddReference() => Interlocked.Increment(ref _references);

    /// <summary>Drops a reference; the last one returns the memory to the pools.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }

        _length = 0;
        if (_array.Length > RetainedArrayLength)
        {
            byte[] array = _array;
            _array = [];
            ArrayPool<byte>.Shared.Return(array);
        }

        if (!s_pool.Return(this) && _array.Length != 0)
        {
            // The pool is full: this buffer is left to the garbage collector, its array goes back to the shared pool.
            byte[] array = _array;
            _array = [];
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <summary>A copy of the payload for the store, which keeps its own array.</summary>
    public byte[] ToArray() => Span.ToArray();

    /// <inheritdoc/>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_length + count > _array.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _length += count;
    }

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureCapacity(sizeHint);
        return _array.AsMemory(_length);
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureCapacity(sizeHint);
        return _array.AsSpan(_length);
    }

    private void EnsureCapacity(int sizeHint)
    {
        int needed = _length + Math.Max(sizeHint, 1);
        if (needed <= _array.Length)
        {
            return;
        }

        // Only when the size estimate was short: grow by doubling, as a list would.
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _array.Length * 2));
        _array.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = larger;
    }
}
