using System.Diagnostics;
using FastChat.Client.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client;

public sealed partial class ChatClient
{
    /// <summary>Creates a group with this user as its admin.</summary>
    /// <param name="group">The new group's name: 3 to 32 of <c>a-z 0-9 _ - .</c>, starting with a letter or digit.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes when the server has created the group.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.GroupExists"/>, <see cref="ErrorCode.InvalidUserName"/>, ...</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply (the group may or may not exist).</exception>
    /// <exception cref="TimeoutException">No session, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task CreateGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        ValidateName(group, nameof(group));
        return RequestAsync(new GroupCreate { Group = group }, new OkRequest(), cancellationToken);
    }

    /// <summary>Adds a member to a group (admin only); every member is notified with a <see cref="GroupChangedEvent"/>.</summary>
    /// <param name="group">The group.</param>
    /// <param name="member">The user to add.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes when the server has added the member.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotAdmin"/>, <see cref="ErrorCode.GroupFull"/>, <see cref="ErrorCode.AlreadyMember"/>, <see cref="ErrorCode.UserNotFound"/>, <see cref="ErrorCode.GroupNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No session, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task AddMemberAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        ValidateName(group, nameof(group));
        ValidateName(member, nameof(member));
        return RequestAsync(new GroupAddMember { Group = group, Member = member }, new OkRequest(), cancellationToken);
    }

    /// <summary>Removes a member from a group (admin only; the admin leaves with <see cref="LeaveGroupAsync"/>). The group key epoch advances: the admin should rotate the key.</summary>
    /// <param name="group">The group.</param>
    /// <param name="member">The member to remove.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes when the server has removed the member.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotAdmin"/>, <see cref="ErrorCode.NotMember"/>, <see cref="ErrorCode.GroupNotFound"/>, ...</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No session, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task RemoveMemberAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        ValidateName(group, nameof(group));
        ValidateName(member, nameof(member));
        return RequestAsync(new GroupRemoveMember { Group = group, Member = member }, new OkRequest(), cancellationToken);
    }

    /// <summary>Leaves a group.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes when the server has removed this user from the group.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotMember"/>, <see cref="ErrorCode.GroupNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No session, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task LeaveGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        ValidateName(group, nameof(group));
        return RequestAsync(new GroupLeave { Group = group }, new OkRequest(), cancellationToken);
    }

    /// <summary>Lists a group's admin, key epoch and members (admin only).</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The group's members, the admin included.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotAdmin"/>, <see cref="ErrorCode.GroupNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No session, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<GroupMembersInfo> GetMembersAsync(string group, CancellationToken cancellationToken = default)
    {
        ValidateName(group, nameof(group));
        return RequestAsync(new GroupMembersRequest { Group = group }, new GroupMembersPending(), cancellationToken);
    }

    /// <summary>
    /// Stores a group key wrapped for one member (admin only). The server forwards it to the member at once if online,
    /// and at every sign-in, as a <see cref="GroupKeyReceived"/>.
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="member">The member it is wrapped for.</param>
    /// <param name="epoch">The key's epoch.</param>
    /// <param name="envelope">The wrapped key (opaque to the servers); copied before the method returns.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>A task that completes when the server has stored the envelope.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is empty or too long, or <paramref name="envelope"/> is larger than <see cref="MaxBodySize"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotAdmin"/>, <see cref="ErrorCode.NotMember"/>, <see cref="ErrorCode.GroupNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No session, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task SendGroupKeyEnvelopeAsync(string group, string member, int epoch, ReadOnlyMemory<byte> envelope, CancellationToken cancellationToken = default)
    {
        ValidateName(group, nameof(group));
        ValidateName(member, nameof(member));
        ValidateSize(envelope, nameof(envelope));
        return RequestAsync(new GroupKeyEnvelope { Group = group, Member = member, Epoch = epoch, Envelope = new(envelope) }, new OkRequest(), cancellationToken);
    }

    /// <summary>Fetches a user's public keys.</summary>
    /// <param name="userName">The user.</param>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The user's agreement and signing public keys.</returns>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.UserNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No session, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<UserPublicKeys> GetPublicKeysAsync(string userName, CancellationToken cancellationToken = default)
    {
        ValidateName(userName, nameof(userName));
        return RequestAsync(new PublicKeysRequest { UserName = userName }, new PublicKeysPending(), cancellationToken);
    }

    /// <summary>Measures the round trip to the current server.</summary>
    /// <param name="cancellationToken">Stops waiting for the reply.</param>
    /// <returns>The time between sending <c>Ping</c> and receiving <c>Pong</c>.</returns>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No session, or no reply, within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default) =>
        RequestAsync(new Ping { Timestamp = Stopwatch.GetTimestamp() }, new PingPending(), cancellationToken);

    private async Task<TResult> RequestAsync<TMessage, TResult>(TMessage message, PendingRequest<TResult> pending, CancellationToken cancellationToken)
        where TMessage : struct, IMessage<TMessage>
    {
        ServerSession session = await WaitForSessionAsync(cancellationToken).ConfigureAwait(false);
        return await session.RequestAsync(pending, message, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
    }
}
