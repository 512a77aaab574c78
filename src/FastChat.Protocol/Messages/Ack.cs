using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Acknowledges a message: from a recipient to its server (received), and from the server to the sender (taken responsibility).</summary>
/// <remarks>
/// <para>Opcode <c>0x22</c> (<see cref="Opcode.Ack"/>), 1 field. Wire form: <c>[0x22, requestId, id]</c>.</para>
/// </remarks>
public readonly record struct Ack : IMessage<Ack>
{
    private const int V1FieldCount = 1;

    /// <summary>The acknowledged message's id.</summary>
    /// <remarks>Array element 2: bin of exactly 16 bytes.</remarks>
    public MessageId Id { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Ack;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static Ack Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Ack));
        var message = new Ack
        {
            Id = FieldReader.ReadMessageId(ref reader, "Ack.id"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Ack));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        FieldWriter.WriteMessageId(ref writer, Id);
    }
}
