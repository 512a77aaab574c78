using System.Buffers;
using System.Runtime.InteropServices;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// One client's session on this server (docs/protocol.md §5.2): <c>Resume</c> first, then pending items drained in
/// order, then live traffic. Frames are handled on the connection's read loop; deliveries to this session arrive from
/// other loops through <see cref="MessageRouter.TryDeliverLocal"/> and are tracked in <see cref="Tracker"/>.
/// </summary>
/// <remarks>
/// While the queue is being drained the session takes no live deliveries: they go to the store and the drain picks
/// them up behind what was already pending, which keeps everything in order. Requests to drain again (something was
/// stored for this user after all) only set a flag the running drain sees before it finishes.
/// </remarks>
internal sealed partial class ClientSession
{
    private const int AwaitingResume = 0;
    private const int Resuming = 1;
    private const int Resumed = 2;
    private const int Closed = 3;

    // Pending items read from the store per query while draining.
    private const int DrainBatchSize = 64;

    // While draining, written frames are flushed (and the drain waits for a slow reader) every this many bytes.
    private const int DrainFlushBytes = 64 * 1024;

    private readonly ServerContext _context;
    private readonly MessageRouter _router;
    private readonly FramedConnection _connection;
    private readonly DeliveryTracker _tracker = new();
    private readonly bool _ackBatch;
    private string _userName = string.Empty;
    private int _state;
    private int _drainRequested;
    private int _drainRunning;
    private long _drainCursor;
    private int _slowConsumer;
    private bool _signedOut;
    private bool _replaced;
    private bool _counted;

    public ClientSession(ServerContext context, FramedConnection connection, bool ackBatch)
    {
        _ackBatch = ackBatch;
        _context = context;
        _router = context.Router;
        _connection = connection;
    }

    /// <summary>The signed-in user (empty until <c>Resume</c> succeeds).</summary>
    public string UserName => _userName;

    public FramedConnection Connection => _connection;

    public DeliveryTracker Tracker => _tracker;

    /// <summary>Whether the client negotiated <see cref="ProtocolFeatures.AckBatch"/>: it sends and receives <c>AckBatch</c>/<c>DeliveredBatch</c>.</summary>
    public bool AckBatchEnabled => _ackBatch;

    /// <summary>Connections this session's read loop wrote to during the current batch.</summary>
    public FlushBatch Batch { get; } = new();

    /// <summary>Whether a message may be written to this session now (resumed, not draining, not ending).</summary>
    public bool CanDeliverLive => Volatile.Read(ref _state) == Resumed && Volatile.Read(ref _drainRunning) == 0;

    private bool IsResumed => Volatile.Read(ref _state) == Resumed;

    private CancellationToken Stopping => _context.Stopping;

    // ---- Dispatch -------------------------------------------------------------------------------------------

