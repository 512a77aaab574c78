using System.Security.Cryptography;
using FastChat.Client.Crypto.Internal;

namespace FastChat.Client.Crypto;

/// <summary>
/// A user's long-term key pairs: ECDH P-256 for key agreement (others seal envelopes to it) and ECDSA P-256 for
/// signatures (everything this user seals is signed with it).
/// </summary>
/// <remarks>
/// <para>
/// The private keys leave this object only wrapped (<see cref="WrapPrivateKeys(ReadOnlySpan{byte}, string)"/>):
/// AES-256-GCM under the password's wrap key (<see cref="PasswordDerivedKeys.WrapKey"/>), with the user name bound
/// into the associated data. The format is in docs/security.md.
/// </para>
/// <para>Safe for concurrent use: signing and key agreement are serialized internally. Dispose to release the keys.</para>
/// </remarks>
public sealed class IdentityKeys : IDisposable
{
    /// <summary>The version byte of the wrapped private keys format.</summary>
    public const byte WrappedKeysVersion = 1;

    /// <summary>The size of the wrap key in bytes (AES-256).</summary>
    public const int WrapKeySize = 32;

    /// <summary>The size of wrapped private keys in bytes: version, nonce, two 32-byte private scalars, tag.</summary>
    public const int WrappedKeysSize = 1 + NonceSize + PlaintextSize + TagSize;

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int PlaintextSize = 2 * EcKeys.ScalarSize;

    private readonly ECDiffieHellman _agreement;
    private readonly ECDsa _signing;
    private readonly byte[] _agreementPublicKey;
    private readonly byte[] _signingPublicKey;
    private readonly byte[] _fingerprint;
    private readonly Lock _lock = new();
    private bool _disposed;

    private IdentityKeys(ECDiffieHellman agreement, ECDsa signing)
    {
        _agreement = agreement;
        _signing = signing;
        _agreementPublicKey = agreement.ExportSubjectPublicKeyInfo();
        _signingPublicKey = signing.ExportSubjectPublicKeyInfo();
        _fingerprint = PublicIdentity.ComputeFingerprint(_agreementPublicKey, _signingPublicKey);
    }

    /// <summary>The ECDH P-256 public key (SubjectPublicKeyInfo), published at sign-up.</summary>
    public ReadOnlyMemory<byte> AgreementPublicKey => _agreementPublicKey;

    /// <summary>The ECDSA P-256 public key (SubjectPublicKeyInfo), published at sign-up.</summary>
    public ReadOnlyMemory<byte> SigningPublicKey => _signingPublicKey;

    /// <summary>The fingerprint of the two public keys, as <see cref="PublicIdentity.Fingerprint"/>.</summary>
    public ReadOnlyMemory<byte> Fingerprint => _fingerprint;

    /// <summary>The fingerprint for display, as <see cref="PublicIdentity.FingerprintText"/>.</summary>
    public string FingerprintText => PublicIdentity.FormatFingerprint(_fingerprint);

    internal ReadOnlySpan<byte> KeyId => _fingerprint.AsSpan(0, PublicIdentity.KeyIdSize);

