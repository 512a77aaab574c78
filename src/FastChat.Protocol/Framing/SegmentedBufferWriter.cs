using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace FastChat.Protocol.Framing;

/// <summary>
/// A growable <see cref="IBufferWriter{T}"/> over pooled arrays whose written bytes never move.
/// </summary>
/// <remarks>
/// <para>
/// Unlike <see cref="ArrayBufferWriter{T}"/>, which copies its contents into a larger array when it grows,
/// this writer chains further segments, so memory handed out by <see cref="GetMemory"/> or <see cref="GetSpan"/>
/// stays valid and in place until <see cref="Reset"/> or <see cref="Dispose"/>. That is what
/// <see cref="FrameWriter.BeginFrame"/> / <see cref="FrameWriter.EndFrame"/> need to backfill a length prefix
/// after the payload has been written.
/// </para>
/// <para>
/// The space left at the end of a segment when a larger span is requested is not used: the writer trades a little
/// slack for never copying. Segments double in size (from the minimum, up to 1 MiB unless a larger span is asked for),
/// so a writer that grows to <c>N</c> bytes holds <c>O(log N)</c> segments.
/// </para>
/// <para>Not thread-safe. Sequences returned by <see cref="AsReadOnlySequence"/> borrow the writer's memory and are
/// valid until the next <see cref="Reset"/>, <see cref="Dispose"/> or write.</para>
/// </remarks>
public sealed class SegmentedBufferWriter : IBufferWriter<byte>, IDisposable
{
    /// <summary>The size of the first segment unless the constructor is told otherwise.</summary>
    public const int DefaultMinimumSegmentSize = 4096;

    // Doubling stops here: beyond it a chain of 1 MiB segments wastes less than ever-larger rentals
    // (ArrayPool.Shared keeps few large arrays, so huge rentals usually allocate).
    private const int MaximumGrowthSegmentSize = 1024 * 1024;

    private readonly ArrayPool<byte> _pool;
    private readonly int _minimumSegmentSize;
    private Segment? _first;
    private Segment? _current;

    // Segment objects whose arrays went back to the pool at Reset, kept so that growing again allocates nothing.
    private Segment? _spare;
    private long _committedBeforeCurrent;
    private bool _disposed;

    /// <summary>Creates a writer that rents from <see cref="ArrayPool{T}.Shared"/>.</summary>
    public SegmentedBufferWriter()
        : this(DefaultMinimumSegmentSize, pool: null)
    {
    }

    /// <summary>Creates a writer.</summary>
    /// <param name="minimumSegmentSize">The size of the first segment, in bytes.</param>
    /// <param name="pool">The pool segments are rented from; <see langword="null"/> for <see cref="ArrayPool{T}.Shared"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minimumSegmentSize"/> is zero or negative.</exception>
    public SegmentedBufferWriter(int minimumSegmentSize, ArrayPool<byte>? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumSegmentSize);
        _minimumSegmentSize = minimumSegmentSize;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    /// <summary>The number of bytes written (advanced) since creation or the last <see cref="Reset"/>.</summary>
    public long WrittenCount => _committedBeforeCurrent + (_current?.Written ?? 0);

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The writer has been disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or larger than the memory last handed out.</exception>
    public void Advance(int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return;
        }

        Segment? current = _current;
        if (current is null || count > current.Available)
        {
            ThrowAdvancedTooFar(count);
        }

