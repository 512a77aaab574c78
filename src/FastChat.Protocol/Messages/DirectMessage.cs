using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>An end-to-end encrypted message to one user.</summary>
/// <remarks>
/// <para>Opcode <c>0x20</c> (<see cref="Opcode.DirectMessage"/>), 5 fields. Wire form: <c>[0x20, requestId, id, sender, recipient, sentAt, body]</c>.</para>
/// <para>The server routes it by <see cref="Recipient"/> without looking at <see cref="Body"/>, and acknowledges it to the sender with <see cref="Ack"/> once it has taken responsibility for it.</para>
/// </remarks>
public readonly record struct DirectMessage : IMessage<DirectMessage>
{
    private const int V1FieldCount = 5;

    /// <summary>The message id, chosen by the sender; recipients drop duplicates by it.</summary>
    /// <remarks>Array element 2: bin of exactly 16 bytes.</remarks>
    public MessageId Id { get; init; }

    /// <summary>The sending user: empty from the client, filled in by the server from the authenticated session.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Sender { get => field ?? string.Empty; init; }

    /// <summary>The receiving user.</summary>
    /// <remarks>Array element 4: str (nil reads as empty).</remarks>
    public string Recipient { get => field ?? string.Empty; init; }

    /// <summary>When the sender sent it (UTC, the sender's clock).</summary>
    /// <remarks>Array element 5: timestamp (extension type -1).</remarks>
    public DateTime SentAt { get; init; }

    /// <summary>The ciphertext (opaque to the server).</summary>
    /// <remarks>Array element 6: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Body { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.DirectMessage;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 5 fields, or a field is malformed; the message names it.</exception>
    public static DirectMessage Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(DirectMessage));
        var message = new DirectMessage
        {
            Id = FieldReader.ReadMessageId(ref reader, "DirectMessage.id"),
            Sender = FieldReader.ReadName(ref reader, "DirectMessage.sender"),
            Recipient = FieldReader.ReadName(ref reader, "DirectMessage.recipient"),
            SentAt = FieldReader.ReadTimestamp(ref reader, "DirectMessage.sentAt"),
            Body = FieldReader.ReadBinary(ref reader, "DirectMessage.body"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(DirectMessage));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        FieldWriter.WriteMessageId(ref writer, Id);
        writer.Write(Sender);
        writer.Write(Recipient);
        writer.Write(SentAt);
        writer.Write(Body);
    }
}
