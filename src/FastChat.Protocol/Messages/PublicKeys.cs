using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A user's public keys.</summary>
/// <remarks>
/// <para>Opcode <c>0x41</c> (<see cref="Opcode.PublicKeys"/>), 3 fields. Wire form: <c>[0x41, requestId, userName, agreementPublicKey, signingPublicKey]</c>.</para>
/// </remarks>
public readonly record struct PublicKeys : IMessage<PublicKeys>
{
    private const int V1FieldCount = 3;

    /// <summary>The user.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <summary>The user's ECDH P-256 public key.</summary>
    /// <remarks>Array element 3: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> AgreementPublicKey { get; init; }

    /// <summary>The user's ECDSA P-256 public key.</summary>
    /// <remarks>Array element 4: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> SigningPublicKey { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.PublicKeys;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 3 fields, or a field is malformed; the message names it.</exception>
    public static PublicKeys Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(PublicKeys));
        var message = new PublicKeys
        {
            UserName = FieldReader.ReadName(ref reader, "PublicKeys.userName"),
            AgreementPublicKey = FieldReader.ReadBinary(ref reader, "PublicKeys.agreementPublicKey"),
            SigningPublicKey = FieldReader.ReadBinary(ref reader, "PublicKeys.signingPublicKey"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(PublicKeys));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
        writer.Write(AgreementPublicKey);
        writer.Write(SigningPublicKey);
    }
}
