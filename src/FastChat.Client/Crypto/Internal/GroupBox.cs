using System.Security.Cryptography;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto.Internal;

/// <summary>
/// The signed box shared by group messages and file manifests sent to a group: AES-256-GCM under a per-message key
/// derived from the group key of one epoch, then an ECDSA P-256 signature by the sender, so that members (who all hold
/// the group key) cannot forge each other's messages.
/// </summary>
/// <remarks>
/// <code>
/// envelope   = version(1) || nonce(12) || ciphertext(n) || tag(16) || signature(64)
/// transcript = version || str(label) || str(group) || epoch(4) || str(sender) || id(16) || sentAt ticks(8) || nonce
/// key        = HKDF-SHA256(ikm = group key, salt = id, info = str(label) || str(group) || epoch)
/// AES-256-GCM(key, nonce, plaintext, associated data = transcript)
/// signature  = ECDSA-P256-SHA256(sender signing key, transcript || ciphertext || tag), IEEE P1363 (r || s)
/// </code>
/// A key per message (salted with the id) keeps the random 96-bit nonces far from any reuse bound however many
/// messages an epoch carries. Open checks, in this order: size and version, signature, key for the epoch, decryption.
/// </remarks>
internal static class GroupBox
{
    public const byte Version = 1;
    public const int NonceOffset = 1;
    public const int NonceSize = 12;
    public const int HeaderSize = NonceOffset + NonceSize;
    public const int TagSize = 16;
    public const int Overhead = HeaderSize + TagSize + EcKeys.SignatureSize;

    private const int KeySize = 32;

    public static void Seal(
        ReadOnlySpan<byte> label,
        IdentityKeys sender,
        string senderName,
        string group,
        GroupKey groupKey,
        MessageId id,
        DateTime sentAt,
        ReadOnlySpan<byte> plaintext,
        Span<byte> envelope,
        CryptoRandom random)
    {
        int infoSize = InfoSize(label, group);
        int transcriptSize = 1 + infoSize + ByteWriter.StringSize(senderName, nameof(senderName)) + MessageContext.Size + NonceSize;
        int ciphertextEnd = HeaderSize + plaintext.Length + TagSize;

        envelope[0] = Version;
        Span<byte> nonce = envelope.Slice(NonceOffset, NonceSize);
        random.Fill(nonce);

        using var transcript = new ScratchBuffer(transcriptSize, stackalloc byte[384]);
        WriteTranscript(transcript.Span, label, group, groupKey.Epoch, senderName, id, sentAt, nonce);

        Span<byte> key = stackalloc byte[KeySize];
        try
        {
            DeriveKey(groupKey, id, transcript.Span.Slice(1, infoSize), key);
            using (var aes = new AesGcm(key, TagSize))
            {
                aes.Encrypt(nonce, plaintext, envelope.Slice(HeaderSize, plaintext.Length), envelope.Slice(HeaderSize + plaintext.Length, TagSize), transcript.Span);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        HashSigned(transcript.Span, envelope[HeaderSize..ciphertextEnd], hash);
        sender.SignHash(hash, envelope.Slice(ciphertextEnd, EcKeys.SignatureSize));
    }

    /// <summary>Opens an envelope into <paramref name="plaintext"/>, which holds exactly <c>envelope.Length - Overhead</c> bytes.</summary>
    public static void Open(
        ReadOnlySpan<byte> label,
        string what,
        GroupKeyRing keyRing,
        PublicIdentity sender,
        int epoch,
        MessageId id,
        DateTime sentAt,
        ReadOnlySpan<byte> envelope,
        Span<byte> plaintext)
    {
        CheckFormat(what, envelope);
        string group = keyRing.Group;
        int infoSize = InfoSize(label, group);
        int transcriptSize = 1 + infoSize + ByteWriter.StringSize(sender.UserName, "sender name") + MessageContext.Size + NonceSize;
        int ciphertextEnd = envelope.Length - EcKeys.SignatureSize;

        using var transcript = new ScratchBuffer(transcriptSize, stackalloc byte[384]);
        ReadOnlySpan<byte> nonce = envelope.Slice(NonceOffset, NonceSize);
        WriteTranscript(transcript.Span, label, group, epoch, sender.UserName, id, sentAt, nonce);

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        HashSigned(transcript.Span, envelope[HeaderSize..ciphertextEnd], hash);
        if (!sender.VerifyHash(hash, envelope[ciphertextEnd..]))
        {
            throw new EnvelopeException(
                EnvelopeFailure.BadSignature,
                $"The {what} from '{sender.UserName}' in group '{group}' has a bad signature: it was modified in transit, it was not sealed with the signing key of '{sender.UserName}' (fingerprint {sender.FingerprintText}), or its header (sender, group, epoch, id, time) differs from what was signed.");
        }

        GroupKey groupKey = keyRing.GetKey(epoch);
        Span<byte> key = stackalloc byte[KeySize];
        try
        {
            DeriveKey(groupKey, id, transcript.Span.Slice(1, infoSize), key);
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(nonce, envelope[HeaderSize..(ciphertextEnd - TagSize)], envelope.Slice(ciphertextEnd - TagSize, TagSize), plaintext, transcript.Span);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new EnvelopeException(
                EnvelopeFailure.Tampered,
                $"The {what} from '{sender.UserName}' in group '{group}' is validly signed but does not decrypt with this member's key for epoch {epoch}: the keys differ (a stale or conflicting group key), or the sender sealed corrupt ciphertext.",
                ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Checks the size and version; returns the plaintext length.</summary>
    public static int CheckFormat(string what, ReadOnlySpan<byte> envelope)
    {
        if (envelope.Length < Overhead)
        {
            CryptoThrowHelper.ThrowMalformed($"The {what} envelope is {envelope.Length} bytes; a group envelope has at least {Overhead}.");
        }

        if (envelope[0] != Version)
        {
            CryptoThrowHelper.ThrowUnsupportedVersion($"the {what} envelope", envelope[0]);
        }

        return envelope.Length - Overhead;
    }

    private static int InfoSize(ReadOnlySpan<byte> label, string group) =>
        ByteWriter.LabelSize(label) + ByteWriter.StringSize(group, nameof(group)) + sizeof(int);

    // transcript = version || str(label) || str(group) || epoch || str(sender) || id || sentAt || nonce;
    // its bytes 1 .. 1 + InfoSize are the HKDF info.
    private static void WriteTranscript(Span<byte> destination, ReadOnlySpan<byte> label, string group, int epoch, string senderName, MessageId id, DateTime sentAt, ReadOnlySpan<byte> nonce)
    {
        var writer = new ByteWriter(destination);
        writer.WriteByte(Version);
        writer.WriteLabel(label);
        writer.WriteString(group);
        writer.WriteInt32(epoch);
        writer.WriteString(senderName);
        writer.WriteMessageId(id);
        writer.WriteInt64(ByteWriter.ToUtcTicks(sentAt));
        writer.WriteBytes(nonce);
    }

    private static void DeriveKey(GroupKey groupKey, MessageId id, ReadOnlySpan<byte> info, Span<byte> key)
    {
        Span<byte> salt = stackalloc byte[MessageId.Size];
        id.TryWriteBytes(salt);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, groupKey.KeyBytes, key, salt, info);
    }

    private static void HashSigned(ReadOnlySpan<byte> transcript, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> hash)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(transcript);
        sha.AppendData(ciphertextAndTag);
        sha.GetHashAndReset(hash);
    }
}