    /// <summary>Handles one message; <paramref name="reader"/> is just past the header.</summary>
    public ValueTask OnMessageAsync(in ReadOnlySequence<byte> payload, in MessageHeader header, ref MessagePackReader reader, CancellationToken cancellationToken)
    {
        uint requestId = header.RequestId;
        if (!IsResumed)
        {
            return OnMessageBeforeResume(in header, ref reader, cancellationToken);
        }

        switch (header.Opcode)
        {
            case Opcode.DirectMessage:
                if (!TryReadRoute(ref reader, in header, out DirectMessageRoute direct) || !CheckSender(direct.Sender, requestId))
                {
                    return default;
                }

                return _router.RouteDirectAsync(this, requestId, in direct, payload.Length, Batch, cancellationToken);

            case Opcode.GroupMessage:
                if (!TryRead(ref reader, in header, out GroupMessage group) || !CheckSender(group.Sender, requestId))
                {
                    return default;
                }

                return _router.RouteGroupAsync(this, requestId, in group, payload.Length, Batch, cancellationToken);

            case Opcode.Ack:
                return TryRead(ref reader, in header, out Ack ack) ? OnAck(ack.Id) : default;

            case Opcode.AckBatch when _ackBatch:
                return OnAckBatch(ref reader, in header);

            case Opcode.AckBatch:
                WriteError(requestId, ErrorCode.Unexpected, $"AckBatch needs the '{ProtocolFeatures.AckBatch}' feature: list it in your Hello.");
                return default;

            case Opcode.GroupCreate:
                return TryRead(ref reader, in header, out GroupCreate create) ? CreateGroupAsync(requestId, create.Group) : default;

            case Opcode.GroupAddMember:
                return TryRead(ref reader, in header, out GroupAddMember add) ? AddMemberAsync(requestId, add.Group, add.Member) : default;

            case Opcode.GroupRemoveMember:
                return TryRead(ref reader, in header, out GroupRemoveMember remove) ? RemoveMemberAsync(requestId, remove.Group, remove.Member) : default;

            case Opcode.GroupLeave:
                return TryRead(ref reader, in header, out GroupLeave leave) ? LeaveGroupAsync(requestId, leave.Group) : default;

            case Opcode.GroupMembersRequest:
                return TryRead(ref reader, in header, out GroupMembersRequest members) ? ListMembersAsync(requestId, members.Group) : default;

            case Opcode.GroupKeyEnvelope:
                if (!TryRead(ref reader, in header, out GroupKeyEnvelope envelope) || !CheckSender(envelope.Sender, requestId))
                {
                    return default;
                }

                return PutKeyEnvelopeAsync(requestId, envelope.Group, envelope.Member, envelope.Epoch, envelope.Envelope.ToArray());

            case Opcode.PublicKeysRequest:
                return TryRead(ref reader, in header, out PublicKeysRequest keys) ? SendPublicKeysAsync(requestId, keys.UserName) : default;

            case Opcode.FileOffer:
                if (!TryRead(ref reader, in header, out FileOffer offer) || !CheckSender(offer.Sender, requestId))
                {
                    return default;
                }

                return OnFileOfferAsync(requestId, offer);

            case Opcode.FileChunk:
                return TryRead(ref reader, in header, out FileChunk chunk) ? OnFileChunkAsync(requestId, chunk.FileId, chunk.Index, chunk.Data.Length, payload.ToArray()) : default;

            case Opcode.FileComplete:
                return TryRead(ref reader, in header, out FileComplete complete) ? OnFileCompleteAsync(requestId, complete.FileId, complete.ChunkCount, payload.ToArray()) : default;

            case Opcode.SignOut:
                return SignOutAsync(requestId);

            case Opcode.Resume:
                WriteError(requestId, ErrorCode.Unexpected, "The session is already resumed.");
                return default;

            default:
                return OnOtherMessage(in header, ref reader);
        }
    }

    private ValueTask OnMessageBeforeResume(in MessageHeader header, ref MessagePackReader reader, CancellationToken cancellationToken)
    {
        switch (header.Opcode)
        {
            case Opcode.Resume when Volatile.Read(ref _state) == AwaitingResume:
                return TryRead(ref reader, in header, out Resume resume) ? BeginResume(header.RequestId, in resume, cancellationToken) : default;

            case Opcode.Resume:
                WriteError(header.RequestId, ErrorCode.Unexpected, "The session is already being resumed.");
                return default;

            case Opcode.Ping:
            case Opcode.Pong:
                return OnOtherMessage(in header, ref reader);

            default:
                if (Enum.IsDefined(header.Opcode))
                {
                    WriteError(header.RequestId, ErrorCode.Unexpected, $"{header.Opcode} is not allowed before Resume: send Resume with your session token first.");
                    return default;
                }

                return OnOtherMessage(in header, ref reader);
        }
    }

    // Ping and Pong in any state; unknown opcodes are skipped (docs/protocol.md §4), known ones this server does not serve get an error.
    private ValueTask OnOtherMessage(in MessageHeader header, ref MessagePackReader reader)
    {
        switch (header.Opcode)
        {
            case Opcode.Ping:
                if (TryRead(ref reader, in header, out Ping ping))
                {
                    _connection.TryWriteMessage(header.RequestId, new Pong { Timestamp = ping.Timestamp });
                }

                return default;

            case Opcode.Pong:
            case Opcode.Error:
                // Never answer an error with an error.
                return default;

            default:
                if (Enum.IsDefined(header.Opcode))
                {
                    WriteError(header.RequestId, ErrorCode.Unexpected, $"{header.Opcode} is not something a client sends to a chat server.");
                }
                else if (header.RequestId != 0)
                {
                    WriteError(header.RequestId, ErrorCode.UnknownOpcode, $"Opcode 0x{(byte)header.Opcode:x2} is not known to this server; the message was skipped.");
                }

                return default;
        }
    }

