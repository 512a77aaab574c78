using System.Security.Cryptography;
using FastChat.Client.Crypto;
using static FastChat.Client.Tests.Crypto.KnownAnswerVectors;

namespace FastChat.Client.Tests.Crypto;

/// <summary>
/// The formats byte for byte against vectors computed by an independent implementation of docs/security.md
/// (generate-vectors.py): clients on other platforms must produce and accept exactly these bytes. Signatures are
/// randomized, so they are verified over the documented transcript instead of compared.
/// </summary>
public sealed class KnownAnswerTests
{
    private const int SignatureSize = 64;

    [Fact]
    public void IdentityKeys_FixedKeys_PublicKeysAndFingerprintMatchVectors()
    {
        using IdentityKeys alice = Alice();

        Assert.Equal(AliceAgreementSpki, Convert.ToHexStringLower(alice.AgreementPublicKey.Span));
        Assert.Equal(AliceSigningSpki, Convert.ToHexStringLower(alice.SigningPublicKey.Span));
        Assert.Equal(AliceFingerprint, Convert.ToHexStringLower(alice.Fingerprint.Span));
        Assert.Equal(
            "b152 d7b0 ef4f fae4 91e7 b026 7d4e 231c 5d68 7086 7f41 93e9 422a 610c 426b ff84",
            alice.ToPublicIdentity("alice").FingerprintText);
    }

    [Fact]
    public void WrapPrivateKeys_FixedNonce_MatchesVectorExactly()
    {
        using IdentityKeys alice = Alice();
        var random = new FixedRandom(null, WrapNonce);

        byte[] wrapped = alice.WrapPrivateKeys(WrapKey, "alice", random);

        Assert.Equal(WrappedKeys, Convert.ToHexStringLower(wrapped));
        Assert.Equal(0, random.Remaining);
    }

    [Fact]
    public void UnwrapPrivateKeys_VectorBlob_RestoresFixedKeys()
    {
        using IdentityKeys keys = IdentityKeys.UnwrapPrivateKeys(Convert.FromHexString(WrappedKeys), WrapKey, "alice");

        Assert.Equal(AliceFingerprint, Convert.ToHexStringLower(keys.Fingerprint.Span));
    }

    [Fact]
    public void DirectEnvelope_FixedInputs_UnsignedPartMatchesVectorAndSignatureCoversTranscript()
    {
        using IdentityKeys alice = Alice();
        using IdentityKeys bob = Bob();
        var random = new FixedRandom(EphemeralPkcs8, DirectNonce);

        byte[] envelope = DirectEnvelope.Seal(alice, "alice", bob.ToPublicIdentity("bob"), MessageId, SentAt, DirectPlaintext, random);

        Assert.Equal(DirectEnvelopeUnsigned, Convert.ToHexStringLower(envelope.AsSpan(0, envelope.Length - SignatureSize)));
        Assert.True(VerifySignature(AliceSigningSpki, DirectTranscript, envelope.AsSpan(86, envelope.Length - 86 - SignatureSize), envelope.AsSpan(envelope.Length - SignatureSize)));
        Assert.Equal(DirectPlaintext, DirectEnvelope.Open(bob, "bob", alice.ToPublicIdentity("alice"), MessageId, SentAt, envelope));
    }

    [Fact]
    public void DirectEnvelope_Open_EnvelopeBuiltOutsideDotNet_ReturnsPlaintext()
    {
        using IdentityKeys alice = Alice();
        using IdentityKeys bob = Bob();
        byte[] unsigned = Convert.FromHexString(DirectEnvelopeUnsigned);
        byte[] envelope = [.. unsigned, .. Sign(AliceSigningPkcs8, DirectTranscript, unsigned.AsSpan(86))];

        byte[] plaintext = DirectEnvelope.Open(bob, "bob", alice.ToPublicIdentity("alice"), MessageId, SentAt, envelope);

        Assert.Equal(DirectPlaintext, plaintext);
    }

    /// <summary>
    /// Guards the Tampered reason: a sender that signs ciphertext which does not decrypt (a broken or malicious client)
    /// passes the signature check and must still be rejected, as Tampered rather than BadSignature.
    /// </summary>
    [Fact]
    public void DirectEnvelope_Open_SignedButCorruptCiphertext_ThrowsTampered()
    {
        using IdentityKeys alice = Alice();
        using IdentityKeys bob = Bob();
        byte[] unsigned = Convert.FromHexString(DirectEnvelopeUnsigned);
        unsigned[90] ^= 0x01;
        byte[] envelope = [.. unsigned, .. Sign(AliceSigningPkcs8, DirectTranscript, unsigned.AsSpan(86))];

        var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(bob, "bob", alice.ToPublicIdentity("alice"), MessageId, SentAt, envelope));

