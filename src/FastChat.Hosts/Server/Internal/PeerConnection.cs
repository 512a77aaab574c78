using System.Buffers;
using FastChat.Protocol;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// One authenticated link to another chat server (docs/protocol.md §5.4), opened by either side: <c>Hello</c>, then
/// <c>PeerLink{id, issuedAt, proof("peer")}</c> answered by <c>Ok</c>, then <c>Relay</c> and <c>Presence</c> frames both
/// ways. Whichever link to a server is open carries traffic in both directions.
/// </summary>
/// <remarks>
/// <para>A <c>Relay</c>'s request id is its hop count: 0 from the sender's server, 1 when the receiving server forwards
/// it once more because the user moved (a copy that has travelled a hop is stored rather than forwarded again).</para>
/// <para>Receipts for a relayed copy travel back as <c>Relay{server, sender, inner}</c>: <c>Ack{id}</c> when the copy was
/// stored, <c>Delivered{id, recipient}</c> when the recipient acked it (for group copies, always <c>Delivered</c>, naming
/// the member whose copy is settled).</para>
/// </remarks>
internal sealed class PeerConnection : IFrameHandler
{
    // Receivers reject link proofs issued further than this from their clock (ClusterKey.ComputeProof).
    private static readonly TimeSpan s_proofWindow = TimeSpan.FromMinutes(5);

    private const int AwaitingHello = 0;
    private const int AwaitingAuthentication = 1;
    private const int Ready = 2;

    private readonly ServerContext _context;
    private readonly FramedConnection _connection;
    private readonly bool _outbound;
    private readonly TaskCompletionSource<bool> _authenticated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    private PeerConnection(ServerContext context, FramedConnection connection, bool outbound, string remoteId, int state)
    {
        _context = context;
        _connection = connection;
        _outbound = outbound;
        RemoteId = remoteId;
        _state = state;
    }

    /// <summary>The other server's id (known once the link is authenticated, for inbound links).</summary>
    public string RemoteId { get; private set; }

    public FramedConnection Connection => _connection;

    public FlushBatch Batch { get; } = new();

    public bool IsOutbound => _outbound;

    public bool IsReady => Volatile.Read(ref _state) == Ready;

    public bool IsOpen => IsReady && !_connection.IsClosed;

    /// <summary>Completes with whether the handshake succeeded (outbound links).</summary>
    public Task<bool> Authenticated => _authenticated.Task;

    public static PeerConnection Outbound(ServerContext context, FramedConnection connection, string remoteId) =>
        new(context, connection, outbound: true, remoteId, AwaitingHello);

    /// <summary>An accepted connection whose <c>Hello</c> said Server (and was answered): it must authenticate next.</summary>
    public static PeerConnection Inbound(ServerContext context, FramedConnection connection) =>
        new(context, connection, outbound: false, string.Empty, AwaitingAuthentication);

    /// <summary>Sends <c>Hello</c> and <c>PeerLink</c> on a new outbound connection.</summary>
    public void StartHandshake()
    {
        DateTime issuedAt = _context.UtcNow;
        _connection.TryWriteMessage(0, ConnectionHandler.ServerHello);
        _connection.TryWriteMessage(1, new PeerLink
        {
            ServerId = _context.ServerId,
            IssuedAt = issuedAt,
            Proof = new ReadOnlySequence<byte>(_context.ClusterKey.ComputeProof("peer", _context.ServerId, issuedAt)),
        });
        _connection.TryFlush();
    }

