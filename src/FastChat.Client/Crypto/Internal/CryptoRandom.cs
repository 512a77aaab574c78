using System.Security.Cryptography;

namespace FastChat.Client.Crypto.Internal;

/// <summary>
/// Where the crypto code gets its randomness: nonces, keys and ephemeral key pairs. <see cref="Default"/> is the
/// operating system's generator; known-answer tests substitute a deterministic source through the internal overloads
/// so that the envelope formats can be checked byte for byte against an independent implementation.
/// </summary>
/// <remarks>ECDSA signatures draw their own per-signature randomness inside the platform and are not affected.</remarks>
internal class CryptoRandom
{
    /// <summary>The operating system's cryptographically secure generator.</summary>
    public static readonly CryptoRandom Default = new();

    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    public virtual void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);

    /// <summary>Creates a fresh ECDH P-256 key pair for one envelope.</summary>
    public virtual ECDiffieHellman CreateEphemeralKey() => ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
}