        Assert.Equal(EnvelopeFailure.Tampered, ex.Failure);
    }

    [Fact]
    public void GroupEnvelope_FixedInputs_UnsignedPartMatchesVectorAndSignatureCoversTranscript()
    {
        using IdentityKeys alice = Alice();
        var groupKey = new GroupKey(Epoch, GroupKeyBytes);
        var random = new FixedRandom(null, GroupNonce);

        byte[] envelope = GroupEnvelope.Seal(alice, "alice", Group, groupKey, MessageId, SentAt, "hello group"u8, random);

        Assert.Equal(GroupEnvelopeUnsigned, Convert.ToHexStringLower(envelope.AsSpan(0, envelope.Length - SignatureSize)));
        Assert.True(VerifySignature(AliceSigningSpki, GroupTranscript, envelope.AsSpan(13, envelope.Length - 13 - SignatureSize), envelope.AsSpan(envelope.Length - SignatureSize)));

        var ring = new GroupKeyRing(Group);
        ring.Add(groupKey);
        Assert.Equal("hello group"u8.ToArray(), GroupEnvelope.Open(ring, alice.ToPublicIdentity("alice"), Epoch, MessageId, SentAt, envelope));
    }

    [Fact]
    public void GroupKeyWrap_FixedInputs_UnsignedPartMatchesVectorAndSignatureCoversTranscript()
    {
        using IdentityKeys alice = Alice();
        using IdentityKeys bob = Bob();
        var random = new FixedRandom(EphemeralPkcs8, GroupKeyWrapNonce);

        byte[] envelope = GroupKeyWrap.Seal(alice, "alice", bob.ToPublicIdentity("bob"), Group, new GroupKey(Epoch, GroupKeyBytes), random);

        Assert.Equal(GroupKeyWrapUnsigned, Convert.ToHexStringLower(envelope.AsSpan(0, envelope.Length - SignatureSize)));
        Assert.True(VerifySignature(AliceSigningSpki, GroupKeyWrapTranscript, envelope.AsSpan(86, envelope.Length - 86 - SignatureSize), envelope.AsSpan(envelope.Length - SignatureSize)));

        GroupKey opened = GroupKeyWrap.Open(bob, "bob", alice.ToPublicIdentity("alice"), Group, Epoch, envelope);
        Assert.Equal(Epoch, opened.Epoch);
        Assert.Equal(GroupKeyBytes, opened.Key.ToArray());
    }

    [Fact]
    public void FileManifest_FixedKey_EncodingAndChunkMatchVectors()
    {
        FileManifest manifest = FileManifest.Create("notes.txt", SmallFile, new FixedRandom(null, FileKey));

        Assert.Equal(SmallManifest, Convert.ToHexStringLower(manifest.ToBytes()));
        ReadOnlyMemory<byte>[] chunks = FileEncryptor.EncryptFile(FileId, manifest, SmallFile);
        Assert.Single(chunks);
        Assert.Equal(SmallChunk0, Convert.ToHexStringLower(chunks[0].Span));
    }

    [Fact]
    public void FileEncryptor_TwoChunkFile_ChunksMatchVectors()
    {
        byte[] content = LargeFile();
        FileManifest manifest = FileManifest.Create("pattern.bin", content, new FixedRandom(null, FileKey));

        ReadOnlyMemory<byte>[] chunks = FileEncryptor.EncryptFile(FileId, manifest, content);

        Assert.Equal(LargeManifestSha256, Convert.ToHexStringLower(SHA256.HashData(manifest.ToBytes())));
        Assert.Equal(2, chunks.Length);
        Assert.Equal(LargeChunk0Sha256, Convert.ToHexStringLower(SHA256.HashData(chunks[0].Span)));
        Assert.Equal(LargeChunk1, Convert.ToHexStringLower(chunks[1].Span));
    }

    [Fact]
    public void FileDecryptor_ChunksBuiltOutsideDotNet_ReturnsContent()
    {
        var manifest = FileManifest.Parse(Convert.FromHexString(SmallManifest));

        byte[] content = FileDecryptor.DecryptFile(FileId, manifest, [Convert.FromHexString(SmallChunk0)]);

        Assert.Equal(SmallFile, content);
        Assert.Equal("notes.txt", manifest.Name);
    }

    [Fact]
    public void FileOffer_SealForUser_FixedInputs_UnsignedPartMatchesVector()
    {
        using IdentityKeys alice = Alice();
        using IdentityKeys bob = Bob();
        var manifest = FileManifest.Parse(Convert.FromHexString(SmallManifest));

        byte[] envelope = manifest.SealForUser(alice, "alice", bob.ToPublicIdentity("bob"), FileId, SentAt, new FixedRandom(EphemeralPkcs8, FileOfferNonce));

        Assert.Equal(FileOfferUnsigned, Convert.ToHexStringLower(envelope.AsSpan(0, envelope.Length - SignatureSize)));
        Assert.True(VerifySignature(AliceSigningSpki, FileOfferTranscript, envelope.AsSpan(86, envelope.Length - 86 - SignatureSize), envelope.AsSpan(envelope.Length - SignatureSize)));
        FileManifest opened = FileManifest.OpenFromUser(bob, "bob", alice.ToPublicIdentity("alice"), FileId, SentAt, envelope);
        Assert.Equal(SmallManifest, Convert.ToHexStringLower(opened.ToBytes()));
    }

    [Fact]
    public void FileOffer_SealForGroup_FixedInputs_UnsignedPartMatchesVector()
    {
        using IdentityKeys alice = Alice();
        var manifest = FileManifest.Parse(Convert.FromHexString(SmallManifest));
        var groupKey = new GroupKey(Epoch, GroupKeyBytes);

        byte[] envelope = manifest.SealForGroup(alice, "alice", Group, groupKey, FileId, SentAt, new FixedRandom(null, GroupFileOfferNonce));

        Assert.Equal(GroupFileOfferUnsigned, Convert.ToHexStringLower(envelope.AsSpan(0, envelope.Length - SignatureSize)));
        Assert.True(VerifySignature(AliceSigningSpki, GroupFileOfferTranscript, envelope.AsSpan(13, envelope.Length - 13 - SignatureSize), envelope.AsSpan(envelope.Length - SignatureSize)));
        var ring = new GroupKeyRing(Group);
        ring.Add(groupKey);
        FileManifest opened = FileManifest.OpenFromGroup(ring, alice.ToPublicIdentity("alice"), Epoch, FileId, SentAt, envelope);
        Assert.Equal(SmallManifest, Convert.ToHexStringLower(opened.ToBytes()));
    }
}
