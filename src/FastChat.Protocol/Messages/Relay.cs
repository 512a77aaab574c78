using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Carries a frame between chat servers for a user connected to the receiving server.</summary>
/// <remarks>
/// <para>Opcode <c>0x72</c> (<see cref="Opcode.Relay"/>), 3 fields. Wire form: <c>[0x72, requestId, fromServerId, recipient, frame]</c>.</para>
/// </remarks>
public readonly record struct Relay : IMessage<Relay>
{
    private const int V1FieldCount = 3;

    /// <summary>The relaying server.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string FromServerId { get => field ?? string.Empty; init; }

    /// <summary>The user the inner message is for.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Recipient { get => field ?? string.Empty; init; }

    /// <summary>A complete inner message payload (as written by <see cref="MessageSerializer.WritePayload{T}"/>, no length prefix), passed on unchanged.</summary>
    /// <remarks>Array element 4: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Frame { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Relay;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 3 fields, or a field is malformed; the message names it.</exception>
    public static Relay Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Relay));
        var message = new Relay
        {
            FromServerId = FieldReader.ReadName(ref reader, "Relay.fromServerId"),
            Recipient = FieldReader.ReadName(ref reader, "Relay.recipient"),
            Frame = FieldReader.ReadBinary(ref reader, "Relay.frame"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Relay));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(FromServerId);
        writer.Write(Recipient);
        writer.Write(Frame);
    }
}
