using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Signs in to the balancer. It answers <see cref="Assigned"/> or an <see cref="Error"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x13</c> (<see cref="Opcode.SignIn"/>), 2 fields. Wire form: <c>[0x13, requestId, userName, authKey]</c>.</para>
/// </remarks>
public readonly record struct SignIn : IMessage<SignIn>
{
    private const int V1FieldCount = 2;

    /// <summary>The user signing in.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <summary>The authentication key derived from the password with the user's <see cref="KdfParameters"/>.</summary>
    /// <remarks>Array element 3: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> AuthKey { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.SignIn;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 2 fields, or a field is malformed; the message names it.</exception>
    public static SignIn Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(SignIn));
        var message = new SignIn
        {
            UserName = FieldReader.ReadName(ref reader, "SignIn.userName"),
            AuthKey = FieldReader.ReadBinary(ref reader, "SignIn.authKey"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(SignIn));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
        writer.Write(AuthKey);
    }
}
