using System.Security.Cryptography;
using FastChat.Client.Crypto.Internal;

namespace FastChat.Client.Crypto;

/// <summary>
/// A user's public identity: the user name and the two P-256 public keys (ECDH for agreement, ECDSA for signatures),
/// with a fingerprint people can compare out of band.
/// </summary>
/// <remarks>
/// <para>
/// The fingerprint is <c>SHA-256(agreementSpki || signingSpki)</c> over the two canonical SubjectPublicKeyInfo
/// encodings (DER, so the concatenation is unambiguous). It covers the keys, not the name: binding a name to a
/// fingerprint is what <see cref="KeyPinStore"/> does.
/// </para>
/// <para>Immutable and safe to share between threads.</para>
/// </remarks>
public sealed class PublicIdentity
{
    /// <summary>The size of a fingerprint in bytes.</summary>
    public const int FingerprintSize = 32;

    /// <summary>The size of the key id in bytes: the fingerprint's first bytes, carried by sealed envelopes to name the recipient key.</summary>
    public const int KeyIdSize = 8;

    private readonly byte[] _agreementPublicKey;
    private readonly byte[] _signingPublicKey;
    private readonly byte[] _fingerprint;

    // Imported once and reused. Each is taken out of its field for the length of one operation (Interlocked.Exchange),
    // so no key object is ever used by two threads at once; a caller that finds the field empty (another thread holds
    // the key, or none was imported yet) imports its own from the checked bytes above and leaves it for the next call.
    // Not disposed: the identity is shared and long-lived (cached per contact), so the native keys are released with
    // it by their SafeHandle finalizers.
    private ECDsa? _verificationKey;
    private ECDiffieHellman? _agreementKey;

    /// <summary>Creates an identity from the published public keys (for example <c>PublicKeys</c> from the server).</summary>
    /// <param name="userName">The user the keys belong to.</param>
    /// <param name="agreementPublicKey">The ECDH P-256 public key, as SubjectPublicKeyInfo.</param>
    /// <param name="signingPublicKey">The ECDSA P-256 public key, as SubjectPublicKeyInfo.</param>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is <see langword="null"/> or empty.</exception>
    /// <exception cref="EnvelopeException">
    /// <see cref="EnvelopeFailure.Malformed"/>: a key is not a canonical P-256 SubjectPublicKeyInfo (keys come from the
    /// server, so this is a data error, not a programming error).
    /// </exception>
    public PublicIdentity(string userName, ReadOnlySpan<byte> agreementPublicKey, ReadOnlySpan<byte> signingPublicKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ECDiffieHellman? agreementKey = null;
        try
        {
            // The keys imported for the checks are the ones every seal and open then uses: an import (parsing and the
            // platform's validation of the point) costs more than the verification it would precede.
            agreementKey = EcKeys.ImportAgreementPublicKey(agreementPublicKey);
            _verificationKey = EcKeys.ImportSigningPublicKey(signingPublicKey);
            _agreementKey = agreementKey;
        }
        catch (CryptographicException ex)
        {
            agreementKey?.Dispose();
            throw new EnvelopeException(EnvelopeFailure.Malformed, $"The public keys of '{userName}' are not P-256 SubjectPublicKeyInfo: {ex.Message}", ex);
        }

        UserName = userName;
        _agreementPublicKey = agreementPublicKey.ToArray();
        _signingPublicKey = signingPublicKey.ToArray();
        _fingerprint = ComputeFingerprint(_agreementPublicKey, _signingPublicKey);
        FingerprintText = FormatFingerprint(_fingerprint);
    }

    // For keys that are known to be valid (exported from a live key pair): skips the re-import.
    internal PublicIdentity(string userName, byte[] agreementPublicKey, byte[] signingPublicKey, byte[] fingerprint)
    {
        UserName = userName;
        _agreementPublicKey = agreementPublicKey;
        _signingPublicKey = signingPublicKey;
        _fingerprint = fingerprint;
        FingerprintText = FormatFingerprint(_fingerprint);
    }

    /// <summary>The user the keys belong to.</summary>
    public string UserName { get; }

    /// <summary>The ECDH P-256 public key (SubjectPublicKeyInfo).</summary>
    public ReadOnlyMemory<byte> AgreementPublicKey => _agreementPublicKey;

    /// <summary>The ECDSA P-256 public key (SubjectPublicKeyInfo).</summary>
    public ReadOnlyMemory<byte> SigningPublicKey => _signingPublicKey;

