using System.Security.Cryptography;
using System.Text.RegularExpressions;
using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Crypto;

public sealed class IdentityKeysTests
{
    private static readonly byte[] WrapKey = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void Generate_Twice_ProducesDifferentKeys()
    {
        using IdentityKeys first = IdentityKeys.Generate();
        using IdentityKeys second = IdentityKeys.Generate();

        Assert.False(first.Fingerprint.Span.SequenceEqual(second.Fingerprint.Span));
        Assert.False(first.AgreementPublicKey.Span.SequenceEqual(first.SigningPublicKey.Span));
    }

    [Fact]
    public void PublicKeys_Generated_AreP256SubjectPublicKeyInfo()
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        using var agreement = ECDiffieHellman.Create();
        using var signing = ECDsa.Create();

        agreement.ImportSubjectPublicKeyInfo(keys.AgreementPublicKey.Span, out int agreementRead);
        signing.ImportSubjectPublicKeyInfo(keys.SigningPublicKey.Span, out int signingRead);

        Assert.Equal(keys.AgreementPublicKey.Length, agreementRead);
        Assert.Equal(keys.SigningPublicKey.Length, signingRead);
        Assert.Equal(256, agreement.KeySize);
        Assert.Equal("1.2.840.10045.3.1.7", signing.ExportParameters(false).Curve.Oid.Value);
    }

    [Fact]
    public void Fingerprint_Generated_IsSha256OfBothKeysInHexGroups()
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        PublicIdentity identity = keys.ToPublicIdentity("alice");

        byte[] expected = SHA256.HashData([.. keys.AgreementPublicKey.Span, .. keys.SigningPublicKey.Span]);

        Assert.Equal(expected, identity.Fingerprint.ToArray());
        Assert.Matches(new Regex("^[0-9a-f]{4}( [0-9a-f]{4}){15}$"), identity.FingerprintText);
        Assert.Equal(Convert.ToHexStringLower(expected), identity.FingerprintText.Replace(" ", string.Empty, StringComparison.Ordinal));
    }

    [Fact]
    public void UnwrapPrivateKeys_RightKeyAndName_RestoresWorkingKeys()
    {
        using IdentityKeys original = IdentityKeys.Generate();
        using IdentityKeys sender = IdentityKeys.Generate();
        byte[] wrapped = original.WrapPrivateKeys(WrapKey, "alice");

        using IdentityKeys restored = IdentityKeys.UnwrapPrivateKeys(wrapped, WrapKey, "alice");

        Assert.Equal(IdentityKeys.WrappedKeysSize, wrapped.Length);
        Assert.Equal(original.Fingerprint.ToArray(), restored.Fingerprint.ToArray());
        MessageId id = MessageId.NewId();
        DateTime sentAt = DateTime.UtcNow;
        byte[] envelope = DirectEnvelope.Seal(sender, "bob", original.ToPublicIdentity("alice"), id, sentAt, "hi"u8);
        Assert.Equal("hi"u8.ToArray(), DirectEnvelope.Open(restored, "alice", sender.ToPublicIdentity("bob"), id, sentAt, envelope));
    }

    [Fact]
    public void WrapPrivateKeys_Twice_UsesFreshNonces()
    {
        using IdentityKeys keys = IdentityKeys.Generate();

        byte[] first = keys.WrapPrivateKeys(WrapKey, "alice");
        byte[] second = keys.WrapPrivateKeys(WrapKey, "alice");

        Assert.False(first.AsSpan(1, 12).SequenceEqual(second.AsSpan(1, 12)));
        Assert.False(first.AsSpan().SequenceEqual(second));
    }

    /// <summary>Guards the password check of the wrapped keys: a wrong wrap key (wrong password) is a clear rejection, not garbage keys.</summary>
    [Fact]
    public void UnwrapPrivateKeys_WrongWrapKey_ThrowsTampered()
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        byte[] wrapped = keys.WrapPrivateKeys(WrapKey, "alice");
        byte[] otherKey = (byte[])WrapKey.Clone();
        otherKey[0] ^= 0x80;

        var ex = Assert.Throws<EnvelopeException>(() => IdentityKeys.UnwrapPrivateKeys(wrapped, otherKey, "alice"));

        Assert.Equal(EnvelopeFailure.Tampered, ex.Failure);
        Assert.Contains("password", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<CryptographicException>(ex);
    }

    /// <summary>Guards the user-name binding: one account's wrapped keys cannot be passed off as another account's.</summary>
    [Fact]
    public void UnwrapPrivateKeys_WrongUserName_ThrowsTampered()
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        byte[] wrapped = keys.WrapPrivateKeys(WrapKey, "alice");

        var ex = Assert.Throws<EnvelopeException>(() => IdentityKeys.UnwrapPrivateKeys(wrapped, WrapKey, "mallory"));

        Assert.Equal(EnvelopeFailure.Tampered, ex.Failure);
    }

    /// <summary>Guards every byte of the wrapped keys: no single-byte change goes unnoticed (the version byte is reported as such).</summary>
    [Fact]
    public void UnwrapPrivateKeys_AnyByteFlipped_IsRejected()
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        byte[] wrapped = keys.WrapPrivateKeys(WrapKey, "alice");

        for (int i = 0; i < wrapped.Length; i++)
        {
            byte[] copy = (byte[])wrapped.Clone();
            copy[i] ^= 0x01;

            var ex = Assert.Throws<EnvelopeException>(() => IdentityKeys.UnwrapPrivateKeys(copy, WrapKey, "alice"));

            Assert.Equal(i == 0 ? EnvelopeFailure.UnsupportedVersion : EnvelopeFailure.Tampered, ex.Failure);
        }
    }

    /// <summary>Guards the size check: truncated or padded blobs are malformed, not decrypted.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(IdentityKeys.WrappedKeysSize - 1)]
    [InlineData(IdentityKeys.WrappedKeysSize + 1)]
    public void UnwrapPrivateKeys_WrongSize_ThrowsMalformed(int size)
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        byte[] wrapped = keys.WrapPrivateKeys(WrapKey, "alice");
        byte[] resized = new byte[size];
        wrapped.AsSpan(0, Math.Min(size, wrapped.Length)).CopyTo(resized);

        var ex = Assert.Throws<EnvelopeException>(() => IdentityKeys.UnwrapPrivateKeys(resized, WrapKey, "alice"));

        Assert.Equal(EnvelopeFailure.Malformed, ex.Failure);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(33)]
    public void WrapPrivateKeys_WrapKeyNot32Bytes_ThrowsArgumentException(int size)
    {
        using IdentityKeys keys = IdentityKeys.Generate();

        Assert.Throws<ArgumentException>(() => keys.WrapPrivateKeys(new byte[size], "alice"));
        Assert.Throws<ArgumentException>(() => IdentityKeys.UnwrapPrivateKeys(new byte[IdentityKeys.WrappedKeysSize], new byte[size], "alice"));
    }

    [Fact]
    public void FromAccountKeys_SignUpKeys_RestoresIdentity()
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        AccountKeys account = keys.ToAccountKeys(WrapKey, "alice");

        using IdentityKeys restored = IdentityKeys.FromAccountKeys(account, WrapKey, "alice");

        Assert.Equal(keys.AgreementPublicKey.ToArray(), account.AgreementPublicKey.ToArray());
        Assert.Equal(keys.SigningPublicKey.ToArray(), account.SigningPublicKey.ToArray());
        Assert.Equal(keys.Fingerprint.ToArray(), restored.Fingerprint.ToArray());
    }

    /// <summary>Guards against a server publishing other public keys than the account's: the owner notices at sign-in.</summary>
    [Fact]
    public void FromAccountKeys_PublishedKeysSubstituted_ThrowsKeyMismatch()
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        using IdentityKeys other = IdentityKeys.Generate();
        AccountKeys account = keys.ToAccountKeys(WrapKey, "alice");
        var substituted = new AccountKeys(other.AgreementPublicKey, account.SigningPublicKey, account.WrappedPrivateKeys);

        var ex = Assert.Throws<EnvelopeException>(() => IdentityKeys.FromAccountKeys(substituted, WrapKey, "alice"));

        Assert.Equal(EnvelopeFailure.KeyMismatch, ex.Failure);
    }

    [Fact]
    public void WrapPrivateKeys_AfterDispose_ThrowsObjectDisposed()
    {
        IdentityKeys keys = IdentityKeys.Generate();
        keys.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keys.WrapPrivateKeys(WrapKey, "alice"));
    }

    [Fact]
    public void PublicIdentity_FromPublicKeys_MatchesOwnerFingerprint()
    {
        using IdentityKeys keys = IdentityKeys.Generate();

        PublicIdentity identity = PublicIdentity.FromPublicKeys(new UserPublicKeys("alice", keys.AgreementPublicKey, keys.SigningPublicKey));

        Assert.Equal("alice", identity.UserName);
        Assert.Equal(keys.FingerprintText, identity.FingerprintText);
        Assert.True(identity.HasSameKeys(keys.ToPublicIdentity("someone")));
    }

    /// <summary>Guards public keys from the server: anything but a canonical P-256 SubjectPublicKeyInfo is malformed data.</summary>
    [Fact]
    public void PublicIdentity_NotCanonicalP256Keys_ThrowsMalformed()
    {
        using IdentityKeys keys = IdentityKeys.Generate();
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        byte[] good = keys.SigningPublicKey.ToArray();
        byte[][] bad =
        [
            p384.ExportSubjectPublicKeyInfo(),
            [.. good, 0x00],
            good[..^1],
            [],
            RandomNumberGenerator.GetBytes(91),
        ];

        foreach (byte[] key in bad)
        {
            var asAgreement = Assert.Throws<EnvelopeException>(() => new PublicIdentity("alice", key, good));
            var asSigning = Assert.Throws<EnvelopeException>(() => new PublicIdentity("alice", good, key));

            Assert.Equal(EnvelopeFailure.Malformed, asAgreement.Failure);
            Assert.Equal(EnvelopeFailure.Malformed, asSigning.Failure);
        }
    }

    [Fact]
    public void FormatFingerprint_OddLength_GroupsByFour()
    {
        Assert.Equal("0102 03", PublicIdentity.FormatFingerprint([1, 2, 3]));
        Assert.Equal(string.Empty, PublicIdentity.FormatFingerprint([]));
    }
}