    // A bad message in an intact frame: reply with the request id and keep the connection (docs/protocol.md §4).
    private bool TryRead<T>(ref MessagePackReader reader, in MessageHeader header, out T message)
        where T : struct, IMessage<T>
    {
        try
        {
            message = MessageSerializer.ReadBody<T>(ref reader, header);
            return true;
        }
        catch (ProtocolViolationException ex)
        {
            ServerLog.BadMessage(_context.Logger, _connection.Id, header.Opcode, ex.Message);
            WriteError(header.RequestId, ErrorCode.ProtocolViolation, ex.Message);
            message = default;
            return false;
        }
    }

    // As TryRead, for a direct message read only as far as routing it needs (it is forwarded, not re-encoded).
    private bool TryReadRoute(ref MessagePackReader reader, in MessageHeader header, out DirectMessageRoute route)
    {
        try
        {
            route = DirectMessageRoute.Read(ref reader, in header);
            return true;
        }
        catch (ProtocolViolationException ex)
        {
            ServerLog.BadMessage(_context.Logger, _connection.Id, header.Opcode, ex.Message);
            WriteError(header.RequestId, ErrorCode.ProtocolViolation, ex.Message);
            route = default;
            return false;
        }
    }

    // Clients send an empty sender; the server fills it in. Claiming to be someone else is refused.
    private bool CheckSender(string sender, uint requestId)
    {
        if (sender.Length == 0 || string.Equals(sender, _userName, StringComparison.Ordinal))
        {
            return true;
        }

        WriteError(requestId, ErrorCode.ProtocolViolation, $"The sender is filled in by the server; you are '{_userName}', not '{sender}'.");
        return false;
    }

    // ---- Writing to this session (thread-safe) -------------------------------------------------------------

    /// <summary>Writes an error reply from this session's own loop.</summary>
    public void WriteError(uint requestId, ErrorCode code, string message) => _connection.TryWriteError(requestId, code, message);

    /// <summary>Writes an error from another loop (the flush happens with that loop's batch).</summary>
    public void WriteError(uint requestId, ErrorCode code, string message, FlushBatch batch)
    {
        if (_connection.TryWriteError(requestId, code, message))
        {
            batch.Add(_connection);
        }
    }

    /// <summary>
    /// Tells this (sending) session that its message was taken care of: <c>Ack</c>, plus <c>Delivered</c> when the recipient
    /// acked it. A client that negotiated <see cref="ProtocolFeatures.AckBatch"/> gets them coalesced with the others of
    /// <paramref name="batch"/>, written when the batch is flushed.
    /// </summary>
    public void Acknowledge(uint requestId, MessageId id, string? deliveredTo, FlushBatch batch)
    {
        if (Volatile.Read(ref _state) != Resumed)
        {
            // Gone: the client resends from its outbox after reconnecting and gets its ack then.
            return;
        }

        if (_ackBatch)
        {
            // The client matches acks by message id, not by request id, so nothing is lost by leaving the latter out.
            batch.AddAck(this, id, deliveredTo);
            return;
        }

        _connection.TryWriteMessage(requestId, new Ack { Id = id });
        if (deliveredTo is not null)
        {
            _connection.TryWriteMessage(0, new Delivered { Id = id, Recipient = deliveredTo });
        }

        batch.Add(_connection);
    }

