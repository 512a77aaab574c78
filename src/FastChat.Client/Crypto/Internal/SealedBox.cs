using System.Security.Cryptography;

namespace FastChat.Client.Crypto.Internal;

/// <summary>
/// The sealed, signed box shared by direct messages, group keys wrapped for a member and file manifests sent to a
/// user: ephemeral-static ECDH P-256, HKDF-SHA256, AES-256-GCM, then an ECDSA P-256 signature by the sender.
/// </summary>
/// <remarks>
/// <code>
/// envelope   = version(1) || keyId(8) || ephemeral(65) || nonce(12) || ciphertext(n) || tag(16) || signature(64)
/// transcript = version || str(label) || str(sender) || str(recipient) || context || keyId || ephemeral || nonce
/// key        = HKDF-SHA256(ikm = ECDH(ephemeral, recipient agreement key), salt, info = str(label) || str(sender) || str(recipient))
/// AES-256-GCM(key, nonce, plaintext, associated data = transcript)
/// signature  = ECDSA-P256-SHA256(sender signing key, transcript || ciphertext || tag), IEEE P1363 (r || s)
/// </code>
/// The caller supplies the label (domain separation), the context (for example id and time) and the HKDF salt. Open
/// checks, in this order: size and version, signature, key id, decryption. The signature comes first so that no
/// decision is taken on unauthenticated bytes.
/// </remarks>
internal static class SealedBox
{
    public const byte Version = 1;
    public const int KeyIdOffset = 1;
    public const int EphemeralOffset = KeyIdOffset + PublicIdentity.KeyIdSize;
    public const int NonceOffset = EphemeralOffset + EcKeys.PointSize;
    public const int HeaderSize = NonceOffset + NonceSize;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int Overhead = HeaderSize + TagSize + EcKeys.SignatureSize;

    private const int KeySize = 32;

