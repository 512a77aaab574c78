using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Generic success reply to a request that has no typed response; its request id is the request's.</summary>
/// <remarks>
/// <para>Opcode <c>0x05</c> (<see cref="Opcode.Ok"/>), 0 fields. Wire form: <c>[0x05, requestId]</c>.</para>
/// </remarks>
public readonly record struct Ok : IMessage<Ok>
{
    private const int V1FieldCount = 0;

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Ok;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException"><paramref name="fieldCount"/> is negative, or a trailing field from a later version is malformed.</exception>
    public static Ok Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Ok));
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Ok));
        return default;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
    }
}