    /// <summary>Writes one <c>AckBatch</c> (not flushed) if the session is still resumed; see <see cref="FlushBatch"/>.</summary>
    /// <returns><see langword="true"/> if it was written.</returns>
    public bool TryWriteAckBatch(ReadOnlySpan<MessageId> ids)
    {
        if (Volatile.Read(ref _state) != Resumed)
        {
            return false;
        }

        int perFrame = IdsPerFrame(0);
        while (!ids.IsEmpty)
        {
            ReadOnlySpan<MessageId> chunk = ids[..Math.Min(ids.Length, perFrame)];
            using (FrameWriteScope scope = _connection.BeginWrite())
            {
                if (!scope.IsActive)
                {
                    return false;
                }

                AckBatch.WriteFrame(scope.Writer, 0, chunk, _connection.MaxFrameSize);
            }

            ids = ids[chunk.Length..];
        }

        return true;
    }

    /// <summary>Writes one <c>DeliveredBatch</c> (not flushed) if the session is still resumed; see <see cref="FlushBatch"/>.</summary>
    /// <returns><see langword="true"/> if it was written.</returns>
    public bool TryWriteDeliveredBatch(string recipient, ReadOnlySpan<MessageId> ids)
    {
        if (Volatile.Read(ref _state) != Resumed)
        {
            return false;
        }

        int perFrame = IdsPerFrame(recipient.Length);
        while (!ids.IsEmpty)
        {
            ReadOnlySpan<MessageId> chunk = ids[..Math.Min(ids.Length, perFrame)];
            using (FrameWriteScope scope = _connection.BeginWrite())
            {
                if (!scope.IsActive)
                {
                    return false;
                }

                DeliveredBatch.WriteFrame(scope.Writer, 0, recipient, chunk, _connection.MaxFrameSize);
            }

            ids = ids[chunk.Length..];
        }

        return true;
    }

    // How many ids fit one batch frame under the connection's frame limit: 18 bytes each (bin 8 of 16), after at most
    // 16 bytes of array headers, opcode and request id, and a name of up to 3 UTF-8 bytes per char.
    private int IdsPerFrame(int nameLength) =>
        Math.Max(1, (_connection.MaxFrameSize - 16 - (3 * nameLength) - 5) / (MessageId.Size + 2));

    /// <summary>Writes a live-only notice (a payload without prefix) if the session is resumed.</summary>
    public void WriteNotice(ReadOnlySpan<byte> payload, FlushBatch batch)
    {
        if (IsResumed && _connection.TryWriteFrame(payload))
        {
            batch.Add(_connection);
        }
    }

    /// <summary>Writes a live-only notice (a payload without prefix) if the session is resumed.</summary>
    public void WriteNotice(in ReadOnlySequence<byte> payload, FlushBatch batch)
    {
        if (IsResumed && _connection.TryWriteFrame(payload))
        {
            batch.Add(_connection);
        }
    }

    /// <summary>The recipient stopped reading: tell it (best effort) and close; what it did not ack is stored as the session ends.</summary>
    public void DisconnectSlowConsumer()
    {
        if (Interlocked.Exchange(ref _slowConsumer, 1) != 0)
        {
            return;
        }

        long pending = _connection.PendingSendBytes;
        ServerLog.SlowConsumer(_context.Logger, _userName, _connection.Id, pending, _context.Options.MaxSendBufferBytes);
        _context.Metrics.SlowConsumer();
        _connection.TryWriteError(
            0,
            ErrorCode.SlowConsumer,
            $"Disconnected: {pending} B waited to be sent to you, over the limit of {_context.Options.MaxSendBufferBytes} B. Messages you did not acknowledge stay pending.");
        _ = _connection.CloseAsync(CloseReason.SlowConsumer).AsTask();
    }

    /// <summary>Tells the client to go back through the balancer (graceful shutdown).</summary>
    public void SendReconnect(string reason)
    {
        if (IsResumed)
        {
            _connection.TryWriteMessage(0, new Reconnect { Reason = reason, RetryAfterMilliseconds = 0 });
            _connection.TryFlush();
        }
        else
        {
            _ = _connection.CloseAsync(CloseReason.Shutdown).AsTask();
        }
    }

    // ---- Resume ---------------------------------------------------------------------------------------------

