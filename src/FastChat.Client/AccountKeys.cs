namespace FastChat.Client;

/// <summary>
/// An account's key material as the servers store it: the two public keys and the private keys wrapped by the client.
/// All three are opaque to the servers (and to this class).
/// </summary>
/// <remarks>The client's key code creates them at sign-up and gets them back at every sign-in (<see cref="SignInResult.Keys"/>).</remarks>
public sealed class AccountKeys
{
    /// <summary>Creates the key material.</summary>
    /// <param name="agreementPublicKey">The ECDH P-256 public key (SubjectPublicKeyInfo).</param>
    /// <param name="signingPublicKey">The ECDSA P-256 public key (SubjectPublicKeyInfo).</param>
    /// <param name="wrappedPrivateKeys">The private keys, encrypted under the password's wrap key.</param>
    public AccountKeys(ReadOnlyMemory<byte> agreementPublicKey, ReadOnlyMemory<byte> signingPublicKey, ReadOnlyMemory<byte> wrappedPrivateKeys)
    {
        AgreementPublicKey = agreementPublicKey;
        SigningPublicKey = signingPublicKey;
        WrappedPrivateKeys = wrappedPrivateKeys;
    }

    /// <summary>No key material (three empty blobs).</summary>
    public static AccountKeys Empty { get; } = new(ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty);

    /// <summary>The ECDH P-256 public key.</summary>
    public ReadOnlyMemory<byte> AgreementPublicKey { get; }

    /// <summary>The ECDSA P-256 public key.</summary>
    public ReadOnlyMemory<byte> SigningPublicKey { get; }

    /// <summary>The wrapped private keys.</summary>
    public ReadOnlyMemory<byte> WrappedPrivateKeys { get; }
}
