using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Asks the balancer for a user's key-derivation parameters, the step before <see cref="SignIn"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x10</c> (<see cref="Opcode.KdfParametersRequest"/>), 1 field. Wire form: <c>[0x10, requestId, userName]</c>.</para>
/// <para>Answered with <see cref="KdfParameters"/> or an <see cref="Error"/>.</para>
/// </remarks>
public readonly record struct KdfParametersRequest : IMessage<KdfParametersRequest>
{
    private const int V1FieldCount = 1;

    /// <summary>The user signing in.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.KdfParametersRequest;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static KdfParametersRequest Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(KdfParametersRequest));
        var message = new KdfParametersRequest
        {
            UserName = FieldReader.ReadName(ref reader, "KdfParametersRequest.userName"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(KdfParametersRequest));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
    }
}
