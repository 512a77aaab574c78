using FastChat.Client.Crypto;

namespace FastChat.Client.Secure.Internal;

/// <summary>A contact's identity as looked up: the keys the server returned and whether they are the pinned ones.</summary>
/// <param name="Identity">The identity built from the server's keys.</param>
/// <param name="PinnedFingerprint">When the keys differ from the pin, the pinned fingerprint; <see langword="null"/> when they are trusted (pinned now or before).</param>
internal readonly record struct IdentityLookup(PublicIdentity Identity, string? PinnedFingerprint)
{
    public bool IsChanged => PinnedFingerprint is not null;
}

internal sealed partial class SecureSession
{
    /// <summary>A contact's identity, fetched once per session and checked against its pin; a changed key throws.</summary>
    /// <exception cref="KeyChangedException">The contact's keys differ from the pinned ones.</exception>
    public async Task<PublicIdentity> GetTrustedIdentityAsync(string userName, CancellationToken cancellationToken)
    {
        IdentityLookup lookup = await LookupAsync(userName, cancellationToken).ConfigureAwait(false);
        if (lookup.IsChanged)
        {
            throw new KeyChangedException(userName, lookup.PinnedFingerprint!, lookup.Identity.FingerprintText);
        }

        return lookup.Identity;
    }

    /// <summary>Accepts the changed key last seen for a contact, and processes again what it sent meanwhile.</summary>
    public void TrustNewKey(string userName)
    {
        PublicIdentity? identity;
        lock (_lock)
        {
            _changedKeys.Remove(userName, out identity);
        }

        if (identity is null)
        {
            throw new InvalidOperationException(
                $"No changed identity key of '{userName}' is waiting to be trusted: look the user up (or send to it) first, and compare the fingerprint it reports.");
        }

        _pins.Accept(identity);
        lock (_lock)
        {
            _identities[userName] = identity;
        }

        SecureChatLog.KeyTrusted(_logger, userName, identity.FingerprintText);
        Requeue(_held.TakeForTrust(userName));

        // Group keys this client, as an admin, held back from the contact while its key was in doubt.
        List<GroupState> groups;
        lock (_lock)
        {
            groups = [.. _groups.Values];
        }

        foreach (GroupState group in groups)
        {
            if (group.RemoveUnwrapped(userName))
            {
                StartBackground(ct => WrapLatestForAsync(group, userName, ct), $"Sending the key of group {group.Name} to {userName}");
            }
        }
    }

    /// <summary>Whether these keys of a contact are the trusted (pinned) ones in this session.</summary>
    private bool IsTrusted(string userName, PublicIdentity identity)
    {
        lock (_lock)
        {
            return _identities.TryGetValue(userName, out PublicIdentity? trusted) && trusted.HasSameKeys(identity);
        }
    }

    /// <summary>
    /// Looks a user up: this user itself from its own keys; others from the session's cache, or from the server and
    /// then checked against (or pinned in) the key pins. A changed key is reported once as <see cref="KeyChanged"/>.
    /// </summary>
    private async Task<IdentityLookup> LookupAsync(string userName, CancellationToken cancellationToken)
    {
        if (string.Equals(userName, UserName, StringComparison.Ordinal))
        {
            return new IdentityLookup(_self, null);
        }

        lock (_lock)
        {
            if (_identities.TryGetValue(userName, out PublicIdentity? cached))
            {
                return new IdentityLookup(cached, null);
            }
        }

        UserPublicKeys keys = await ServerRequestAsync(_inner.GetPublicKeysAsync(userName, cancellationToken)).ConfigureAwait(false);

        // Named after the user asked for, not the reply's name field: keys the server labels as someone else's must
        // not be pinned or used under that other name.
        var identity = new PublicIdentity(userName, keys.AgreementPublicKey.Span, keys.SigningPublicKey.Span);
        if (_pins.Check(identity) != KeyPinStatus.Changed)
        {
            lock (_lock)
            {
                _identities[userName] = identity;
                _changedKeys.Remove(userName);
            }

            return new IdentityLookup(identity, null);
        }

        string pinned = _pins.TryGetPin(userName, out string? text) ? text : string.Empty;
        bool first;
        lock (_lock)
        {
            first = !_changedKeys.TryGetValue(userName, out PublicIdentity? known) || !known.HasSameKeys(identity);
            _changedKeys[userName] = identity;
        }

        if (first)
        {
            SecureChatLog.KeyChanged(_logger, userName, pinned, identity.FingerprintText);
            _outlet.TryNotify(new KeyChanged(userName, pinned, identity.FingerprintText));
        }

        return new IdentityLookup(identity, pinned);
    }
}
