using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Internal;

/// <summary>What an <see cref="OutboxEntry"/> carries.</summary>
internal enum OutboxKind
{
    Direct,
    Group,
    DirectFile,
    GroupFile,
}

/// <summary>
/// A message, group message or file that waits in the outbox for the server's <c>Ack</c>. The server's ack is
/// matched by message id; an <c>Error</c> reply by the request id it was last sent with.
/// </summary>
/// <remarks>
/// The entry keeps the caller's memory (body, envelope, chunks) without copying it: it may be written again on the
/// next session after a reconnect. The public send methods document that the caller must leave it unchanged until
/// the returned task completes.
/// </remarks>
internal sealed class OutboxEntry : PendingRequest<MessageId>
{
    private readonly ChatClient _owner;

    public OutboxEntry(ChatClient owner, OutboxKind kind, MessageId id, string target, int keyEpoch, DateTime sentAt, ReadOnlyMemory<byte> body)
    {
        _owner = owner;
        Kind = kind;
        Id = id;
        Target = target;
        KeyEpoch = keyEpoch;
        SentAt = sentAt;
        Body = body;
        Chunks = [];
    }

    public OutboxKind Kind { get; }

    /// <summary>Files are resent by the sending call itself (it owns the back-pressure), not by the reconnection.</summary>
    public bool IsFile => Kind is OutboxKind.DirectFile or OutboxKind.GroupFile;

    public MessageId Id { get; }

    /// <summary>The recipient (direct message or direct file) or the group.</summary>
    public string Target { get; }

    public int KeyEpoch { get; }

    public DateTime SentAt { get; }

    /// <summary>The body of a message; the envelope of a file.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    public long TotalSize { get; init; }

    public IReadOnlyList<ReadOnlyMemory<byte>> Chunks { get; init; }

    /// <summary>The order the application sent it in: resends keep it.</summary>
    public long Sequence { get; set; }

    /// <summary>The session generation it was last written on (guarded by the client's lock); 0 = not yet written.</summary>
    public int Generation { get; set; }

    public override bool SurvivesDisconnect => true;

    protected override Opcode ReplyOpcode => Opcode.Ack;

    public void Succeed() => TrySetResult(Id);

    public override void OnError(ChatException error)
    {
        // A server that is going away refuses new work; the message stays in the outbox and is resent on the next
        // server. Every other error is final for this message.
        if (error.ErrorCode == ErrorCode.ShuttingDown)
        {
            return;
        }

        _owner.RemoveFromOutbox(this);
        base.OnError(error);
    }

    public override void Fail(Exception error)
    {
        _owner.RemoveFromOutbox(this);
        base.Fail(error);
    }

    protected override MessageId ReadResult(ref MessagePackReader reader, in MessageHeader header)
    {
        _owner.RemoveFromOutbox(this);
        return MessageSerializer.ReadBody<Ack>(ref reader, header).Id;
    }
}
