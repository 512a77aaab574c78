using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Ends the session; answered with <see cref="Ok"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x17</c> (<see cref="Opcode.SignOut"/>), 0 fields. Wire form: <c>[0x17, requestId]</c>.</para>
/// </remarks>
public readonly record struct SignOut : IMessage<SignOut>
{
    private const int V1FieldCount = 0;

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.SignOut;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException"><paramref name="fieldCount"/> is negative, or a trailing field from a later version is malformed.</exception>
    public static SignOut Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(SignOut));
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(SignOut));
        return default;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
    }
}
