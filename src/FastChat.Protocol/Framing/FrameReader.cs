using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastChat.Protocol.Internal;

namespace FastChat.Protocol.Framing;

/// <summary>
/// Parses FastChat frames: a 4-byte big-endian unsigned length <c>N</c>, then <c>N</c> bytes of payload.
/// </summary>
/// <remarks>
/// The parser is pure: no I/O, no logging, no allocation. It never copies a payload; the payload it hands
/// out is a slice of the input and lives exactly as long as the input buffer (for a pipe, until the next
/// <c>AdvanceTo</c>).
/// </remarks>
public static class FrameReader
{
    /// <summary>The size of the length prefix.</summary>
    public const int HeaderSize = 4;

    /// <summary>
    /// Tries to slice one whole frame off the front of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">The bytes received so far. On success it is advanced past the frame.</param>
    /// <param name="maxFrameSize">The largest payload accepted, in bytes.</param>
    /// <param name="payload">On success, the frame's payload: a slice of the original buffer.</param>
    /// <returns><see langword="true"/> if a whole frame was read; <see langword="false"/> if more bytes are needed.</returns>
    /// <exception cref="FrameTooLargeException">
    /// The length prefix exceeds <paramref name="maxFrameSize"/>. Raised as soon as the four prefix bytes are
    /// present, before any of the payload is waited for.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxFrameSize"/> is negative.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out ReadOnlySequence<byte> payload)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrameSize);

        if (!TryReadLength(buffer, out uint length))
        {
            payload = default;
            return false;
        }

        if (length > (uint)maxFrameSize)
        {
            ThrowHelper.ThrowFrameTooLarge(length, maxFrameSize);
        }

        if (buffer.Length - HeaderSize < length)
        {
            payload = default;
            return false;
        }

        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Reads the length prefix without consuming anything.</summary>
    /// <returns><see langword="false"/> if fewer than <see cref="HeaderSize"/> bytes are present.</returns>
    public static bool TryReadLength(in ReadOnlySequence<byte> buffer, out uint length)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= HeaderSize)
        {
            length = BinaryPrimitives.ReadUInt32BigEndian(first);
            return true;
        }

        return TryReadLengthSlow(buffer, out length);
    }

    // The prefix straddles segments: copy just those four bytes to the stack.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryReadLengthSlow(in ReadOnlySequence<byte> buffer, out uint length)
    {
        if (buffer.Length < HeaderSize)
        {
            length = 0;
            return false;
        }

        Span<byte> prefix = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(prefix);
        length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        return true;
    }
}
