using System.Buffers;
using System.Runtime.CompilerServices;

namespace FastChat.Protocol.MessagePack.Internal;

// Caches the span last obtained from the destination so that each primitive write is a length check, a store
// and an add; the destination sees GetSpan/Advance only when the cached span runs out and on Commit.
// Deliberately left out: a fallback scratch buffer for destinations that return spans shorter than asked for,
// which the IBufferWriter<T> contract forbids.
internal ref struct BufferWriter
{
    private readonly IBufferWriter<byte> _output;

    // The unused part of the span last obtained from _output.
    private Span<byte> _span;

    // Bytes written into the cached span but not yet reported to _output.Advance.
    private int _buffered;

    // Bytes already reported to _output.Advance.
    private long _committed;

    public BufferWriter(IBufferWriter<byte> output)
    {
        _output = output;
        _span = default;
        _buffered = 0;
        _committed = 0;
    }

    public readonly long BytesWritten => _committed + _buffered;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int sizeHint)
    {
        if (_span.Length < sizeHint)
        {
            Ensure(sizeHint);
        }

        return _span;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count)
    {
        // Slicing checks count against the span (negative counts fail the unsigned comparison too).
        _span = _span[count..];
        _buffered += count;
    }

    public void Commit()
    {
        if (_buffered > 0)
        {
            _output.Advance(_buffered);
            _committed += _buffered;
            _buffered = 0;
        }

        // After Advance the destination may hand the same memory out again: the cached span is no longer ours.
        _span = default;
    }

    // Copies a payload that may be larger than any single span the destination wants to hand out.
    public void Write(scoped ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            Span<byte> span = GetSpan(1);
            int count = Math.Min(span.Length, source.Length);
            source[..count].CopyTo(span);
            Advance(count);
            source = source[count..];
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Ensure(int sizeHint)
    {
        Commit();
        _span = _output.GetSpan(sizeHint);
    }
}
