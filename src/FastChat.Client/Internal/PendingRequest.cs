using System.Buffers;
using System.Diagnostics;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Internal;

/// <summary>A request waiting for its reply on one connection, found by request id.</summary>
internal abstract class PendingRequest
{
    /// <summary>The request id on the connection it was last sent on.</summary>
    public uint RequestId { get; set; }

    /// <summary>
    /// <see langword="true"/> for outbox messages: when the connection is lost they keep waiting, to be resent on the
    /// next session, instead of failing.
    /// </summary>
    public virtual bool SurvivesDisconnect => false;

    /// <summary>Handles a reply; the reader is positioned at its first field.</summary>
    /// <exception cref="ProtocolViolationException">The reply is malformed.</exception>
    public abstract void OnReply(ref MessagePackReader reader, in MessageHeader header);

    /// <summary>Handles an <c>Error</c> reply.</summary>
    public abstract void OnError(ChatException error);

    /// <summary>Fails the request (connection lost, disposal, malformed reply).</summary>
    public abstract void Fail(Exception error);
}

/// <summary>A request whose reply becomes a <typeparamref name="TResult"/>.</summary>
internal abstract class PendingRequest<TResult> : PendingRequest
{
    // Continuations run off the receive loop: a caller that does slow work after the await must not stall reading.
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<TResult> Task => _completion.Task;

    protected abstract Opcode ReplyOpcode { get; }

    public override void OnReply(ref MessagePackReader reader, in MessageHeader header)
    {
        if (header.Opcode != ReplyOpcode)
        {
            Fail(new ProtocolViolationException($"Expected {ReplyOpcode} in reply, but the peer sent {header.Opcode}."));
            return;
        }

        _completion.TrySetResult(ReadResult(ref reader, header));
    }

    public override void OnError(ChatException error) => _completion.TrySetException(error);

    public override void Fail(Exception error) => _completion.TrySetException(error);

    protected bool TrySetResult(TResult result) => _completion.TrySetResult(result);

    /// <summary>Reads the reply and copies what must outlive the receive buffer.</summary>
    protected abstract TResult ReadResult(ref MessagePackReader reader, in MessageHeader header);
}

/// <summary>A request answered with <c>Ok</c>.</summary>
internal sealed class OkRequest : PendingRequest<bool>
{
    protected override Opcode ReplyOpcode => Opcode.Ok;

    protected override bool ReadResult(ref MessagePackReader reader, in MessageHeader header)
    {
        MessageSerializer.ReadBody<Ok>(ref reader, header);
        return true;
    }
}

/// <summary>The handshake: <c>Hello</c> answered with <c>Hello</c>, whose protocol version must be ours.</summary>
internal sealed class HelloRequest : PendingRequest<Hello>
{
    protected override Opcode ReplyOpcode => Opcode.Hello;

    public override void OnReply(ref MessagePackReader reader, in MessageHeader header)
    {
        Hello hello = MessageSerializer.ReadBody<Hello>(ref reader, header);
        if (hello.ProtocolVersion != ProtocolConstants.ProtocolVersion)
        {
            Fail(new ChatException(
                ErrorCode.UnsupportedVersion,
                $"The peer speaks protocol version {hello.ProtocolVersion}; this client speaks version {ProtocolConstants.ProtocolVersion}."));
            return;
        }

        TrySetResult(hello);
    }

    protected override Hello ReadResult(ref MessagePackReader reader, in MessageHeader header) =>
        MessageSerializer.ReadBody<Hello>(ref reader, header);
}

/// <summary>A user's key-derivation parameters, copied out of the frame.</summary>
internal sealed record KdfParameterSet(string Algorithm, byte[] Salt, int Iterations);

/// <summary><c>KdfParametersRequest</c> answered with <c>KdfParameters</c>.</summary>
internal sealed class KdfParametersPending : PendingRequest<KdfParameterSet>
{
    protected override Opcode ReplyOpcode => Opcode.KdfParameters;

    protected override KdfParameterSet ReadResult(ref MessagePackReader reader, in MessageHeader header)
    {
        KdfParameters parameters = MessageSerializer.ReadBody<KdfParameters>(ref reader, header);
        return new KdfParameterSet(parameters.Algorithm, parameters.Salt.ToArray(), parameters.Iterations);
    }
}

/// <summary>The balancer's assignment, copied out of the frame.</summary>
internal sealed record Assignment(
    string UserName,
    string ServerId,
    string Host,
    int Port,
    byte[] SessionToken,
    DateTime ExpiresAt,
    AccountKeys Keys);

/// <summary><c>SignUp</c> or <c>SignIn</c> answered with <c>Assigned</c>.</summary>
internal sealed class AssignmentPending : PendingRequest<Assignment>
{
    protected override Opcode ReplyOpcode => Opcode.Assigned;

    protected override Assignment ReadResult(ref MessagePackReader reader, in MessageHeader header)
    {
        Assigned assigned = MessageSerializer.ReadBody<Assigned>(ref reader, header);
        var keys = new AccountKeys(assigned.AgreementPublicKey.ToArray(), assigned.SigningPublicKey.ToArray(), assigned.WrappedPrivateKeys.ToArray());
        return new Assignment(assigned.UserName, assigned.ServerId, assigned.Host, assigned.Port, assigned.SessionToken.ToArray(), assigned.ExpiresAt, keys);
    }
}

/// <summary><c>Resume</c> answered with <c>Resumed</c>.</summary>
internal sealed class ResumePending : PendingRequest<Resumed>
{
    protected override Opcode ReplyOpcode => Opcode.Resumed;

    // Resumed holds only strings and numbers: nothing borrowed from the frame.
    protected override Resumed ReadResult(ref MessagePackReader reader, in MessageHeader header) =>
        MessageSerializer.ReadBody<Resumed>(ref reader, header);
}

/// <summary><c>GroupMembersRequest</c> answered with <c>GroupMembers</c>.</summary>
internal sealed class GroupMembersPending : PendingRequest<GroupMembersInfo>
{
    protected override Opcode ReplyOpcode => Opcode.GroupMembers;

    protected override GroupMembersInfo ReadResult(ref MessagePackReader reader, in MessageHeader header)
    {
        GroupMembers members = MessageSerializer.ReadBody<GroupMembers>(ref reader, header);
        return new GroupMembersInfo(members.Group, members.Admin, members.KeyEpoch, members.Members);
    }
}

/// <summary><c>PublicKeysRequest</c> answered with <c>PublicKeys</c>.</summary>
internal sealed class PublicKeysPending : PendingRequest<UserPublicKeys>
{
    protected override Opcode ReplyOpcode => Opcode.PublicKeys;

    protected override UserPublicKeys ReadResult(ref MessagePackReader reader, in MessageHeader header)
    {
        PublicKeys keys = MessageSerializer.ReadBody<PublicKeys>(ref reader, header);
        return new UserPublicKeys(keys.UserName, keys.AgreementPublicKey.ToArray(), keys.SigningPublicKey.ToArray());
    }
}

/// <summary><c>Ping</c> answered with <c>Pong</c>: the round trip.</summary>
internal sealed class PingPending : PendingRequest<TimeSpan>
{
    protected override Opcode ReplyOpcode => Opcode.Pong;

    protected override TimeSpan ReadResult(ref MessagePackReader reader, in MessageHeader header)
    {
        Pong pong = MessageSerializer.ReadBody<Pong>(ref reader, header);
        return Stopwatch.GetElapsedTime(pong.Timestamp);
    }
}
