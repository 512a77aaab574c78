using System.Buffers;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Server.Internal;

// Group management, key envelopes and public keys: request/reply operations that go to the store (none of this is
// on the message hot path). Membership changes invalidate the group cache here and, through the GroupChanged
// notices relayed to members elsewhere, on the other servers.
internal sealed partial class ClientSession
{
    private ValueTask CreateGroupAsync(uint requestId, string group)
    {
        if (!Names.IsValid(group, out string problem))
        {
            WriteError(requestId, ErrorCode.InvalidUserName, $"The group name '{group}' is not allowed: {problem}");
            return default;
        }

        return new(RunStoreAsync(requestId, "creating a group", async () =>
        {
            if (!await _context.Store.CreateGroupAsync(group, _userName, _context.Options.GroupMemberLimit, Stopping).ConfigureAwait(false))
            {
                WriteError(requestId, ErrorCode.GroupExists, $"A group named '{group}' already exists.");
                return;
            }

            _context.Groups.Invalidate(group);
            _connection.TryWriteMessage(requestId, new Ok());
        }));
    }

    private ValueTask AddMemberAsync(uint requestId, string group, string member) =>
        new(RunStoreAsync(requestId, "adding a group member", async () =>
        {
            GroupInfo? info = await ReadGroupAsAdminAsync(requestId, group, "add members").ConfigureAwait(false);
            if (info is null)
            {
                return;
            }

            if (!await _context.UserExistsAsync(member, Stopping).ConfigureAwait(false))
            {
                WriteError(requestId, ErrorCode.UserNotFound, $"There is no user '{member}'.");
                return;
            }

            GroupChange change = await _context.Store.AddMemberAsync(group, member, Stopping).ConfigureAwait(false);
            if (!ReplyToChange(requestId, group, member, change.Status))
            {
                return;
            }

            var notified = new List<string>(info.Members.Count + 1);
            notified.AddRange(info.Members);
            notified.Add(member);
            await NotifyGroupChangeAsync(group, GroupChangeKind.MemberAdded, member, change.KeyEpoch, notified).ConfigureAwait(false);
        }));

    private ValueTask RemoveMemberAsync(uint requestId, string group, string member) =>
        new(RunStoreAsync(requestId, "removing a group member", async () =>
        {
            GroupInfo? info = await ReadGroupAsAdminAsync(requestId, group, "remove members").ConfigureAwait(false);
            if (info is null)
            {
                return;
            }

            if (string.Equals(member, _userName, StringComparison.Ordinal))
            {
                WriteError(requestId, ErrorCode.Unexpected, "The admin cannot remove themself: use GroupLeave to leave the group.");
                return;
            }

            GroupChange change = await _context.Store.RemoveMemberAsync(group, member, Stopping).ConfigureAwait(false);
            if (!ReplyToChange(requestId, group, member, change.Status))
            {
                return;
            }

            // The remaining members and the removed one hear of it; the remaining ones rotate the group key.
            await NotifyGroupChangeAsync(group, GroupChangeKind.MemberRemoved, member, change.KeyEpoch, info.Members).ConfigureAwait(false);
        }));

    private ValueTask LeaveGroupAsync(uint requestId, string group) =>
        new(RunStoreAsync(requestId, "leaving a group", async () =>
        {
            GroupInfo? info = await _context.Store.GetGroupAsync(group, Stopping).ConfigureAwait(false);
            GroupChange change = await _context.Store.RemoveMemberAsync(group, _userName, Stopping).ConfigureAwait(false);
            if (!ReplyToChange(requestId, group, _userName, change.Status))
            {
                return;
            }

            if (info is not null)
            {
                await NotifyGroupChangeAsync(group, GroupChangeKind.MemberLeft, _userName, change.KeyEpoch, info.Members).ConfigureAwait(false);
            }
        }));

    private ValueTask ListMembersAsync(uint requestId, string group) =>
        new(RunStoreAsync(requestId, "listing group members", async () =>
        {
            GroupInfo? info = await ReadGroupAsAdminAsync(requestId, group, "list the members").ConfigureAwait(false);
            if (info is not null)
            {
                _connection.TryWriteMessage(requestId, new GroupMembers { Group = info.Name, Admin = info.Admin, KeyEpoch = info.KeyEpoch, Members = info.Members });
            }
        }));

