using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The answer to a <see cref="Ping"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x04</c> (<see cref="Opcode.Pong"/>), 1 field. Wire form: <c>[0x04, requestId, timestamp]</c>.</para>
/// </remarks>
public readonly record struct Pong : IMessage<Pong>
{
    private const int V1FieldCount = 1;

    /// <summary>The <see cref="Ping.Timestamp"/> being answered, unchanged.</summary>
    /// <remarks>Array element 2: int64.</remarks>
    public long Timestamp { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Pong;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static Pong Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Pong));
        var message = new Pong
        {
            Timestamp = FieldReader.ReadInt64(ref reader, "Pong.timestamp"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Pong));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Timestamp);
    }
}
