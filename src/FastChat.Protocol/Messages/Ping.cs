using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A liveness probe; the receiver answers <see cref="Pong"/> with the same timestamp and request id.</summary>
/// <remarks>
/// <para>Opcode <c>0x03</c> (<see cref="Opcode.Ping"/>), 1 field. Wire form: <c>[0x03, requestId, timestamp]</c>.</para>
/// </remarks>
public readonly record struct Ping : IMessage<Ping>
{
    private const int V1FieldCount = 1;

    /// <summary>An opaque value chosen by the sender (typically a monotonic clock reading) that the <see cref="Pong"/> echoes, so the sender can measure the round trip.</summary>
    /// <remarks>Array element 2: int64.</remarks>
    public long Timestamp { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Ping;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static Ping Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Ping));
        var message = new Ping
        {
            Timestamp = FieldReader.ReadInt64(ref reader, "Ping.timestamp"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Ping));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Timestamp);
    }
}