    /// <summary>The 32-byte fingerprint, <c>SHA-256(agreementSpki || signingSpki)</c>.</summary>
    public ReadOnlyMemory<byte> Fingerprint => _fingerprint;

    /// <summary>The fingerprint for display: 64 lowercase hexadecimal digits in 16 groups of 4, separated by spaces.</summary>
    public string FingerprintText { get; }

    internal ReadOnlySpan<byte> KeyId => _fingerprint.AsSpan(0, KeyIdSize);

    /// <summary>Creates an identity from the keys the server returned for a user.</summary>
    /// <param name="keys">The user's public keys, from <see cref="ChatClient.GetPublicKeysAsync"/>.</param>
    /// <returns>The identity.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The user name is empty.</exception>
    /// <exception cref="EnvelopeException"><see cref="EnvelopeFailure.Malformed"/>: a key is not a canonical P-256 SubjectPublicKeyInfo.</exception>
    public static PublicIdentity FromPublicKeys(UserPublicKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return new PublicIdentity(keys.UserName, keys.AgreementPublicKey.Span, keys.SigningPublicKey.Span);
    }

    /// <summary>Formats a fingerprint (or any bytes) as lowercase hexadecimal in groups of 4 digits separated by spaces.</summary>
    /// <param name="fingerprint">The bytes.</param>
    /// <returns>The text, for example <c>"3fa2 09c1 ..."</c>.</returns>
    public static string FormatFingerprint(ReadOnlySpan<byte> fingerprint)
    {
        if (fingerprint.IsEmpty)
        {
            return string.Empty;
        }

        string hex = Convert.ToHexStringLower(fingerprint);
        int groups = (hex.Length + 3) / 4;
        return string.Create(hex.Length + groups - 1, hex, static (chars, hex) =>
        {
            int written = 0;
            for (int i = 0; i < hex.Length; i += 4)
            {
                if (i > 0)
                {
                    chars[written++] = ' ';
                }

                int take = Math.Min(4, hex.Length - i);
                hex.AsSpan(i, take).CopyTo(chars[written..]);
                written += take;
            }
        });
    }

    /// <summary>Whether this identity has the same keys as <paramref name="other"/> (the user names are not compared).</summary>
    /// <param name="other">The other identity.</param>
    /// <returns><see langword="true"/> if both fingerprints are equal.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is <see langword="null"/>.</exception>
    public bool HasSameKeys(PublicIdentity other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return _fingerprint.AsSpan().SequenceEqual(other._fingerprint);
    }

    /// <summary>Returns the user name and the fingerprint.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{UserName} ({FingerprintText})";

    internal static byte[] ComputeFingerprint(ReadOnlySpan<byte> agreementSpki, ReadOnlySpan<byte> signingSpki)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(agreementSpki);
        hash.AppendData(signingSpki);
        return hash.GetHashAndReset();
    }

    /// <summary>Verifies an ECDSA P-256 signature (IEEE P1363) over a SHA-256 digest with this identity's signing key.</summary>
    internal bool VerifyHash(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature)
    {
        ECDsa key = Interlocked.Exchange(ref _verificationKey, null) ?? ImportVerificationKey();
        try
        {
            return key.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        finally
        {
            Return(ref _verificationKey, key);
        }
    }

    /// <summary>Computes the raw ECDH shared secret between <paramref name="privateKey"/> and this identity's agreement key.</summary>
    internal byte[] DeriveSharedSecret(ECDiffieHellman privateKey)
    {
        ECDiffieHellman key = Interlocked.Exchange(ref _agreementKey, null) ?? ImportAgreementKey();
        try
        {
            using ECDiffieHellmanPublicKey publicKey = key.PublicKey;
            return privateKey.DeriveRawSecretAgreement(publicKey);
        }
        finally
        {
            Return(ref _agreementKey, key);
        }
    }

    // Puts a key back for the next call; if another thread's key got there first, this one is surplus.
    private static void Return<TKey>(ref TKey? slot, TKey key)
        where TKey : class, IDisposable
    {
        if (Interlocked.CompareExchange(ref slot, key, null) is not null)
        {
            key.Dispose();
        }
    }

    // The bytes were checked when the identity was created (or come from a live key pair): a plain import is enough.
    private ECDsa ImportVerificationKey()
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(_signingPublicKey, out _);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private ECDiffieHellman ImportAgreementKey()
    {
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(_agreementPublicKey, out _);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }
}
