using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The server asks the client to leave and sign in again through the balancer (for example before it shuts down).</summary>
/// <remarks>
/// <para>Opcode <c>0x06</c> (<see cref="Opcode.Reconnect"/>), 2 fields. Wire form: <c>[0x06, requestId, reason, retryAfterMilliseconds]</c>.</para>
/// </remarks>
public readonly record struct Reconnect : IMessage<Reconnect>
{
    private const int V1FieldCount = 2;

    /// <summary>Why, for logs.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Reason { get => field ?? string.Empty; init; }

    /// <summary>How long the client should wait before reconnecting, in milliseconds; 0 for at once.</summary>
    /// <remarks>Array element 3: int32.</remarks>
    public int RetryAfterMilliseconds { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Reconnect;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 2 fields, or a field is malformed; the message names it.</exception>
    public static Reconnect Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Reconnect));
        var message = new Reconnect
        {
            Reason = FieldReader.ReadText(ref reader, "Reconnect.reason"),
            RetryAfterMilliseconds = FieldReader.ReadInt32(ref reader, "Reconnect.retryAfterMilliseconds"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Reconnect));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Reason);
        writer.Write(RetryAfterMilliseconds);
    }
}
