using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Creates an account. The balancer answers <see cref="Assigned"/> or an <see cref="Error"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x12</c> (<see cref="Opcode.SignUp"/>), 8 fields. Wire form: <c>[0x12, requestId, userName, kdfAlgorithm, kdfSalt, kdfIterations, authKey, agreementPublicKey, signingPublicKey, wrappedPrivateKeys]</c>.</para>
/// <para>The password never leaves the client: it sends the key-derivation parameters it chose, the derived authentication key, its public keys and its private keys wrapped under a key only the password can derive.</para>
/// </remarks>
public readonly record struct SignUp : IMessage<SignUp>
{
    private const int V1FieldCount = 8;

    /// <summary>The requested user name.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <summary>The key-derivation function; <c>pbkdf2-sha256</c> in version 1.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string KdfAlgorithm { get => field ?? string.Empty; init; }

    /// <summary>The account salt the client chose.</summary>
    /// <remarks>Array element 4: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> KdfSalt { get; init; }

    /// <summary>The iteration count the client chose.</summary>
    /// <remarks>Array element 5: int32.</remarks>
    public int KdfIterations { get; init; }

    /// <summary>The authentication key derived from the password; the store keeps only a salted hash of it.</summary>
    /// <remarks>Array element 6: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> AuthKey { get; init; }

    /// <summary>The user's ECDH P-256 public key (SubjectPublicKeyInfo).</summary>
    /// <remarks>Array element 7: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> AgreementPublicKey { get; init; }

    /// <summary>The user's ECDSA P-256 public key (SubjectPublicKeyInfo).</summary>
    /// <remarks>Array element 8: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> SigningPublicKey { get; init; }

    /// <summary>The user's private keys, encrypted by the client (opaque to the server).</summary>
    /// <remarks>Array element 9: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> WrappedPrivateKeys { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.SignUp;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 8 fields, or a field is malformed; the message names it.</exception>
    public static SignUp Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(SignUp));
        var message = new SignUp
        {
            UserName = FieldReader.ReadName(ref reader, "SignUp.userName"),
            KdfAlgorithm = FieldReader.ReadName(ref reader, "SignUp.kdfAlgorithm"),
            KdfSalt = FieldReader.ReadBinary(ref reader, "SignUp.kdfSalt"),
            KdfIterations = FieldReader.ReadInt32(ref reader, "SignUp.kdfIterations"),
            AuthKey = FieldReader.ReadBinary(ref reader, "SignUp.authKey"),
            AgreementPublicKey = FieldReader.ReadBinary(ref reader, "SignUp.agreementPublicKey"),
            SigningPublicKey = FieldReader.ReadBinary(ref reader, "SignUp.signingPublicKey"),
            WrappedPrivateKeys = FieldReader.ReadBinary(ref reader, "SignUp.wrappedPrivateKeys"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(SignUp));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
        writer.Write(KdfAlgorithm);
        writer.Write(KdfSalt);
        writer.Write(KdfIterations);
        writer.Write(AuthKey);
        writer.Write(AgreementPublicKey);
        writer.Write(SigningPublicKey);
        writer.Write(WrappedPrivateKeys);
    }
}