        current.Written += count;
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The writer has been disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sizeHint"/> is negative.</exception>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Segment segment = Reserve(sizeHint);
        return segment.Array.AsMemory(segment.Written);
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The writer has been disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sizeHint"/> is negative.</exception>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Segment segment = Reserve(sizeHint);
        return segment.Array.AsSpan(segment.Written);
    }

    /// <summary>Returns the written bytes as a sequence that borrows this writer's memory (no copy).</summary>
    /// <returns>
    /// A single-segment sequence when everything fits one segment, a multi-segment one otherwise. It is valid until
    /// the next write, <see cref="Reset"/> or <see cref="Dispose"/>.
    /// </returns>
    /// <exception cref="ObjectDisposedException">The writer has been disposed.</exception>
    public ReadOnlySequence<byte> AsReadOnlySequence()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Segment? first = _first;
        if (first is null || WrittenCount == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (ReferenceEquals(first, _current))
        {
            return new ReadOnlySequence<byte>(first.Array, 0, first.Written);
        }

        // Publish each segment's written window; the segment objects are reused, so this allocates nothing.
        long runningIndex = 0;
        for (Segment? segment = first; segment is not null; segment = segment.NextSegment)
        {
            segment.Publish(runningIndex);
            runningIndex += segment.Written;
            if (ReferenceEquals(segment, _current))
            {
                break;
            }
        }

        Segment last = _current!;
        return new ReadOnlySequence<byte>(first, 0, last, last.Written);
    }

    /// <summary>Copies the written bytes into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="WrittenCount"/>.</exception>
    /// <exception cref="ObjectDisposedException">The writer has been disposed.</exception>
    public void CopyTo(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.Length < WrittenCount)
        {
            throw new ArgumentException($"The destination holds {destination.Length} B; {WrittenCount} B were written.", nameof(destination));
        }

        for (Segment? segment = _first; segment is not null; segment = segment.NextSegment)
        {
            segment.Array.AsSpan(0, segment.Written).CopyTo(destination);
            destination = destination[segment.Written..];
            if (ReferenceEquals(segment, _current))
            {
                break;
            }
        }
    }

    /// <summary>Copies the written bytes into a new array.</summary>
    /// <exception cref="ObjectDisposedException">The writer has been disposed.</exception>
    /// <exception cref="InvalidOperationException">More than <see cref="Array.MaxLength"/> bytes were written.</exception>
    public byte[] ToArray()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long count = WrittenCount;
        if (count > Array.MaxLength)
        {
            throw new InvalidOperationException($"{count} B were written; an array holds at most {Array.MaxLength} B.");
        }

        if (count == 0)
        {
            return [];
        }

        byte[] result = GC.AllocateUninitializedArray<byte>((int)count);
        CopyTo(result);
        return result;
    }

    /// <summary>
    /// Forgets everything written. The first segment is kept for the next use; the others go back to the pool.
    /// Sequences and memory handed out before are invalid afterwards.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The writer has been disposed.</exception>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Segment? first = _first;
        if (first is null)
        {
            return;
        }

        ReturnChain(first.NextSegment, keepSegments: true);
        first.Reset();
        _current = first;
        _committedBeforeCurrent = 0;
    }

    /// <summary>Returns every segment to the pool. The writer cannot be used afterwards; calling it twice is harmless.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReturnChain(_first, keepSegments: false);
        _first = null;
        _current = null;
        _spare = null;
        _committedBeforeCurrent = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Segment Reserve(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        Segment? current = _current;
        if (current is not null && current.Available >= Math.Max(sizeHint, 1))
        {
            return current;
        }

        return AddSegment(sizeHint);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Segment AddSegment(int sizeHint)
    {
        Segment? current = _current;
        int size = current is null
            ? _minimumSegmentSize
            : (int)Math.Min((long)current.Array.Length * 2, Math.Max(MaximumGrowthSegmentSize, _minimumSegmentSize));
        size = Math.Max(size, sizeHint);

        if (current is not null && current.Written == 0)
        {
            // Nothing was written to the current segment: swap its array for a larger one rather than leave an
            // empty segment in the chain.
            _pool.Return(current.Array);
            current.Array = _pool.Rent(size);
            return current;
        }

        Segment segment;
        if (_spare is { } spare)
        {
            _spare = spare.NextSpare;
            spare.NextSpare = null;
            spare.Array = _pool.Rent(size);
            segment = spare;
        }
        else
        {
            segment = new Segment(_pool.Rent(size));
        }

        if (current is null)
        {
            _first = segment;
        }
        else
        {
            _committedBeforeCurrent += current.Written;
            current.SetNext(segment);
        }

        _current = segment;
        return segment;
    }

    private void ReturnChain(Segment? segment, bool keepSegments)
    {
        while (segment is not null)
        {
            Segment? next = segment.NextSegment;
            _pool.Return(segment.Array);
            segment.Array = [];
            segment.Reset();
            if (keepSegments)
            {
                segment.NextSpare = _spare;
                _spare = segment;
            }

            segment = next;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowAdvancedTooFar(int count) =>
        throw new ArgumentOutOfRangeException(
            nameof(count),
            $"Cannot advance {count} B: only {_current?.Available ?? 0} B were handed out by GetMemory/GetSpan.");

    // One rented array in the chain. It is its own ReadOnlySequenceSegment so that building a multi-segment
    // sequence allocates nothing; Memory and RunningIndex are published only when a sequence is requested.
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] array)
        {
            Array = array;
        }

        public byte[] Array { get; set; }

        public int Written { get; set; }

        public Segment? NextSpare { get; set; }

        public int Available => Array.Length - Written;

        public Segment? NextSegment => (Segment?)Next;

        public void SetNext(Segment next)
        {
            Debug.Assert(Next is null, "A segment is linked once.");
            Next = next;
        }

        public void Publish(long runningIndex)
        {
            Memory = Array.AsMemory(0, Written);
            RunningIndex = runningIndex;
        }

        public void Reset()
        {
            Written = 0;
            Memory = default;
            RunningIndex = 0;
            Next = null;
        }
    }
}