    public static void Seal(
        ReadOnlySpan<byte> label,
        IdentityKeys sender,
        string senderName,
        PublicIdentity recipient,
        ReadOnlySpan<byte> context,
        ReadOnlySpan<byte> salt,
        ReadOnlySpan<byte> plaintext,
        Span<byte> envelope,
        CryptoRandom random)
    {
        int infoSize = ByteWriter.LabelSize(label) + ByteWriter.StringSize(senderName, nameof(senderName)) + ByteWriter.StringSize(recipient.UserName, "recipient name");
        int ciphertextEnd = HeaderSize + plaintext.Length + TagSize;

        envelope[0] = Version;
        recipient.KeyId.CopyTo(envelope[KeyIdOffset..]);
        Span<byte> nonce = envelope.Slice(NonceOffset, NonceSize);

        byte[]? shared = null;
        Span<byte> key = stackalloc byte[KeySize];
        using var transcript = new ScratchBuffer(1 + infoSize + context.Length + HeaderSize - 1, stackalloc byte[384]);
        try
        {
            using (ECDiffieHellman ephemeral = random.CreateEphemeralKey())
            {
                EcKeys.WritePoint(ephemeral, envelope.Slice(EphemeralOffset, EcKeys.PointSize));
                shared = recipient.DeriveSharedSecret(ephemeral);
            }

            random.Fill(nonce);
            WriteTranscript(transcript.Span, label, senderName, recipient.UserName, context, envelope[..HeaderSize]);
            HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, key, salt, transcript.Span.Slice(1, infoSize));

            using (var aes = new AesGcm(key, TagSize))
            {
                aes.Encrypt(
                    nonce,
                    plaintext,
                    envelope.Slice(HeaderSize, plaintext.Length),
                    envelope.Slice(HeaderSize + plaintext.Length, TagSize),
                    transcript.Span);
            }

            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            HashSigned(transcript.Span, envelope[HeaderSize..ciphertextEnd], hash);
            sender.SignHash(hash, envelope.Slice(ciphertextEnd, EcKeys.SignatureSize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            if (shared is not null)
            {
                CryptographicOperations.ZeroMemory(shared);
            }
        }
    }

    /// <summary>Opens an envelope into <paramref name="plaintext"/>, which holds exactly <c>envelope.Length - Overhead</c> bytes.</summary>
    public static void Open(
        ReadOnlySpan<byte> label,
        string what,
        IdentityKeys recipient,
        string recipientName,
        PublicIdentity sender,
        ReadOnlySpan<byte> context,
        ReadOnlySpan<byte> salt,
        ReadOnlySpan<byte> envelope,
        Span<byte> plaintext)
    {
        CheckFormat(what, envelope);
        int infoSize = ByteWriter.LabelSize(label) + ByteWriter.StringSize(sender.UserName, "sender name") + ByteWriter.StringSize(recipientName, nameof(recipientName));
        int ciphertextEnd = envelope.Length - EcKeys.SignatureSize;

        using var transcript = new ScratchBuffer(1 + infoSize + context.Length + HeaderSize - 1, stackalloc byte[384]);
        WriteTranscript(transcript.Span, label, sender.UserName, recipientName, context, envelope[..HeaderSize]);

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        HashSigned(transcript.Span, envelope[HeaderSize..ciphertextEnd], hash);
        if (!sender.VerifyHash(hash, envelope[ciphertextEnd..]))
        {
            throw new EnvelopeException(
                EnvelopeFailure.BadSignature,
                $"The {what} from '{sender.UserName}' to '{recipientName}' has a bad signature: it was modified in transit, it was not sealed with the signing key of '{sender.UserName}' (fingerprint {sender.FingerprintText}), or its header (sender, recipient, id, time) differs from what was signed.");
        }

        if (!envelope.Slice(KeyIdOffset, PublicIdentity.KeyIdSize).SequenceEqual(recipient.KeyId))
        {
            throw new EnvelopeException(
                EnvelopeFailure.WrongRecipient,
                $"The {what} from '{sender.UserName}' is sealed for key {Convert.ToHexStringLower(envelope.Slice(KeyIdOffset, PublicIdentity.KeyIdSize))}, not for this key of '{recipientName}' ({Convert.ToHexStringLower(recipient.KeyId)}): it is addressed to someone else, or the sender used an old or substituted public key.");
        }

        byte[]? shared = null;
        Span<byte> key = stackalloc byte[KeySize];
        try
        {
            try
            {
                using ECDiffieHellman ephemeral = EcKeys.ImportPoint(envelope.Slice(EphemeralOffset, EcKeys.PointSize));
                shared = recipient.DeriveSharedSecret(ephemeral);
            }
            catch (CryptographicException ex)
            {
                throw new EnvelopeException(EnvelopeFailure.Malformed, $"The {what} from '{sender.UserName}' carries an invalid ephemeral public key.", ex);
            }

            HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, key, salt, transcript.Span.Slice(1, infoSize));
            try
            {
                using var aes = new AesGcm(key, TagSize);
                aes.Decrypt(
                    envelope.Slice(NonceOffset, NonceSize),
                    envelope[HeaderSize..(ciphertextEnd - TagSize)],
                    envelope.Slice(ciphertextEnd - TagSize, TagSize),
                    plaintext,
                    transcript.Span);
            }
            catch (AuthenticationTagMismatchException ex)
            {
                throw new EnvelopeException(
                    EnvelopeFailure.Tampered,
                    $"The {what} from '{sender.UserName}' is validly signed but does not decrypt: the sender sealed corrupt ciphertext.",
                    ex);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            if (shared is not null)
            {
                CryptographicOperations.ZeroMemory(shared);
            }
        }
    }

    /// <summary>Checks the size and version; returns the plaintext length.</summary>
    public static int CheckFormat(string what, ReadOnlySpan<byte> envelope)
    {
        if (envelope.Length < Overhead)
        {
            CryptoThrowHelper.ThrowMalformed($"The {what} envelope is {envelope.Length} bytes; a sealed envelope has at least {Overhead}.");
        }

        if (envelope[0] != Version)
        {
            CryptoThrowHelper.ThrowUnsupportedVersion($"the {what} envelope", envelope[0]);
        }

        return envelope.Length - Overhead;
    }

    // transcript = version || str(label) || str(sender) || str(recipient) || context || keyId || ephemeral || nonce
    // (header = version || keyId || ephemeral || nonce, so its first byte leads and the rest trails).
    private static void WriteTranscript(Span<byte> destination, ReadOnlySpan<byte> label, string senderName, string recipientName, ReadOnlySpan<byte> context, ReadOnlySpan<byte> header)
    {
        var writer = new ByteWriter(destination);
        writer.WriteByte(header[0]);
        writer.WriteLabel(label);
        writer.WriteString(senderName);
        writer.WriteString(recipientName);
        writer.WriteBytes(context);
        writer.WriteBytes(header[1..]);
    }

    private static void HashSigned(ReadOnlySpan<byte> transcript, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> hash)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(transcript);
        sha.AppendData(ciphertextAndTag);
        sha.GetHashAndReset(hash);
    }
}
