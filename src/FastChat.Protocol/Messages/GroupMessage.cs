using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>An end-to-end encrypted message to a group; the server fans the same bytes out to every member.</summary>
/// <remarks>
/// <para>Opcode <c>0x21</c> (<see cref="Opcode.GroupMessage"/>), 6 fields. Wire form: <c>[0x21, requestId, id, sender, group, keyEpoch, sentAt, body]</c>.</para>
/// </remarks>
public readonly record struct GroupMessage : IMessage<GroupMessage>
{
    private const int V1FieldCount = 6;

    /// <summary>The message id, chosen by the sender.</summary>
    /// <remarks>Array element 2: bin of exactly 16 bytes.</remarks>
    public MessageId Id { get; init; }

    /// <summary>The sending user: empty from the client, filled in by the server.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Sender { get => field ?? string.Empty; init; }

    /// <summary>The group.</summary>
    /// <remarks>Array element 4: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <summary>The epoch of the group key the body is encrypted with.</summary>
    /// <remarks>Array element 5: int32.</remarks>
    public int KeyEpoch { get; init; }

    /// <summary>When the sender sent it (UTC, the sender's clock).</summary>
    /// <remarks>Array element 6: timestamp (extension type -1).</remarks>
    public DateTime SentAt { get; init; }

    /// <summary>The ciphertext (opaque to the server).</summary>
    /// <remarks>Array element 7: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Body { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupMessage;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 6 fields, or a field is malformed; the message names it.</exception>
    public static GroupMessage Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupMessage));
        var message = new GroupMessage
        {
            Id = FieldReader.ReadMessageId(ref reader, "GroupMessage.id"),
            Sender = FieldReader.ReadName(ref reader, "GroupMessage.sender"),
            Group = FieldReader.ReadName(ref reader, "GroupMessage.group"),
            KeyEpoch = FieldReader.ReadInt32(ref reader, "GroupMessage.keyEpoch"),
            SentAt = FieldReader.ReadTimestamp(ref reader, "GroupMessage.sentAt"),
            Body = FieldReader.ReadBinary(ref reader, "GroupMessage.body"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupMessage));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        FieldWriter.WriteMessageId(ref writer, Id);
        writer.Write(Sender);
        writer.Write(Group);
        writer.Write(KeyEpoch);
        writer.Write(SentAt);
        writer.Write(Body);
    }
}