    // The admin wraps the group key for each member; the envelope is stored (delivered again at every Resume) and
    // forwarded live if the member is online.
    private ValueTask PutKeyEnvelopeAsync(uint requestId, string group, string member, int epoch, byte[] envelope) =>
        new(RunStoreAsync(requestId, "storing a group key envelope", async () =>
        {
            GroupInfo? info = await ReadGroupAsAdminAsync(requestId, group, "distribute the group key").ConfigureAwait(false);
            if (info is null)
            {
                return;
            }

            if (!GroupCache.IsMember(info, member))
            {
                WriteError(requestId, ErrorCode.NotMember, $"{member} is not in the group.");
                return;
            }

            await _context.Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord(group, member, epoch, _userName, envelope), Stopping).ConfigureAwait(false);
            _connection.TryWriteMessage(requestId, new Ok());
            byte[] notice = Encode(new GroupKeyEnvelope
            {
                Group = group,
                Member = member,
                Epoch = epoch,
                Sender = _userName,
                Envelope = new ReadOnlySequence<byte>(envelope),
            });
            await _router.SendNoticeAsync(member, notice, Batch, Stopping).ConfigureAwait(false);
        }));

    private ValueTask SendPublicKeysAsync(uint requestId, string userName) =>
        new(RunStoreAsync(requestId, "reading public keys", async () =>
        {
            Account? account = Names.IsValid(userName, out _) ? await _context.Store.GetAccountAsync(userName, Stopping).ConfigureAwait(false) : null;
            if (account is null)
            {
                WriteError(requestId, ErrorCode.UserNotFound, $"There is no user '{userName}'.");
                return;
            }

            _connection.TryWriteMessage(requestId, new PublicKeys
            {
                UserName = account.UserName,
                AgreementPublicKey = new ReadOnlySequence<byte>(account.AgreementPublicKey),
                SigningPublicKey = new ReadOnlySequence<byte>(account.SigningPublicKey),
            });
        }));

    // Reads the group fresh from the store (never the cache: these are admin decisions) and checks the caller is its admin.
    private async Task<GroupInfo?> ReadGroupAsAdminAsync(uint requestId, string group, string action)
    {
        GroupInfo? info = await _context.Groups.RefreshAsync(_context.Store, group, Stopping).ConfigureAwait(false);
        if (info is null)
        {
            WriteError(requestId, ErrorCode.GroupNotFound, $"There is no group '{group}'.");
            return null;
        }

        if (!string.Equals(info.Admin, _userName, StringComparison.Ordinal))
        {
            WriteError(requestId, ErrorCode.NotAdmin, $"Only the group's admin can {action}.");
            return null;
        }

        return info;
    }

    // Ok, or the error for a membership change the store refused.
    private bool ReplyToChange(uint requestId, string group, string member, GroupChangeStatus status)
    {
        switch (status)
        {
            case GroupChangeStatus.Ok:
                _context.Groups.Invalidate(group);
                _connection.TryWriteMessage(requestId, new Ok());
                return true;
            case GroupChangeStatus.GroupNotFound:
                WriteError(requestId, ErrorCode.GroupNotFound, $"There is no group '{group}'.");
                return false;
            case GroupChangeStatus.AlreadyMember:
                WriteError(requestId, ErrorCode.AlreadyMember, $"{member} is already in the group.");
                return false;
            case GroupChangeStatus.GroupFull:
                WriteError(requestId, ErrorCode.GroupFull, "The group is full.");
                return false;
            default:
                WriteError(requestId, ErrorCode.NotMember, $"{member} is not in the group.");
                return false;
        }
    }

    // GroupChanged is live-only (request id 0), sent to each listed user here or relayed to their server.
    private async Task NotifyGroupChangeAsync(string group, GroupChangeKind kind, string member, int epoch, IReadOnlyList<string> recipients)
    {
        byte[] notice = Encode(new GroupChanged { Group = group, Kind = kind, Member = member, Actor = _userName, Epoch = epoch });
        foreach (string recipient in recipients)
        {
            await _router.SendNoticeAsync(recipient, notice, Batch, Stopping).ConfigureAwait(false);
        }
    }

    // Runs a request that uses the store; a store failure becomes InternalError for that request only.
    private async Task<bool> RunStoreAsync(uint requestId, string operation, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            return true;
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, operation, ex);
            WriteError(requestId, ErrorCode.InternalError, "The server's store failed; try again.");
            return false;
        }
    }

    private static byte[] Encode<T>(in T message)
        where T : struct, IMessage<T>
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        MessageSerializer.WritePayload(buffer, 0, in message);
        return buffer.WrittenSpan.ToArray();
    }
}
