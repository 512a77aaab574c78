using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Secure.Internal;

internal sealed partial class SecureSession
{
    public async Task CreateGroupAsync(string group, CancellationToken cancellationToken)
    {
        await ServerRequestAsync(_inner.CreateGroupAsync(group, cancellationToken)).ConfigureAwait(false);
        GetOrAddGroup(group).Admin = UserName;
        await EnsureGroupKeyAsync(group, null, cancellationToken).ConfigureAwait(false);
    }

    public async Task AddMemberAsync(string group, string member, CancellationToken cancellationToken)
    {
        // Pinned (or refused as changed) before the server adds anyone: the key is wrapped for exactly these keys.
        await GetTrustedIdentityAsync(member, cancellationToken).ConfigureAwait(false);
        await ServerRequestAsync(_inner.AddMemberAsync(group, member, cancellationToken)).ConfigureAwait(false);
        await EnsureGroupKeyAsync(group, member, cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveMemberAsync(string group, string member, CancellationToken cancellationToken)
    {
        await ServerRequestAsync(_inner.RemoveMemberAsync(group, member, cancellationToken)).ConfigureAwait(false);

        // The server advanced the epoch: the removed member must not get the next key.
        await EnsureGroupKeyAsync(group, null, cancellationToken).ConfigureAwait(false);
    }

    public async Task LeaveGroupAsync(string group, CancellationToken cancellationToken)
    {
        await ServerRequestAsync(_inner.LeaveGroupAsync(group, cancellationToken)).ConfigureAwait(false);
        RemoveGroup(group);
    }

    public async Task<GroupMembersInfo> GetMembersAsync(string group, CancellationToken cancellationToken)
    {
        GroupMembersInfo info = await ServerRequestAsync(_inner.GetMembersAsync(group, cancellationToken)).ConfigureAwait(false);
        GroupState state = GetOrAddGroup(group);
        state.Admin = info.Admin;
        state.ObserveEpoch(info.KeyEpoch);
        return info;
    }

    /// <summary>
    /// As the group's admin, makes sure a key exists for the server's current epoch: issues and wraps a new one for
    /// every member when this client holds none (a new group, a removal, a departure, an admin hand-over), and wraps
    /// the current one for <paramref name="newMember"/> when given.
    /// </summary>
    /// <returns><see langword="false"/> if this user is not the group's admin (nothing to do).</returns>
    private async Task<bool> EnsureGroupKeyAsync(string group, string? newMember, CancellationToken cancellationToken)
    {
        // Not before the stored envelopes are in: a key this client already issued for the epoch must be found, not
        // replaced by a second one that members holding the first would then disagree with.
        await WaitForResumeAsync(cancellationToken).ConfigureAwait(false);

        // One key decision at a time: two checks racing for the same epoch must not issue two different keys.
        await _keyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GroupMembersInfo info;
            try
            {
                info = await ServerRequestAsync(_inner.GetMembersAsync(group, cancellationToken)).ConfigureAwait(false);
            }
            catch (ChatException ex) when (ex.ErrorCode == ErrorCode.NotAdmin)
            {
                return false;
            }

            GroupState state = GetOrAddGroup(group);
            state.Admin = info.Admin;
            state.ObserveEpoch(info.KeyEpoch);
            if (!string.Equals(info.Admin, UserName, StringComparison.Ordinal))
            {
                return false;
            }

            if (!state.Ring.TryGetKey(info.KeyEpoch, out GroupKey? key))
            {
                await IssueKeyAsync(state, GroupKey.Generate(info.KeyEpoch), info.Members, cancellationToken).ConfigureAwait(false);
            }
            else if (newMember is not null && Contains(info.Members, newMember))
            {
                await WrapForAsync(state.Name, key, newMember, cancellationToken).ConfigureAwait(false);
            }

            state.AdminChecked = true;
            return true;
        }
        finally
        {
            _keyGate.Release();
        }
    }

    /// <summary>Wraps a new key for every member but this user, then for this user, and starts using it.</summary>
    private async Task IssueKeyAsync(GroupState state, GroupKey key, IReadOnlyList<string> members, CancellationToken cancellationToken)
    {
        int wrapped = 0;
        foreach (string member in members)
        {
            if (string.Equals(member, UserName, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                await WrapForAsync(state.Name, key, member, cancellationToken).ConfigureAwait(false);
                wrapped++;
            }
            catch (KeyChangedException ex)
            {
                // Never wrap for keys in doubt; the member gets the key once the user trusts its new one.
                state.AddUnwrapped(member);
                SecureChatLog.KeyNotWrapped(_logger, state.Name, key.Epoch, member, ex.Message);
                _outlet.TryNotify(new SecurityWarning(null, member, $"The key of group '{state.Name}' (epoch {key.Epoch}) was not sent to {member}, whose identity key changed; trust the new key to send it."));
            }
            catch (ChatException ex) when (ex.ErrorCode is ErrorCode.NotMember or ErrorCode.UserNotFound)
            {
                // Left or removed meanwhile: it must not get the key anyway.
                SecureChatLog.KeyNotWrapped(_logger, state.Name, key.Epoch, member, ex.Message);
            }
            catch (EnvelopeException ex)
            {
                // The server returned keys for the member that are no P-256 keys: nothing can be sealed for them.
                SecureChatLog.KeyNotWrapped(_logger, state.Name, key.Epoch, member, ex.Message);
                _outlet.TryNotify(new SecurityWarning(null, member, $"The key of group '{state.Name}' (epoch {key.Epoch}) was not sent to {member}: {ex.Message}"));
            }
        }

        state.Ring.Add(key);
        OnGroupKeyAdded(state.Name, key.Epoch);

        // This user's own copy goes last: finding it at the next sign-in means every member's copy went out first,
        // and a rotation cut short is redone then.
        await WrapForAsync(state.Name, key, UserName, cancellationToken).ConfigureAwait(false);
        SecureChatLog.GroupKeyIssued(_logger, state.Name, key.Epoch, wrapped + 1);
    }

    private async Task WrapForAsync(string group, GroupKey key, string member, CancellationToken cancellationToken)
    {
        PublicIdentity identity = await GetTrustedIdentityAsync(member, cancellationToken).ConfigureAwait(false);
        byte[] envelope = GroupKeyWrap.Seal(_keys, UserName, identity, group, key);
        await ServerRequestAsync(_inner.SendGroupKeyEnvelopeAsync(group, member, key.Epoch, envelope, cancellationToken)).ConfigureAwait(false);
    }

    private async Task WrapLatestForAsync(GroupState state, string member, CancellationToken cancellationToken)
    {
        await _keyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (state.Ring.Latest is { } key && string.Equals(state.Admin, UserName, StringComparison.Ordinal))
            {
                await WrapForAsync(state.Name, key, member, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _keyGate.Release();
        }
    }

    /// <summary>A membership change: tell the application, note the epoch, and rotate if this user is (or may now be) the admin.</summary>
    private async Task OnGroupChangedAsync(GroupChangedEvent change, CancellationToken cancellationToken)
    {
        // The state first, then the notice: an application reacting to the notice sees the client's new state.
        ApplyGroupChange(change);
        await _outlet.NotifyAsync(new GroupNotice(change.Group, change.Kind, change.Member, change.Actor, change.Epoch), cancellationToken).ConfigureAwait(false);
    }

    private void ApplyGroupChange(GroupChangedEvent change)
    {
        bool departure = change.Kind is GroupChangeKind.MemberRemoved or GroupChangeKind.MemberLeft;
        if (departure && string.Equals(change.Member, UserName, StringComparison.Ordinal))
        {
            RemoveGroup(change.Group);
            return;
        }

        GroupState state = GetOrAddGroup(change.Group);
        state.ObserveEpoch(change.Epoch);
        string? admin = state.Admin;
        if (change.Kind is GroupChangeKind.Created or GroupChangeKind.MemberAdded or GroupChangeKind.MemberRemoved)
        {
            // Only the admin creates, adds and removes.
            admin = change.Actor;
            state.Admin = admin;
        }

        if (!departure)
        {
            return;
        }

        bool adminLeft = change.Kind == GroupChangeKind.MemberLeft && (admin is null || string.Equals(admin, change.Member, StringComparison.Ordinal));
        if (adminLeft)
        {
            // The server hands the group to another member, whose client issues the next key: until its envelope
            // arrives nobody here knows who that is.
            state.Admin = null;
        }

        if (adminLeft || string.Equals(admin, UserName, StringComparison.Ordinal))
        {
            StartBackground(ct => EnsureGroupKeyAsync(change.Group, null, ct), $"Rotating the key of group {change.Group}");
        }
    }

    /// <summary>After a resume, every key envelope is processed: issue the keys missing for groups this user administers.</summary>
    private void OnResumed()
    {
        List<string> groups;
        lock (_lock)
        {
            groups = [.. _groups.Keys];
        }

        foreach (string group in groups)
        {
            StartBackground(ct => CheckGroupAsync(group, ct), $"Checking the key of group {group}");
        }
    }

    private async Task CheckGroupAsync(string group, CancellationToken cancellationToken)
    {
        try
        {
            await EnsureGroupKeyAsync(group, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatException ex) when (ex.ErrorCode == ErrorCode.GroupNotFound)
        {
            // Deleted (its last member left) while this user was away.
            RemoveGroup(group);
        }
    }

    private async Task SyncAfterResumeAsync(CancellationToken cancellationToken)
    {
        // The server sends the stored key envelopes right after Resumed: once a ping's reply is in, they are all
        // queued ahead of the marker, and the marker is handled after them.
        await ServerRequestAsync(_inner.PingAsync(cancellationToken)).ConfigureAwait(false);
        await _inner.PublishAsync(new ResumeMarker(), cancellationToken).ConfigureAwait(false);
    }

    private void OnGroupKeyAdded(string group, int epoch)
    {
        _owner.GroupKeyAdded?.Invoke(group, epoch);
        Requeue(_held.TakeForKey(group, epoch));
    }

    private static bool Contains(IReadOnlyList<string> names, string name)
    {
        foreach (string candidate in names)
        {
            if (string.Equals(candidate, name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
