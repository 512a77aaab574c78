using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>
/// Acknowledges several messages at once: from a recipient to its server (received), and from the server to a sender
/// (taken responsibility). Each id means exactly what a single <see cref="Ack"/> of it would.
/// </summary>
/// <remarks>
/// <para>Opcode <c>0x24</c> (<see cref="Opcode.AckBatch"/>), 1 field. Wire form: <c>[0x24, requestId, ids]</c>; the request id is 0.</para>
/// <para>
/// Sent only to a peer whose <see cref="Hello"/> listed <see cref="ProtocolFeatures.AckBatch"/>. Relays that want no
/// allocation per frame use <see cref="WriteFrame"/> and <see cref="ReadIds"/> instead of building and reading the message.
/// </para>
/// </remarks>
public readonly record struct AckBatch : IMessage<AckBatch>
{
    private const int V1FieldCount = 1;

    /// <summary>The acknowledged messages' ids.</summary>
    /// <remarks>Array element 2: array of bin of exactly 16 bytes (nil reads as empty).</remarks>
    public IReadOnlyList<MessageId> Ids { get => field ?? []; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.AckBatch;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static AckBatch Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(AckBatch));
        var message = new AckBatch
        {
            Ids = FieldReader.ReadMessageIdArray(ref reader, "AckBatch.ids"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(AckBatch));
        return message;
    }

    /// <summary>
    /// Reads the ids of an <see cref="AckBatch"/> whose header <see cref="MessageSerializer.ReadHeader"/> returned,
    /// adding them to <paramref name="destination"/>, so that a reused collection makes reading allocation-free.
    /// </summary>
    /// <param name="reader">The reader, left where <see cref="MessageSerializer.ReadHeader"/> left it; it is left after the message.</param>
    /// <param name="header">The header.</param>
    /// <param name="destination">Receives the ids, in order. On an exception it may hold some of them: discard it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is <see langword="null"/>.</exception>
    /// <exception cref="ProtocolViolationException">
    /// The header's opcode is not <see cref="Opcode.AckBatch"/>, the payload has no fields, or a field is malformed
    /// (the same errors as <see cref="Read"/>).
    /// </exception>
    public static void ReadIds(ref MessagePackReader reader, in MessageHeader header, ICollection<MessageId> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (header.Opcode != Opcode.AckBatch)
        {
            ThrowWrongOpcode(header.Opcode);
        }

        FieldReader.EnsureFieldCount(header.FieldCount, V1FieldCount, nameof(AckBatch));
        FieldReader.ReadMessageIdArray(ref reader, "AckBatch.ids", destination);
        FieldReader.SkipExtraFields(ref reader, header.FieldCount, V1FieldCount, nameof(AckBatch));
    }

    /// <summary>Writes one complete <see cref="AckBatch"/> frame (length prefix included) straight from a span of ids.</summary>
    /// <param name="output">The destination; as for <see cref="MessageSerializer.WriteFrame{T}"/>, it must keep written memory in place until flushed.</param>
    /// <param name="requestId">The request id (0 for an unsolicited batch).</param>
    /// <param name="ids">The acknowledged ids.</param>
    /// <param name="maxFrameSize">The receiver's maximum frame size; a larger frame is refused here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is <see langword="null"/>.</exception>
    /// <exception cref="FrameTooLargeException">The payload is larger than <paramref name="maxFrameSize"/>; discard the output.</exception>
    public static void WriteFrame(IBufferWriter<byte> output, uint requestId, ReadOnlySpan<MessageId> ids, int maxFrameSize = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new MessagePackWriter(output);
        FramePrefix prefix = FrameWriter.BeginFrame(ref writer);
        writer.WriteArrayHeader(2 + V1FieldCount);
        writer.Write((uint)Opcode.AckBatch);
        writer.Write(requestId);
        FieldWriter.WriteMessageIdArray(ref writer, ids);
        FrameWriter.EndFrame(ref writer, prefix, maxFrameSize);
        writer.Flush();
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        FieldWriter.WriteMessageIdArray(ref writer, Ids);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongOpcode(Opcode actual) =>
        throw new ProtocolViolationException(
            $"Expected {nameof(AckBatch)} (opcode 0x{(byte)Opcode.AckBatch:x2}) but the message's opcode is 0x{(byte)actual:x2}.");
}