    private ValueTask BeginResume(uint requestId, in Resume resume, CancellationToken cancellationToken)
    {
        if (_context.IsShuttingDown)
        {
            Reject(requestId, ErrorCode.ShuttingDown, "The server is shutting down; sign in again through the balancer.");
            return default;
        }

        SessionTokenStatus status = SessionTokens.Validate(_context.ClusterKey, resume.SessionToken, _context.ServerId, _context.UtcNow, out string userName);
        if (status != SessionTokenStatus.Valid)
        {
            ServerLog.TokenRejected(_context.Logger, _connection.Id, status);
            switch (status)
            {
                case SessionTokenStatus.Expired:
                    Reject(requestId, ErrorCode.TokenExpired, "The session token has expired; sign in again through the balancer.");
                    break;
                case SessionTokenStatus.WrongServer:
                    Reject(requestId, ErrorCode.TokenInvalid, "The session token was issued for another server; connect to the server the balancer assigned.");
                    break;
                default:
                    Reject(requestId, ErrorCode.TokenInvalid, "The session token is not valid.");
                    break;
            }

            return default;
        }

        _userName = userName;

        // No live deliveries until the pending queue is drained: they go to the store, behind what is already there.
        Volatile.Write(ref _drainRunning, 1);
        Volatile.Write(ref _drainRequested, 1);
        Volatile.Write(ref _state, Resuming);
        return CompleteResumeAsync(requestId, cancellationToken);
    }

    private async ValueTask CompleteResumeAsync(uint requestId, CancellationToken cancellationToken)
    {
        _context.Sessions.Register(this)?.CloseReplaced();
        _context.RemotePresence.Forget(_userName);
        _context.Metrics.SessionStarted();
        _counted = true;

        int pending;
        IReadOnlyList<GroupKeyEnvelopeRecord> envelopes;
        try
        {
            await _context.Store.SetPresenceAsync(_userName, _context.ServerId, cancellationToken).ConfigureAwait(false);
            pending = await _context.Store.CountPendingAsync(_userName, cancellationToken).ConfigureAwait(false);
            envelopes = await _context.Store.GetGroupKeyEnvelopesAsync(_userName, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, $"resuming the session of {_userName}", ex);
            Reject(requestId, ErrorCode.InternalError, "The server could not open the session; try again.");
            return;
        }

        _connection.TryWriteMessage(requestId, new Resumed { UserName = _userName, ServerId = _context.ServerId, PendingCount = pending });
        foreach (GroupKeyEnvelopeRecord envelope in envelopes)
        {
            _connection.TryWriteMessage(0, new GroupKeyEnvelope
            {
                Group = envelope.Group,
                Member = envelope.Member,
                Epoch = envelope.Epoch,
                Sender = envelope.Sender,
                Envelope = new ReadOnlySequence<byte>(envelope.Envelope),
            });
        }

        if (Interlocked.CompareExchange(ref _state, Resumed, Resuming) != Resuming)
        {
            // Closed (or replaced) meanwhile.
            return;
        }

        _connection.TryFlush();
        ServerLog.SessionResumed(_context.Logger, _connection.Id, _userName, pending);
        _ = DrainLoopAsync();
    }

    /// <summary>A newer session of the same user took over: this one closes without clearing the user's presence.</summary>
    public void CloseReplaced()
    {
        _replaced = true;
        _connection.TryWriteError(0, ErrorCode.Unexpected, "This session was replaced by a newer session of the same user.");
        _ = _connection.CloseAsync(CloseReason.LocalClose).AsTask();
    }

    // Writes the error, then closes; the error is flushed before the FIN.
    private void Reject(uint requestId, ErrorCode code, string message)
    {
        _connection.TryWriteError(requestId, code, message);
        _ = _connection.CloseAsync(CloseReason.LocalClose).AsTask();
    }

    // ---- Acks and sign-out ----------------------------------------------------------------------------------

    private ValueTask OnAck(MessageId id)
    {
        if (_tracker.TryComplete(id, out InFlightDelivery delivery))
        {
            _router.Complete(in delivery, delivered: true, _userName, Batch);
            return default;
        }

        return DeleteStored(id);
    }

