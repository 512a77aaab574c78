using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Asks for a user's public keys; answered with <see cref="PublicKeys"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x40</c> (<see cref="Opcode.PublicKeysRequest"/>), 1 field. Wire form: <c>[0x40, requestId, userName]</c>.</para>
/// </remarks>
public readonly record struct PublicKeysRequest : IMessage<PublicKeysRequest>
{
    private const int V1FieldCount = 1;

    /// <summary>The user.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.PublicKeysRequest;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static PublicKeysRequest Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(PublicKeysRequest));
        var message = new PublicKeysRequest
        {
            UserName = FieldReader.ReadName(ref reader, "PublicKeysRequest.userName"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(PublicKeysRequest));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
    }
}
