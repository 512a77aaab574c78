using FastChat.Protocol.Messages;

namespace FastChat.Client.Secure;

/// <summary>
/// A contact's public keys differ from the pinned ones, so the client refused to use them: nothing was sent. Show both
/// fingerprints; call <see cref="SecureChatClient.TrustNewKey"/> only once the user has confirmed the new one with the
/// contact (in person, over a call).
/// </summary>
/// <remarks>Its <see cref="ChatException.ErrorCode"/> is <see cref="ErrorCode.Unexpected"/>: the refusal is the client's, not the server's.</remarks>
public sealed class KeyChangedException : ChatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="userName">The contact.</param>
    /// <param name="pinnedFingerprint">The fingerprint pinned so far.</param>
    /// <param name="newFingerprint">The fingerprint of the keys the server now returns.</param>
    public KeyChangedException(string userName, string pinnedFingerprint, string newFingerprint)
        : base(
            ErrorCode.Unexpected,
            $"The identity key of '{userName}' changed since it was first seen (pinned {pinnedFingerprint}, now {newFingerprint}); nothing was sent. Compare fingerprints with {userName} before trusting the new key.")
    {
        UserName = userName;
        PinnedFingerprint = pinnedFingerprint;
        NewFingerprint = newFingerprint;
    }

    /// <summary>The contact whose key changed.</summary>
    public string UserName { get; }

    /// <summary>The fingerprint pinned so far (as <see cref="Crypto.PublicIdentity.FingerprintText"/>).</summary>
    public string PinnedFingerprint { get; }

    /// <summary>The fingerprint of the keys the server now returns.</summary>
    public string NewFingerprint { get; }
}
