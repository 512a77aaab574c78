using System.Buffers;
using System.Buffers.Binary;
using FastChat.Protocol.Internal;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Framing;

/// <summary>
/// Writes FastChat frames (4-byte big-endian length, then the payload) straight into the destination
/// <see cref="IBufferWriter{T}"/>: no intermediate array.
/// </summary>
/// <remarks>
/// <para>
/// When the payload size is known (relayed ciphertext, an already-encoded frame) use
/// <see cref="WriteFrame(IBufferWriter{byte}, ReadOnlySpan{byte})"/> or <see cref="WriteFrame(IBufferWriter{byte}, in ReadOnlySequence{byte})"/>:
/// prefix and payload go into one <c>GetSpan</c> when they fit.
/// </para>
/// <para>
/// When it is not (a message being encoded), <see cref="BeginFrame"/> reserves the prefix, the caller writes
/// the body through the same <see cref="MessagePackWriter"/>, and <see cref="EndFrame"/> backfills the length.
/// Backfilling needs the destination to keep written memory in place until it is flushed: true of
/// <c>PipeWriter</c> and of <see cref="SegmentedBufferWriter"/>, not of <see cref="ArrayBufferWriter{T}"/>,
/// which moves its contents when it grows. For a growable array use <see cref="SegmentedBufferWriter"/>.
/// </para>
/// </remarks>
public static class FrameWriter
{
    /// <summary>Writes one frame whose payload is in hand.</summary>
    /// <exception cref="ArgumentException">The payload is larger than <see cref="int.MaxValue"/> - 4 bytes.</exception>
    public static void WriteFrame(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (payload.Length > int.MaxValue - FrameReader.HeaderSize)
        {
            // Otherwise the size request below would overflow into a negative number.
            throw new ArgumentException($"A payload of {payload.Length} B does not fit one span with its prefix.", nameof(payload));
        }

        Span<byte> span = output.GetSpan(FrameReader.HeaderSize + payload.Length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)payload.Length);
        payload.CopyTo(span[FrameReader.HeaderSize..]);
        output.Advance(FrameReader.HeaderSize + payload.Length);
    }

    /// <summary>Writes one frame whose payload is a (possibly multi-segment) sequence, such as a relayed slice of a pipe.</summary>
    /// <exception cref="ArgumentException">The payload is 4 GiB or larger.</exception>
    public static void WriteFrame(IBufferWriter<byte> output, in ReadOnlySequence<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (payload.IsSingleSegment)
        {
            WriteFrame(output, payload.FirstSpan);
            return;
        }

        WriteFrameHeader(output, payload.Length);
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            output.Write(segment.Span);
        }
    }

    /// <summary>Writes only the 4-byte prefix for a payload of <paramref name="payloadLength"/> bytes that the caller writes next.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative or does not fit 32 bits.</exception>
    public static void WriteFrameHeader(IBufferWriter<byte> output, long payloadLength)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, uint.MaxValue);
        Span<byte> span = output.GetSpan(FrameReader.HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)payloadLength);
        output.Advance(FrameReader.HeaderSize);
    }

    /// <summary>
    /// Reserves the length prefix of a frame whose payload the caller is about to write through <paramref name="writer"/>.
    /// </summary>
    /// <returns>The reserved prefix; pass it to <see cref="EndFrame"/> once the payload is written.</returns>
    public static FramePrefix BeginFrame(ref MessagePackWriter writer)
    {
        Span<byte> prefix = writer.GetSpan(FrameReader.HeaderSize);
        writer.Advance(FrameReader.HeaderSize);
        return new FramePrefix(prefix[..FrameReader.HeaderSize], writer.BytesWritten);
    }

    /// <summary>Backfills the prefix reserved by <see cref="BeginFrame"/> with the length of everything written since.</summary>
    /// <param name="writer">The writer the payload went through.</param>
    /// <param name="prefix">The prefix <see cref="BeginFrame"/> returned.</param>
    /// <param name="maxFrameSize">The receiver's limit; a larger frame is refused here rather than by the peer.</param>
    /// <exception cref="FrameTooLargeException">The payload is larger than <paramref name="maxFrameSize"/>.</exception>
    public static void EndFrame(ref MessagePackWriter writer, scoped FramePrefix prefix, int maxFrameSize = int.MaxValue)
    {
        long length = writer.BytesWritten - prefix.PayloadStart;
        if (length > maxFrameSize)
        {
            ThrowHelper.ThrowFrameTooLarge(length, maxFrameSize);
        }

        BinaryPrimitives.WriteUInt32BigEndian(prefix.Slot, (uint)length);
    }
}

/// <summary>A reserved, not yet filled frame length prefix (see <see cref="FrameWriter.BeginFrame"/>).</summary>
public readonly ref struct FramePrefix
{
    internal FramePrefix(Span<byte> slot, long payloadStart)
    {
        Slot = slot;
        PayloadStart = payloadStart;
    }

    internal Span<byte> Slot { get; }

    internal long PayloadStart { get; }
}