    // Not in flight: it came from the store (or was stored after a timeout), or it is a file's id. Its delete is
    // batched with the acks around it; the read loop waits only while a full batch is queued behind the store.
    private ValueTask DeleteStored(MessageId id)
    {
        _pendingDeletes ??= new PendingDeletes(_context.Store, _userName, _context.Logger, Stopping);
        return _pendingDeletes.AddAsync(id);
    }

    // Made at the first ack of a stored item (the user name is known by then); used only from the read loop.
    private PendingDeletes? _pendingDeletes;

    // The ids of the AckBatch being handled, and the deliveries it completed; reused, so a batch allocates nothing once
    // they have grown. Read loop only.
    private List<MessageId>? _batchIds;
    private List<InFlightDelivery>? _batchCompleted;

    // Every id is handled exactly as a single Ack of it would be, in order.
    private ValueTask OnAckBatch(ref MessagePackReader reader, in MessageHeader header)
    {
        List<MessageId> ids = _batchIds ??= new List<MessageId>(64);
        ids.Clear();
        try
        {
            AckBatch.ReadIds(ref reader, in header, ids);
        }
        catch (ProtocolViolationException ex)
        {
            // Nothing of a malformed batch is acted on: the client sends it again (or its ids singly).
            ids.Clear();
            ServerLog.BadMessage(_context.Logger, _connection.Id, header.Opcode, ex.Message);
            WriteError(header.RequestId, ErrorCode.ProtocolViolation, ex.Message);
            return default;
        }

        // One tracker lock for the whole batch; what was not in flight is left in ids for the store.
        List<InFlightDelivery> completed = _batchCompleted ??= new List<InFlightDelivery>(64);
        completed.Clear();
        _tracker.CompleteAll(ids, completed);
        Span<InFlightDelivery> done = CollectionsMarshal.AsSpan(completed);
        for (int i = 0; i < done.Length; i++)
        {
            _router.Complete(in done[i], delivered: true, _userName, Batch);
        }

        completed.Clear();
        for (int i = 0; i < ids.Count; i++)
        {
            ValueTask pending = DeleteStored(ids[i]);
            if (!pending.IsCompletedSuccessfully)
            {
                return ContinueAckBatchAsync(pending, i + 1);
            }
        }

        return default;
    }

    // A full batch of deletes is queued behind the store: wait for it, then queue the rest of the ids.
    private async ValueTask ContinueAckBatchAsync(ValueTask pending, int next)
    {
        await pending.ConfigureAwait(false);
        List<MessageId> ids = _batchIds!;
        for (int i = next; i < ids.Count; i++)
        {
            await DeleteStored(ids[i]).ConfigureAwait(false);
        }
    }

    private async ValueTask SignOutAsync(uint requestId)
    {
        _signedOut = true;
        try
        {
            await _context.Store.ClearPresenceAsync(_userName, _context.ServerId, Stopping).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, $"clearing the presence of {_userName}", ex);
        }