    /// <summary>Generates new key pairs from the operating system's secure random generator.</summary>
    /// <returns>The keys.</returns>
    public static IdentityKeys Generate()
    {
        ECDiffieHellman agreement = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            return new IdentityKeys(agreement, ECDsa.Create(ECCurve.NamedCurves.nistP256));
        }
        catch
        {
            agreement.Dispose();
            throw;
        }
    }

    /// <summary>Unwraps private keys wrapped by <see cref="WrapPrivateKeys(ReadOnlySpan{byte}, string)"/>.</summary>
    /// <param name="wrappedKeys">The wrapped keys (<see cref="AccountKeys.WrappedPrivateKeys"/>).</param>
    /// <param name="wrapKey">The 32-byte wrap key derived from the password.</param>
    /// <param name="userName">The user the keys were wrapped for.</param>
    /// <returns>The keys.</returns>
    /// <exception cref="ArgumentException"><paramref name="wrapKey"/> is not 32 bytes, or <paramref name="userName"/> is empty or not valid text.</exception>
    /// <exception cref="EnvelopeException">
    /// <see cref="EnvelopeFailure.Malformed"/> (wrong size or invalid keys inside), <see cref="EnvelopeFailure.UnsupportedVersion"/>,
    /// or <see cref="EnvelopeFailure.Tampered"/>: the wrap key (password) or the user name is wrong, or the blob was modified.
    /// </exception>
    public static IdentityKeys UnwrapPrivateKeys(ReadOnlySpan<byte> wrappedKeys, ReadOnlySpan<byte> wrapKey, string userName)
    {
        EnsureWrapKey(wrapKey);
        ArgumentException.ThrowIfNullOrEmpty(userName);
        if (wrappedKeys.Length != WrappedKeysSize)
        {
            CryptoThrowHelper.ThrowMalformed($"Wrapped private keys are {WrappedKeysSize} bytes; got {wrappedKeys.Length}.");
        }

        if (wrappedKeys[0] != WrappedKeysVersion)
        {
            CryptoThrowHelper.ThrowUnsupportedVersion("wrapped private keys", wrappedKeys[0]);
        }

        using var associatedData = new ScratchBuffer(WrapAssociatedDataSize(userName), stackalloc byte[256]);
        WriteWrapAssociatedData(associatedData.Span, userName);

        Span<byte> plaintext = stackalloc byte[PlaintextSize];
        try
        {
            try
            {
                using var aes = new AesGcm(wrapKey, TagSize);
                aes.Decrypt(
                    wrappedKeys.Slice(1, NonceSize),
                    wrappedKeys.Slice(1 + NonceSize, PlaintextSize),
                    wrappedKeys.Slice(1 + NonceSize + PlaintextSize, TagSize),
                    plaintext,
                    associatedData.Span);
            }
            catch (AuthenticationTagMismatchException ex)
            {
                throw new EnvelopeException(
                    EnvelopeFailure.Tampered,
                    $"The private keys of '{userName}' could not be unwrapped: the password (wrap key) or the user name is wrong, or the stored keys were modified.",
                    ex);
            }

            ECDiffieHellman? agreement = null;
            try
            {
                agreement = EcKeys.ImportAgreementPrivateKey(plaintext[..EcKeys.ScalarSize]);
                ECDsa signing = EcKeys.ImportSigningPrivateKey(plaintext[EcKeys.ScalarSize..]);
                return new IdentityKeys(agreement, signing);
            }
            catch (CryptographicException ex)
            {
                agreement?.Dispose();
                throw new EnvelopeException(EnvelopeFailure.Malformed, $"The unwrapped private keys of '{userName}' are not valid P-256 keys.", ex);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>
    /// Unwraps the private keys an account stored at sign-up and checks that they belong to the account's published
    /// public keys (a server that swapped either would otherwise go unnoticed by the account's owner).
    /// </summary>
    /// <param name="keys">The account's keys (<see cref="SignInResult.Keys"/>).</param>
    /// <param name="wrapKey">The 32-byte wrap key (<see cref="SignInResult.WrapKey"/>).</param>
    /// <param name="userName">The account's user name.</param>
    /// <returns>The keys.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="wrapKey"/> is not 32 bytes, or <paramref name="userName"/> is empty or not valid text.</exception>
    /// <exception cref="EnvelopeException">
    /// As <see cref="UnwrapPrivateKeys"/>, or <see cref="EnvelopeFailure.KeyMismatch"/>: the published public keys are
    /// not those of the wrapped private keys.
    /// </exception>
    public static IdentityKeys FromAccountKeys(AccountKeys keys, ReadOnlySpan<byte> wrapKey, string userName)
    {
        ArgumentNullException.ThrowIfNull(keys);
        IdentityKeys identity = UnwrapPrivateKeys(keys.WrappedPrivateKeys.Span, wrapKey, userName);
        if (!keys.AgreementPublicKey.Span.SequenceEqual(identity._agreementPublicKey)
            || !keys.SigningPublicKey.Span.SequenceEqual(identity._signingPublicKey))
        {
            identity.Dispose();
            throw new EnvelopeException(
                EnvelopeFailure.KeyMismatch,
                $"The public keys published for '{userName}' are not those of the account's private keys: others would seal messages to keys this account cannot open.");
        }

        return identity;
    }

    /// <summary>
    /// Wraps the two private keys with AES-256-GCM under <paramref name="wrapKey"/> (a fresh random nonce each time),
    /// binding <paramref name="userName"/> so that the blob cannot be replayed as another account's keys.
    /// </summary>
    /// <param name="wrapKey">The 32-byte wrap key derived from the password.</param>
    /// <param name="userName">The account's user name.</param>
    /// <returns>The <see cref="WrappedKeysSize"/>-byte blob (format in docs/security.md).</returns>
    /// <exception cref="ArgumentException"><paramref name="wrapKey"/> is not 32 bytes, or <paramref name="userName"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException">The keys were disposed.</exception>
    public byte[] WrapPrivateKeys(ReadOnlySpan<byte> wrapKey, string userName) => WrapPrivateKeys(wrapKey, userName, CryptoRandom.Default);

    /// <summary>
    /// The account's key material for sign-up: both public keys and the private keys wrapped under
    /// <paramref name="wrapKey"/> (for the callback of <see cref="ChatClient.SignUpAsync(string, string, Func{ReadOnlyMemory{byte}, AccountKeys}, CancellationToken)"/>).
    /// </summary>
    /// <param name="wrapKey">The 32-byte wrap key derived from the password.</param>
    /// <param name="userName">The account's user name.</param>
    /// <returns>The key material.</returns>
    /// <exception cref="ArgumentException"><paramref name="wrapKey"/> is not 32 bytes, or <paramref name="userName"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException">The keys were disposed.</exception>
    public AccountKeys ToAccountKeys(ReadOnlySpan<byte> wrapKey, string userName) =>
        new(_agreementPublicKey, _signingPublicKey, WrapPrivateKeys(wrapKey, userName));

    /// <summary>The public half of these keys under a user name.</summary>
    /// <param name="userName">The user the keys belong to.</param>
    /// <returns>The public identity.</returns>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is <see langword="null"/> or empty.</exception>
    public PublicIdentity ToPublicIdentity(string userName)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        return new PublicIdentity(userName, _agreementPublicKey, _signingPublicKey, _fingerprint);
    }

    /// <summary>Releases the key pairs.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _agreement.Dispose();
            _signing.Dispose();
        }
    }

    /// <summary>Imports fixed key pairs (PKCS#8), for known-answer tests.</summary>
    internal static IdentityKeys ImportPkcs8(ReadOnlySpan<byte> agreementPkcs8, ReadOnlySpan<byte> signingPkcs8)
    {
        var agreement = ECDiffieHellman.Create();
        var signing = ECDsa.Create();
        try
        {
            agreement.ImportPkcs8PrivateKey(agreementPkcs8, out _);
            signing.ImportPkcs8PrivateKey(signingPkcs8, out _);
            EcKeys.EnsureP256(agreement);
            EcKeys.EnsureP256(signing);
            return new IdentityKeys(agreement, signing);
        }
        catch
        {
            agreement.Dispose();
            signing.Dispose();
            throw;
        }
    }

    internal byte[] WrapPrivateKeys(ReadOnlySpan<byte> wrapKey, string userName, CryptoRandom random)
    {
        EnsureWrapKey(wrapKey);
        ArgumentException.ThrowIfNullOrEmpty(userName);
        using var associatedData = new ScratchBuffer(WrapAssociatedDataSize(userName), stackalloc byte[256]);
        WriteWrapAssociatedData(associatedData.Span, userName);

        byte[] blob = new byte[WrappedKeysSize];
        blob[0] = WrappedKeysVersion;
        Span<byte> nonce = blob.AsSpan(1, NonceSize);
        random.Fill(nonce);

        Span<byte> plaintext = stackalloc byte[PlaintextSize];
        try
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                EcKeys.WritePrivateScalar(_agreement, plaintext[..EcKeys.ScalarSize]);
                EcKeys.WritePrivateScalar(_signing, plaintext[EcKeys.ScalarSize..]);
            }

            using var aes = new AesGcm(wrapKey, TagSize);
            aes.Encrypt(nonce, plaintext, blob.AsSpan(1 + NonceSize, PlaintextSize), blob.AsSpan(1 + NonceSize + PlaintextSize, TagSize), associatedData.Span);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }

        return blob;
    }

    /// <summary>Signs a SHA-256 digest with the signing key: 64 bytes, <c>r || s</c>.</summary>
    internal void SignHash(ReadOnlySpan<byte> hash, Span<byte> signature)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_signing.TrySignHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation, out int written)
                || written != EcKeys.SignatureSize)
            {
                throw new CryptographicException("The ECDSA P-256 signature did not have the expected size.");
            }
        }
    }

    /// <summary>ECDH with the agreement key: the shared point's X coordinate (32 bytes); the caller wipes it.</summary>
    internal byte[] DeriveSharedSecret(ECDiffieHellman peer)
    {
        using ECDiffieHellmanPublicKey peerKey = peer.PublicKey;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _agreement.DeriveRawSecretAgreement(peerKey);
        }
    }

    private static void EnsureWrapKey(ReadOnlySpan<byte> wrapKey)
    {
        if (wrapKey.Length != WrapKeySize)
        {
            throw new ArgumentException($"The wrap key must be {WrapKeySize} bytes; it is {wrapKey.Length}.", nameof(wrapKey));
        }
    }

    // Associated data: version || str("fastchat identity v1") || str(userName).
    private static int WrapAssociatedDataSize(string userName) =>
        1 + ByteWriter.LabelSize(Labels.Identity) + ByteWriter.StringSize(userName, nameof(userName));

    private static void WriteWrapAssociatedData(Span<byte> destination, string userName)
    {
        var writer = new ByteWriter(destination);
        writer.WriteByte(WrappedKeysVersion);
        writer.WriteLabel(Labels.Identity);
        writer.WriteString(userName);
    }
}
