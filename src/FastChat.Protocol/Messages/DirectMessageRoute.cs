using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>
/// A <see cref="DirectMessage"/> as a relay sees it: the fields it routes by, plus the rest of the message's encoding
/// kept as received, so that it can be forwarded with the sender filled in without decoding and re-encoding it.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Read"/> validates exactly what <see cref="DirectMessage.Read"/> validates (and throws the same errors), so a
/// message it accepts is one <see cref="DirectMessage.Read"/> accepts. <see cref="WriteStamped"/> then writes
/// <c>[0x20, requestId, id, sender, recipient, sentAt, body]</c>: the id and the sender encoded afresh, the recipient,
/// the timestamp and the body copied byte for byte. Fields after the body that this version does not know are dropped,
/// as re-encoding a <see cref="DirectMessage"/> would; the result decodes to the same <see cref="DirectMessage"/> as
/// <c>message with { Sender = sender }</c> and, for a sender that encodes canonically, is the same bytes.
/// </para>
/// <para>
/// <see cref="ForwardedFields"/> is a slice of the payload that was read: valid until that payload's buffer is released
/// (for a pipe, until <c>AdvanceTo</c>). Write the forwarded copy before then.
/// </para>
/// </remarks>
public readonly struct DirectMessageRoute
{
    private const int V1FieldCount = 5;

    private DirectMessageRoute(MessageId id, string sender, string recipient, ReadOnlySequence<byte> forwardedFields)
    {
        Id = id;
        Sender = sender;
        Recipient = recipient;
        ForwardedFields = forwardedFields;
    }

    /// <summary>The message id (<see cref="DirectMessage.Id"/>).</summary>
    public MessageId Id { get; }

    /// <summary>The sender as received (<see cref="DirectMessage.Sender"/>): empty from a client.</summary>
    public string Sender { get; }

    /// <summary>The receiving user (<see cref="DirectMessage.Recipient"/>).</summary>
    public string Recipient { get; }

    /// <summary>The encoded recipient, timestamp and body fields, as received: a slice of the payload that was read.</summary>
    public ReadOnlySequence<byte> ForwardedFields { get; }

    /// <summary>Reads the fields of a <see cref="DirectMessage"/> whose header <see cref="MessageSerializer.ReadHeader"/> returned.</summary>
    /// <param name="reader">The reader, left where <see cref="MessageSerializer.ReadHeader"/> left it; it is left after the message.</param>
    /// <param name="header">The header.</param>
    /// <returns>The route; <see cref="ForwardedFields"/> is a slice of the reader's sequence.</returns>
    /// <exception cref="ProtocolViolationException">
    /// The header's opcode is not <see cref="Opcode.DirectMessage"/>, the payload has fewer than 5 fields, or a field is
    /// malformed (the same errors as <see cref="DirectMessage.Read"/>).
    /// </exception>
    public static DirectMessageRoute Read(ref MessagePackReader reader, in MessageHeader header)
    {
        if (header.Opcode != Opcode.DirectMessage)
        {
            ThrowWrongOpcode(header.Opcode);
        }

        int fieldCount = header.FieldCount;
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(DirectMessage));
        MessageId id = FieldReader.ReadMessageId(ref reader, "DirectMessage.id");
        string sender = FieldReader.ReadName(ref reader, "DirectMessage.sender");
        SequencePosition start = reader.Position;
        string recipient = FieldReader.ReadName(ref reader, "DirectMessage.recipient");

        // Read (not skipped) so that a message accepted here is one a recipient can decode.
        FieldReader.ReadTimestamp(ref reader, "DirectMessage.sentAt");
        FieldReader.ReadBinary(ref reader, "DirectMessage.body");
        ReadOnlySequence<byte> forwarded = reader.Sequence.Slice(start, reader.Position);
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(DirectMessage));
        return new DirectMessageRoute(id, sender, recipient, forwarded);
    }

    /// <summary>Writes the message as <c>[0x20, requestId, id, sender, recipient, sentAt, body]</c>, with <paramref name="sender"/> as its sender.</summary>
    /// <param name="writer">The writer (the caller flushes it).</param>
    /// <param name="requestId">The request id of the copy written.</param>
    /// <param name="sender">The sender to fill in.</param>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The route is the default value, not one <see cref="Read"/> returned.</exception>
    public void WriteStamped(ref MessagePackWriter writer, uint requestId, string sender)
    {
        ArgumentNullException.ThrowIfNull(sender);
        if (Recipient is null)
        {
            ThrowDefault();
        }

        writer.WriteArrayHeader(2 + V1FieldCount);
        writer.Write((uint)Opcode.DirectMessage);
        writer.Write(requestId);
        FieldWriter.WriteMessageId(ref writer, Id);
        writer.Write(sender);
        writer.WriteRaw(ForwardedFields);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongOpcode(Opcode actual) =>
        throw new ProtocolViolationException(
            $"Expected {nameof(DirectMessage)} (opcode 0x{(byte)Opcode.DirectMessage:x2}) but the message's opcode is 0x{(byte)actual:x2}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDefault() =>
        throw new InvalidOperationException("This DirectMessageRoute was not read from a message: use DirectMessageRoute.Read.");
}