        _context.Peers.BroadcastOffline(_userName);
        _connection.TryWriteMessage(requestId, new Ok());
        _ = _connection.CloseAsync(CloseReason.LocalClose).AsTask();
    }

    // ---- Draining the pending queue -------------------------------------------------------------------------

    /// <summary>Something was stored for this user: make sure the drain runs (again) and picks it up.</summary>
    public void RequestDrain()
    {
        if (Volatile.Read(ref _state) != Resumed)
        {
            // Resuming: the first drain has not started yet and will see it; closed: the next session will.
            Volatile.Write(ref _drainRequested, 1);
            return;
        }

        Volatile.Write(ref _drainRequested, 1);
        if (Interlocked.CompareExchange(ref _drainRunning, 1, 0) == 0)
        {
            _ = DrainLoopAsync();
        }
    }

    // Runs with _drainRunning = 1; clears it only when no request is left, so a request that races with the end
    // either is seen here or starts a new drain.
    private async Task DrainLoopAsync()
    {
        try
        {
            while (true)
            {
                while (Interlocked.Exchange(ref _drainRequested, 0) != 0)
                {
                    if (!await DrainPendingAsync().ConfigureAwait(false))
                    {
                        return;
                    }
                }

                Volatile.Write(ref _drainRunning, 0);
                if (Volatile.Read(ref _drainRequested) == 0 || Interlocked.CompareExchange(ref _drainRunning, 1, 0) != 0)
                {
                    return;
                }
            }
        }
        catch (ChatStoreException ex)
        {
            // Live traffic stays off (it goes to the store); closing lets the client reconnect and the drain start over.
            ServerLog.StoreFailed(_context.Logger, $"reading the pending items of {_userName}", ex);
            _ = _connection.CloseAsync(CloseReason.ApplicationError).AsTask();
        }
        catch (OperationCanceledException)
        {
            // The server is stopping.
        }
    }

    // Returns false once the connection is closing.
    private async ValueTask<bool> DrainPendingAsync()
    {
        while (true)
        {
            if (Volatile.Read(ref _state) != Resumed)
            {
                return false;
            }

            IReadOnlyList<PendingItem> items = await _context.Store.GetPendingAsync(_userName, _drainCursor, DrainBatchSize, Stopping).ConfigureAwait(false);
            for (int i = 0; i < items.Count; i++)
            {
                PendingItem item = items[i];
                _drainCursor = item.Sequence;
                if (item.Kind == PendingKind.Message)
                {
                    // Already written to this session (live and then stored after a timeout, or a resend): once is enough.
                    if (_tracker.IsKnown(item.Id))
                    {
                        continue;
                    }

                    _tracker.MarkWritten(item.Id);
                }

                if (item.Payload.Length > _connection.MaxFrameSize)
                {
                    // Stored under a larger frame limit than this server's: it cannot be sent here.
                    continue;
                }

                if (!_connection.TryWriteFrame(item.Payload))
                {
                    return false;
                }

                if (_connection.PendingSendBytes >= DrainFlushBytes && !await _connection.FlushAsync(Stopping).ConfigureAwait(false))
                {
                    return false;
                }
            }

            if (!_connection.TryFlush())
            {
                return false;
            }

            if (items.Count < DrainBatchSize)
            {
                return true;
            }
        }
    }

    // ---- End of the session ---------------------------------------------------------------------------------

    /// <summary>
    /// The connection's read loop has ended: leave the registry, store every copy still in flight (their senders get
    /// their acks), abandon unfinished uploads and clear the user's presence unless a newer session took over.
    /// </summary>
    public async Task OnClosedAsync()
    {
        int previous = Interlocked.Exchange(ref _state, Closed);
        if (previous == AwaitingResume || _userName.Length == 0)
        {
            return;
        }

        bool current = _context.Sessions.Remove(this);
        var batch = new FlushBatch();
        var remaining = new List<InFlightDelivery>();
        _tracker.Close(remaining);
        await _router.StoreUndeliveredAsync(_userName, remaining, "the recipient disconnected", batch, Stopping).ConfigureAwait(false);
        await AbandonUploadsAsync().ConfigureAwait(false);

        if (current && !_replaced && !_signedOut)
        {
            await ClearPresenceAsync().ConfigureAwait(false);
        }

        if (_counted)
        {
            _context.Metrics.SessionEnded();
        }

        batch.Flush();
        ServerLog.SessionEnded(_context.Logger, _userName, _connection.Id, _connection.CloseReason);
    }

    private async Task ClearPresenceAsync()
    {
        try
        {
            await _context.Store.ClearPresenceAsync(_userName, _context.ServerId, Stopping).ConfigureAwait(false);

            // A newer session that registered meanwhile may have recorded its presence before the clear landed.
            if (_context.Sessions.TryGet(_userName, out ClientSession? newer) && !ReferenceEquals(newer, this))
            {
                await _context.Store.SetPresenceAsync(_userName, _context.ServerId, Stopping).ConfigureAwait(false);
                return;
            }
        }
        catch (Exception ex) when (ex is ChatStoreException or OperationCanceledException)
        {
            ServerLog.StoreFailed(_context.Logger, $"clearing the presence of {_userName}", ex);
        }

        _context.Peers.BroadcastOffline(_userName);
    }
}