    // ---- Receiving ------------------------------------------------------------------------------------------

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        return OnMessageAsync(in header, ref reader, cancellationToken);
    }

    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        _connection.TryFlush();
        Batch.Flush();
        return default;
    }

    public void OnProtocolViolation(FramedConnection connection, ProtocolViolationException exception) =>
        _connection.TryWriteError(0, exception is FrameTooLargeException ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolViolation, exception.Message);

    /// <summary>Handles one message; <paramref name="reader"/> is just past the header.</summary>
    public ValueTask OnMessageAsync(in MessageHeader header, ref MessagePackReader reader, CancellationToken cancellationToken)
    {
        switch (Volatile.Read(ref _state))
        {
            case AwaitingHello:
                OnHello(in header, ref reader);
                return default;
            case AwaitingAuthentication when _outbound:
                OnAuthenticationReply(in header, ref reader);
                return default;
            case AwaitingAuthentication:
                OnPeerLink(in header, ref reader);
                return default;
        }

        switch (header.Opcode)
        {
            case Opcode.Relay:
                return OnRelay(in header, ref reader, cancellationToken);
            case Opcode.Presence:
                _context.Router.OnPresence(MessageSerializer.ReadBody<Presence>(ref reader, header));
                return default;
            case Opcode.Ping:
                _connection.TryWriteMessage(header.RequestId, new Pong { Timestamp = MessageSerializer.ReadBody<Ping>(ref reader, header).Timestamp });
                return default;
            default:
                // Pong, Ok, Error and anything newer: nothing to do.
                return default;
        }
    }

    private void OnHello(in MessageHeader header, ref MessagePackReader reader)
    {
        if (header.Opcode != Opcode.Hello)
        {
            Fail($"expected Hello, got {header.Opcode}");
            return;
        }

        Hello hello = MessageSerializer.ReadBody<Hello>(ref reader, header);
        if (hello.ProtocolVersion != ProtocolConstants.ProtocolVersion || hello.Role != PeerRole.Server)
        {
            Fail($"the peer speaks protocol {hello.ProtocolVersion} as {hello.Role}");
            return;
        }

        Volatile.Write(ref _state, AwaitingAuthentication);
    }

    private void OnAuthenticationReply(in MessageHeader header, ref MessagePackReader reader)
    {
        if (header.Opcode == Opcode.Ok)
        {
            Volatile.Write(ref _state, Ready);
            _authenticated.TrySetResult(true);
            return;
        }

        string reason = header.Opcode == Opcode.Error
            ? MessageSerializer.ReadBody<Error>(ref reader, header).Message
            : $"expected Ok, got {header.Opcode}";
        Fail(reason);
    }

    private void OnPeerLink(in MessageHeader header, ref MessagePackReader reader)
    {
        if (header.Opcode != Opcode.PeerLink)
        {
            Refuse(header.RequestId, $"expected PeerLink, got {header.Opcode}");
            return;
        }

        PeerLink link = MessageSerializer.ReadBody<PeerLink>(ref reader, header);
        TimeSpan skew = (_context.UtcNow - link.IssuedAt.ToUniversalTime()).Duration();
        Span<byte> proof = stackalloc byte[32];
        if (link.Proof.Length != proof.Length || link.ServerId.Length == 0)
        {
            Refuse(header.RequestId, "the proof is malformed");
            return;
        }

        link.Proof.CopyTo(proof);
        if (skew > s_proofWindow || !_context.ClusterKey.VerifyProof("peer", link.ServerId, link.IssuedAt, proof))
        {
            Refuse(header.RequestId, skew > s_proofWindow ? $"the proof was issued {skew} away from this server's clock" : "the proof does not match the cluster key");
            return;
        }

        RemoteId = link.ServerId;
        Volatile.Write(ref _state, Ready);
        _connection.TryWriteMessage(header.RequestId, new Ok());
        _context.Peers.OnReady(this);
    }

    private ValueTask OnRelay(in MessageHeader header, ref MessagePackReader reader, CancellationToken cancellationToken)
    {
        Relay relay = MessageSerializer.ReadBody<Relay>(ref reader, header);
        ReadOnlySequence<byte> inner = relay.Frame;
        try
        {
            var innerReader = new MessagePackReader(inner);
            MessageHeader innerHeader = MessageSerializer.ReadHeader(ref innerReader);
            switch (innerHeader.Opcode)
            {
                case Opcode.DirectMessage:
                    DirectMessage direct = MessageSerializer.ReadBody<DirectMessage>(ref innerReader, innerHeader);
                    return _context.Router.OnRelayedMessageAsync(this, header.RequestId, relay.Recipient, in inner, direct.Id, direct.Sender, groupCopy: false, cancellationToken);
                case Opcode.GroupMessage:
                    GroupMessage group = MessageSerializer.ReadBody<GroupMessage>(ref innerReader, innerHeader);
                    return _context.Router.OnRelayedMessageAsync(this, header.RequestId, relay.Recipient, in inner, group.Id, group.Sender, groupCopy: true, cancellationToken);
                case Opcode.Ack:
                    _context.Router.OnReceipt(relay.Recipient, MessageSerializer.ReadBody<Ack>(ref innerReader, innerHeader).Id, string.Empty, Batch);
                    return default;
                case Opcode.Delivered:
                    Delivered delivered = MessageSerializer.ReadBody<Delivered>(ref innerReader, innerHeader);
                    _context.Router.OnReceipt(relay.Recipient, delivered.Id, delivered.Recipient, Batch);
                    return default;
                case Opcode.GroupChanged:
                    _context.Groups.Invalidate(MessageSerializer.ReadBody<GroupChanged>(ref innerReader, innerHeader).Group);
                    _context.Router.OnRelayedNotice(relay.Recipient, in inner, Batch);
                    return default;
                case Opcode.GroupKeyEnvelope:
                    _context.Router.OnRelayedNotice(relay.Recipient, in inner, Batch);
                    return default;
                default:
                    return default;
            }
        }
        catch (ProtocolViolationException ex)
        {
            // The relay frame itself was fine: drop the bad inner message, keep the link.
            ServerLog.BadMessage(_context.Logger, _connection.Id, Opcode.Relay, ex.Message);
            return default;
        }
    }

    // ---- Sending (thread-safe; the caller flushes) ------------------------------------------------------------

    /// <summary>Writes <c>Relay{this server, recipient, inner}</c>; <see langword="false"/> if the link is closed or the frame would be too large.</summary>
    public bool TrySendRelay(uint hop, string recipient, ReadOnlySpan<byte> inner)
    {
        // Array header, two strings with their headers, a bin header: 64 bytes is ample besides the names.
        long size = inner.Length + 64 + (3L * (recipient.Length + _context.ServerId.Length));
        if (size > _connection.MaxFrameSize || !IsOpen)
        {
            return false;
        }

        using FrameWriteScope scope = _connection.BeginWrite();
        if (!scope.IsActive)
        {
            return false;
        }

        var writer = new MessagePackWriter(scope.Writer);
        FramePrefix prefix = FrameWriter.BeginFrame(ref writer);
        writer.WriteArrayHeader(2 + Relay.FieldCount);
        writer.Write((uint)Opcode.Relay);
        writer.Write(hop);
        writer.Write(_context.ServerId);
        writer.Write(recipient);
        writer.Write(inner);
        FrameWriter.EndFrame(ref writer, prefix, _connection.MaxFrameSize);
        writer.Flush();
        return true;
    }

    /// <summary>Writes a receipt for a copy this server took over from the peer: <c>Delivered{id, recipient}</c>, or <c>Ack{id}</c> when <paramref name="deliveredTo"/> is empty.</summary>
    public bool TrySendReceipt(string sender, MessageId id, string deliveredTo)
    {
        PayloadBuffer inner = deliveredTo.Length == 0
            ? FrameWriting.ToPayload(0, new Ack { Id = id }, 32)
            : FrameWriting.ToPayload(0, new Delivered { Id = id, Recipient = deliveredTo }, 64 + deliveredTo.Length);
        try
        {
            return TrySendRelay(0, sender, inner.Span);
        }
        finally
        {
            inner.Release();
        }
    }

    public bool TrySendPresence(string userName, bool online, string serverId) =>
        IsOpen && _connection.TryWriteMessage(0, new Presence { UserName = userName, Online = online, ServerId = serverId });

    public bool TrySendPing()
    {
        bool written = IsOpen && _connection.TryWriteMessage(0, new Ping { Timestamp = _context.TimeProvider.GetTimestamp() });
        return written && _connection.TryFlush();
    }

    // ---- Failure --------------------------------------------------------------------------------------------

    private void Fail(string reason)
    {
        ServerLog.PeerLinkFailed(_context.Logger, RemoteId, reason);
        _authenticated.TrySetResult(false);
        _ = _connection.CloseAsync(CloseReason.ProtocolViolation).AsTask();
    }

    private void Refuse(uint requestId, string reason)
    {
        ServerLog.PeerAuthenticationFailed(_context.Logger, _connection.Id, _connection.RemoteEndPoint, reason);
        _connection.TryWriteError(requestId, ErrorCode.AuthenticationFailed, "The peer link was refused: " + reason + ".");
        _ = _connection.CloseAsync(CloseReason.ProtocolViolation).AsTask();
    }

    /// <summary>The connection ended: a pending handshake fails.</summary>
    public void OnClosed() => _authenticated.TrySetResult(false);
}
