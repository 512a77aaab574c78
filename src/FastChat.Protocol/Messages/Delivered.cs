using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Tells a sender that a recipient acknowledged its message.</summary>
/// <remarks>
/// <para>Opcode <c>0x23</c> (<see cref="Opcode.Delivered"/>), 2 fields. Wire form: <c>[0x23, requestId, id, recipient]</c>.</para>
/// </remarks>
public readonly record struct Delivered : IMessage<Delivered>
{
    private const int V1FieldCount = 2;

    /// <summary>The delivered message's id.</summary>
    /// <remarks>Array element 2: bin of exactly 16 bytes.</remarks>
    public MessageId Id { get; init; }

    /// <summary>The user who acknowledged it.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Recipient { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Delivered;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 2 fields, or a field is malformed; the message names it.</exception>
    public static Delivered Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Delivered));
        var message = new Delivered
        {
            Id = FieldReader.ReadMessageId(ref reader, "Delivered.id"),
            Recipient = FieldReader.ReadName(ref reader, "Delivered.recipient"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Delivered));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        FieldWriter.WriteMessageId(ref writer, Id);
        writer.Write(Recipient);
    }
}
