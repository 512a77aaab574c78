using System.Buffers;

namespace FastChat.Compare.Raw;

/// <summary>
/// The bytes received but not yet parsed, contiguous, so that the protocol parsers work on one span: a receive loop
/// asks for <see cref="FreeSpace"/>, reports what arrived with <see cref="Advance"/>, parses <see cref="Unread"/> and
/// drops what it used with <see cref="Consume"/>.
/// </summary>
internal sealed class ReceiveBuffer : IDisposable
{
    private byte[] _buffer;
    private int _start;
    private int _end;

    /// <summary>A buffer of <paramref name="capacity"/> bytes to start with.</summary>
    public ReceiveBuffer(int capacity = 64 * 1024) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

    /// <summary>The received bytes not yet consumed.</summary>
    public ReadOnlySpan<byte> Unread => _buffer.AsSpan(_start, _end - _start);

    /// <summary>How many bytes are unread.</summary>
    public int Length => _end - _start;

    /// <summary>
    /// Room for the next receive: at least <paramref name="minimum"/> bytes (the whole of a frame the parser said it
    /// needs), unread bytes moved to the front first so the buffer only grows for frames larger than it.
    /// </summary>
    public Memory<byte> FreeSpace(int minimum = 4096)
    {
        if (_start > 0 && (_buffer.Length - _end < minimum || _start == _end))
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_buffer.Length - _end < minimum)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _end + minimum));
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        return _buffer.AsMemory(_end);
    }

    /// <summary>Adds the <paramref name="count"/> bytes just received into <see cref="FreeSpace"/>.</summary>
    public void Advance(int count) => _end += count;

    /// <summary>Drops the first <paramref name="count"/> unread bytes.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _start = _end = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
