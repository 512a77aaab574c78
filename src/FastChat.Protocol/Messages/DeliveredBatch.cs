using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>
/// Tells a sender that one recipient acknowledged several of its messages. Each id means exactly what a single
/// <see cref="Delivered"/> of it (with the same recipient) would.
/// </summary>
/// <remarks>
/// <para>Opcode <c>0x25</c> (<see cref="Opcode.DeliveredBatch"/>), 2 fields. Wire form: <c>[0x25, requestId, recipient, ids]</c>; the request id is 0.</para>
/// <para>
/// Sent by a server only to a client whose <see cref="Hello"/> listed <see cref="ProtocolFeatures.AckBatch"/>, and only
/// after the <see cref="AckBatch"/> (or <see cref="Ack"/>) of each of its ids.
/// </para>
/// </remarks>
public readonly record struct DeliveredBatch : IMessage<DeliveredBatch>
{
    private const int V1FieldCount = 2;

    /// <summary>The user who acknowledged them.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Recipient { get => field ?? string.Empty; init; }

    /// <summary>The delivered messages' ids.</summary>
    /// <remarks>Array element 3: array of bin of exactly 16 bytes (nil reads as empty).</remarks>
    public IReadOnlyList<MessageId> Ids { get => field ?? []; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.DeliveredBatch;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 2 fields, or a field is malformed; the message names it.</exception>
    public static DeliveredBatch Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(DeliveredBatch));
        var message = new DeliveredBatch
        {
            Recipient = FieldReader.ReadName(ref reader, "DeliveredBatch.recipient"),
            Ids = FieldReader.ReadMessageIdArray(ref reader, "DeliveredBatch.ids"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(DeliveredBatch));
        return message;
    }

    /// <summary>
    /// Reads a <see cref="DeliveredBatch"/> whose header <see cref="MessageSerializer.ReadHeader"/> returned, adding its
    /// ids to <paramref name="destination"/>, so that a reused collection makes reading allocation-free.
    /// </summary>
    /// <param name="reader">The reader, left where <see cref="MessageSerializer.ReadHeader"/> left it; it is left after the message.</param>
    /// <param name="header">The header.</param>
    /// <param name="destination">Receives the ids, in order. On an exception it may hold some of them: discard it.</param>
    /// <returns>The recipient.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is <see langword="null"/>.</exception>
    /// <exception cref="ProtocolViolationException">
    /// The header's opcode is not <see cref="Opcode.DeliveredBatch"/>, the payload has fewer than 2 fields, or a field is
    /// malformed (the same errors as <see cref="Read"/>).
    /// </exception>
    public static string ReadIds(ref MessagePackReader reader, in MessageHeader header, ICollection<MessageId> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (header.Opcode != Opcode.DeliveredBatch)
        {
            ThrowWrongOpcode(header.Opcode);
        }

        FieldReader.EnsureFieldCount(header.FieldCount, V1FieldCount, nameof(DeliveredBatch));
        string recipient = FieldReader.ReadName(ref reader, "DeliveredBatch.recipient");
        FieldReader.ReadMessageIdArray(ref reader, "DeliveredBatch.ids", destination);
        FieldReader.SkipExtraFields(ref reader, header.FieldCount, V1FieldCount, nameof(DeliveredBatch));
        return recipient;
    }

    /// <summary>Writes one complete <see cref="DeliveredBatch"/> frame (length prefix included) straight from a span of ids.</summary>
    /// <param name="output">The destination; as for <see cref="MessageSerializer.WriteFrame{T}"/>, it must keep written memory in place until flushed.</param>
    /// <param name="requestId">The request id (0 for an unsolicited batch).</param>
    /// <param name="recipient">The user who acknowledged the messages.</param>
    /// <param name="ids">The delivered ids.</param>
    /// <param name="maxFrameSize">The receiver's maximum frame size; a larger frame is refused here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> or <paramref name="recipient"/> is <see langword="null"/>.</exception>
    /// <exception cref="FrameTooLargeException">The payload is larger than <paramref name="maxFrameSize"/>; discard the output.</exception>
    public static void WriteFrame(IBufferWriter<byte> output, uint requestId, string recipient, ReadOnlySpan<MessageId> ids, int maxFrameSize = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(recipient);
        var writer = new MessagePackWriter(output);
        FramePrefix prefix = FrameWriter.BeginFrame(ref writer);
        writer.WriteArrayHeader(2 + V1FieldCount);
        writer.Write((uint)Opcode.DeliveredBatch);
        writer.Write(requestId);
        writer.Write(recipient);
        FieldWriter.WriteMessageIdArray(ref writer, ids);
        FrameWriter.EndFrame(ref writer, prefix, maxFrameSize);
        writer.Flush();
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Recipient);
        FieldWriter.WriteMessageIdArray(ref writer, Ids);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongOpcode(Opcode actual) =>
        throw new ProtocolViolationException(
            $"Expected {nameof(DeliveredBatch)} (opcode 0x{(byte)Opcode.DeliveredBatch:x2}) but the message's opcode is 0x{(byte)actual:x2}.");
}
