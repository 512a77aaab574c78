namespace FastChat.Client;

/// <summary>A user's public keys, from <see cref="ChatClient.GetPublicKeysAsync"/>.</summary>
/// <param name="UserName">The user.</param>
/// <param name="AgreementPublicKey">The ECDH P-256 public key.</param>
/// <param name="SigningPublicKey">The ECDSA P-256 public key.</param>
public sealed record UserPublicKeys(string UserName, ReadOnlyMemory<byte> AgreementPublicKey, ReadOnlyMemory<byte> SigningPublicKey);
