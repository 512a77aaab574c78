using System.Buffers;
using System.Runtime.CompilerServices;
using FastChat.Hosts.Storage;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// Routes message copies to their recipients and settles them (DESIGN §6): a live write to a session on this server
/// (tracked in the recipient's <see cref="DeliveryTracker"/> until it acks), a relay to the server the recipient is on
/// (tracked in <see cref="RelayedDeliveries"/> until that server's receipt), or the store. Whatever happens, the
/// party waiting (<see cref="DeliveryOrigin"/>) hears exactly once: acked, or stored for later.
/// </summary>
/// <remarks>
/// The live local path (recipient online here) is synchronous and allocates nothing but the pooled payload copy: the
/// message is re-encoded once with its sender filled in (a direct message only in part: its recipient, timestamp and
/// body are copied as received), and those bytes are written to every recipient. Everything
/// else (store, peers, presence look-ups) is on async slow paths.
/// </remarks>
internal sealed class MessageRouter
{
    private readonly ServerContext _context;

    public MessageRouter(ServerContext context) => _context = context;

    private IChatStore Store => _context.Store;

    // ---- Direct messages ----------------------------------------------------------------------------------

    /// <summary>Routes a direct message from a signed-in client; the sender gets <c>Ack</c> (and <c>Delivered</c>) or an error.</summary>
    public ValueTask RouteDirectAsync(ClientSession sender, uint requestId, in DirectMessageRoute message, long payloadLength, FlushBatch batch, CancellationToken cancellationToken)
    {
        PayloadBuffer? payload = EncodeDirect(sender, requestId, in message, payloadLength, batch);
        if (payload is null)
        {
            return default;
        }

        DeliveryOrigin origin = DeliveryOrigin.Local(sender, requestId);
        if (_context.Sessions.TryGet(message.Recipient, out ClientSession? recipient)
            && TryDeliverLocal(recipient, message.Id, payload, in origin, batch))
        {
            return default;
        }

        return RouteDirectSlowAsync(sender, requestId, message.Recipient, message.Id, payload, origin, batch, cancellationToken);
    }

    private async ValueTask RouteDirectSlowAsync(
        ClientSession sender, uint requestId, string recipient, MessageId id, PayloadBuffer payload, DeliveryOrigin origin, FlushBatch batch, CancellationToken cancellationToken)
    {
        bool exists;
        try
        {
            exists = await _context.UserExistsAsync(recipient, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            payload.Release();
            ServerLog.StoreFailed(_context.Logger, "looking up a recipient", ex);
            sender.WriteError(requestId, ErrorCode.InternalError, "The message could not be routed; send it again.", batch);
            return;
        }

        if (!exists)
        {
            payload.Release();
            sender.WriteError(requestId, ErrorCode.UserNotFound, $"There is no user '{recipient}'.", batch);
            return;
        }

        await DeliverAsync(recipient, id, sender.UserName, payload, origin, relayHop: 0, batch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Delivers one copy by the slow path: a session here that is not taking live traffic (it is draining) gets it
    /// through the store; a user on another server gets it relayed (<paramref name="relayHop"/> is the relay's hop
    /// count; a copy that already travelled one hop is not relayed again); anyone else gets it stored.
    /// Takes over one reference to <paramref name="payload"/>.
    /// </summary>
    public async ValueTask DeliverAsync(
        string recipient, MessageId id, string sender, PayloadBuffer payload, DeliveryOrigin origin, uint relayHop, FlushBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            if (_context.Sessions.TryGet(recipient, out ClientSession? session))
            {
                if (TryDeliverLocal(session, id, payload, in origin, batch))
                {
                    return;
                }
            }
            else if (relayHop <= 1)
            {
                string? server = await LocateRemoteAsync(recipient, cancellationToken).ConfigureAwait(false);
                if (server is not null
                    && await TryRelayAsync(server, recipient, id, sender, payload, origin, relayHop, batch, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }

            await StoreAsync(recipient, id, payload, origin, batch, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, "delivering a message", ex);
            FailOrigin(origin, id, batch);
        }
    }

    // ---- Group messages -----------------------------------------------------------------------------------

    /// <summary>Fans a group message out to every other member; the sender's <c>Ack</c> comes once every copy is acked or stored.</summary>
    public ValueTask RouteGroupAsync(ClientSession sender, uint requestId, in GroupMessage message, long payloadLength, FlushBatch batch, CancellationToken cancellationToken)
    {
        GroupInfo? group = _context.Groups.TryGet(message.Group);
        if (group is null || !GroupCache.IsMember(group, sender.UserName))
        {
            return RouteGroupSlowAsync(sender, requestId, message, payloadLength, batch, cancellationToken);
        }

        GroupMessage stamped = message with { Sender = sender.UserName };
        PayloadBuffer? payload = Encode(sender, requestId, in stamped, payloadLength, batch);
        return payload is null ? default : FanOut(sender, requestId, group, message.Id, payload, batch, cancellationToken);
    }

    private async ValueTask RouteGroupSlowAsync(
        ClientSession sender, uint requestId, GroupMessage message, long payloadLength, FlushBatch batch, CancellationToken cancellationToken)
    {
        GroupInfo? group;
        try
        {
            // Not cached, or the cache does not list the sender (it may have been added elsewhere): ask the store.
            group = await _context.Groups.RefreshAsync(Store, message.Group, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, "reading a group", ex);
            sender.WriteError(requestId, ErrorCode.InternalError, "The message could not be routed; send it again.", batch);
            return;
        }

        if (group is null)
        {
            sender.WriteError(requestId, ErrorCode.GroupNotFound, $"There is no group '{message.Group}'.", batch);
            return;
        }

        if (!GroupCache.IsMember(group, sender.UserName))
        {
            sender.WriteError(requestId, ErrorCode.NotMember, $"You are not a member of '{message.Group}'.", batch);
            return;
        }

        GroupMessage stamped = message with { Sender = sender.UserName };
        PayloadBuffer? payload = Encode(sender, requestId, in stamped, payloadLength, batch);
        if (payload is not null)
        {
            await FanOut(sender, requestId, group, message.Id, payload, batch, cancellationToken).ConfigureAwait(false);
        }
    }

    // Live local copies and relays over open links are written synchronously; members that need a presence
    // look-up, a new link or the store are handled by FanOutRestAsync.
    private ValueTask FanOut(ClientSession sender, uint requestId, GroupInfo group, MessageId id, PayloadBuffer payload, FlushBatch batch, CancellationToken cancellationToken)
    {
        GroupFanOut fanOut = GroupFanOut.Rent(id, DeliveryOrigin.Local(sender, requestId));
        DeliveryOrigin origin = DeliveryOrigin.Group(fanOut);
        List<string>? rest = null;
        IReadOnlyList<string> members = group.Members;
        for (int i = 0; i < members.Count; i++)
        {
            string member = members[i];
            if (string.Equals(member, sender.UserName, StringComparison.Ordinal))
            {
                continue;
            }

            fanOut.AddCopy();
            payload.AddReference();
            if (_context.Sessions.TryGet(member, out ClientSession? session))
            {
                if (TryDeliverLocal(session, id, payload, in origin, batch))
                {
                    continue;
                }
            }
            else if (_context.RemotePresence.TryGet(member, out string? server)
                && TryRelayOnOpenLink(server, member, id, sender.UserName, payload, in origin, relayHop: 0, batch))
            {
                continue;
            }

            payload.Release();
            fanOut.RemoveCopy();
            (rest ??= []).Add(member);
        }

        if (rest is null)
        {
            payload.Release();
            fanOut.CopyDone(this, batch);
            return default;
        }

        return FanOutRestAsync(sender.UserName, fanOut, id, payload, rest, batch, cancellationToken);
    }

    private async ValueTask FanOutRestAsync(
        string sender, GroupFanOut fanOut, MessageId id, PayloadBuffer payload, List<string> members, FlushBatch batch, CancellationToken cancellationToken)
    {
        DeliveryOrigin origin = DeliveryOrigin.Group(fanOut);
        try
        {
            var stored = new List<PendingItem>(members.Count);
            byte[]? bytes = null;
            foreach (string member in members)
            {
                if (!_context.Sessions.TryGet(member, out _))
                {
                    string? server = await LocateRemoteAsync(member, cancellationToken).ConfigureAwait(false);
                    if (server is not null)
                    {
                        fanOut.AddCopy();
                        payload.AddReference();
                        if (await TryRelayAsync(server, member, id, sender, payload, origin, 0, batch, cancellationToken).ConfigureAwait(false))
                        {
                            continue;
                        }

                        payload.Release();
                        fanOut.RemoveCopy();
                    }
                }

                bytes ??= payload.ToArray();
                stored.Add(new PendingItem(0, member, id, PendingKind.Message, 0, bytes, _context.UtcNow));
            }

            if (stored.Count != 0)
            {
                await Store.EnqueueBatchAsync(stored, cancellationToken).ConfigureAwait(false);
                _context.Metrics.MessagesStored(stored.Count);
                foreach (PendingItem item in stored)
                {
                    await NotifyStoredAsync(item.Recipient, batch, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, "storing a group message", ex);
            fanOut.Fail();
        }
        finally
        {
            payload.Release();
            fanOut.CopyDone(this, batch);
        }
    }

    // ---- Relayed messages from peers ----------------------------------------------------------------------

    /// <summary>A peer relayed a direct or group message for a user it believes is here.</summary>
    public ValueTask OnRelayedMessageAsync(
        PeerConnection link, uint hop, string recipient, in ReadOnlySequence<byte> inner, MessageId id, string sender, bool groupCopy, CancellationToken cancellationToken)
    {
        DeliveryOrigin origin = DeliveryOrigin.Remote(link.RemoteId, sender, groupCopy);
        PayloadBuffer payload = PayloadBuffer.CopyOf(inner);
        if (_context.Sessions.TryGet(recipient, out ClientSession? session) && TryDeliverLocal(session, id, payload, in origin, link.Batch))
        {
            return default;
        }

        return OnRelayedSlowAsync(link, hop, recipient, id, sender, payload, origin, cancellationToken);
    }

    private async ValueTask OnRelayedSlowAsync(
        PeerConnection link, uint hop, string recipient, MessageId id, string sender, PayloadBuffer payload, DeliveryOrigin origin, CancellationToken cancellationToken)
    {
        FlushBatch batch = link.Batch;
        if (_context.Sessions.TryGet(recipient, out _))
        {
            // Here but draining: through the store, behind what is pending.
            await DeliverAsync(recipient, id, sender, payload, origin, relayHop: 2, batch, cancellationToken).ConfigureAwait(false);
            return;
        }

        string? server;
        try
        {
            // The peer's cache was wrong: ask the store (never the cache), and tell the peer where the user is now.
            server = await Store.GetPresenceAsync(recipient, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            payload.Release();
            ServerLog.StoreFailed(_context.Logger, "looking up presence", ex);
            return;
        }

        bool elsewhere = server is not null && !string.Equals(server, _context.ServerId, StringComparison.Ordinal);
        if (link.TrySendPresence(recipient, elsewhere, elsewhere ? server! : string.Empty))
        {
            batch.Add(link.Connection);
        }

        if (elsewhere && hop == 0)
        {
            _context.RemotePresence.Set(recipient, server!);
            await DeliverAsync(recipient, id, sender, payload, origin, relayHop: 1, batch, cancellationToken).ConfigureAwait(false);
            return;
        }

        await DeliverAsync(recipient, id, sender, payload, origin, relayHop: 2, batch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A peer's receipt for a copy relayed from here: <paramref name="recipient"/> is empty for <c>Ack</c> (stored), the acking member for <c>Delivered</c>.</summary>
    public void OnReceipt(string sender, MessageId id, string recipient, FlushBatch batch)
    {
        RelayedCopy? copy = _context.Relayed.TryTake(sender, id, recipient);
        if (copy is null)
        {
            // Already settled here (timed out and stored, or the link was lost): the recipient drops the duplicate.
            return;
        }

        CompleteOrigin(copy.Origin, id, delivered: recipient.Length != 0, copy.Recipient, batch);
        copy.Payload.Release();
    }

    /// <summary>A peer's <c>Presence</c>: where a user is now, or (naming this server) "drain that user's queue again".</summary>
    public void OnPresence(in Presence presence)
    {
        if (presence.Online && string.Equals(presence.ServerId, _context.ServerId, StringComparison.Ordinal))
        {
            if (_context.Sessions.TryGet(presence.UserName, out ClientSession? session))
            {
                session.RequestDrain();
            }

            return;
        }

        if (presence.Online && presence.ServerId.Length != 0)
        {
            _context.RemotePresence.Set(presence.UserName, presence.ServerId);
        }
        else
        {
            _context.RemotePresence.Forget(presence.UserName, presence.ServerId);
        }
    }

    // ---- Local delivery and settling ----------------------------------------------------------------------

    /// <summary>
    /// Writes a copy to a session that takes live traffic and tracks it until acked. Takes over one reference to
    /// <paramref name="payload"/> when it returns <see langword="true"/>; on <see langword="false"/> (the session is
    /// draining or ending) the caller keeps it and delivers another way.
    /// </summary>
    public bool TryDeliverLocal(ClientSession session, MessageId id, PayloadBuffer payload, in DeliveryOrigin origin, FlushBatch batch)
    {
        if (!session.CanDeliverLive)
        {
            return false;
        }

        switch (session.Tracker.TryBegin(id, payload, in origin, _context.NewDeliveryDeadline()))
        {
            case BeginResult.Begun:
                FramedConnection connection = session.Connection;
                if (connection.TryWriteFrame(payload.Span))
                {
                    batch.Add(connection);
                    _context.Metrics.MessageDelivered();
                    if (connection.PendingSendBytes > _context.Options.MaxSendBufferBytes)
                    {
                        session.DisconnectSlowConsumer();
                    }
                }

                // A failed write means the connection is closing: the session's end stores the tracked copy.
                return true;

            case BeginResult.AlreadyInFlight:
                payload.Release();
                return true;

            case BeginResult.AlreadyDelivered:
                payload.Release();
                CompleteOrigin(in origin, id, delivered: false, session.UserName, batch);
                return true;

            default:
                return false;
        }
    }

    /// <summary>Settles a copy the recipient acked (or that was stored): tells its origin(s) and releases the payload.</summary>
    public void Complete(in InFlightDelivery delivery, bool delivered, string recipient, FlushBatch batch)
    {
        CompleteOrigin(in delivery.Origin, delivery.Id, delivered, recipient, batch);
        if (delivery.Duplicate.Kind != OriginKind.None)
        {
            CompleteOrigin(in delivery.Duplicate, delivery.Id, delivered, recipient, batch);
        }

        delivery.Payload.Release();
    }

    /// <summary>Tells whoever waits that a copy was acked by <paramref name="recipient"/> (<paramref name="delivered"/>) or stored.</summary>
    public void CompleteOrigin(in DeliveryOrigin origin, MessageId id, bool delivered, string recipient, FlushBatch batch)
    {
        switch (origin.Kind)
        {
            case OriginKind.Local:
                origin.Session!.Acknowledge(origin.RequestId, id, delivered ? recipient : null, batch);
                break;
            case OriginKind.FanOut:
                origin.FanOut!.CopyDone(this, batch);
                break;
            case OriginKind.Remote:
                SendReceipt(origin.ServerId!, origin.Sender!, id, delivered ? recipient : string.Empty, batch);
                break;
            case OriginKind.RemoteGroupCopy:
                // Always names the member: the origin tracks one copy per member under the same (sender, id).
                SendReceipt(origin.ServerId!, origin.Sender!, id, recipient, batch);
                break;
        }
    }

    /// <summary>A copy could not be delivered or stored (the store failed): the local sender gets an error to resend; a peer times out on its own.</summary>
    public void FailOrigin(in DeliveryOrigin origin, MessageId id, FlushBatch batch)
    {
        switch (origin.Kind)
        {
            case OriginKind.Local:
                origin.Session!.WriteError(origin.RequestId, ErrorCode.InternalError, $"Message {id} could not be stored; send it again.", batch);
                break;
            case OriginKind.FanOut:
                origin.FanOut!.Fail();
                origin.FanOut.CopyDone(this, batch);
                break;
        }
    }

    // Over the open link if there is one, else in the background (connecting first).
    private void SendReceipt(string serverId, string sender, MessageId id, string deliveredTo, FlushBatch batch)
    {
        PeerConnection? link = _context.Peers.TryGetOpen(serverId);
        if (link is not null && link.TrySendReceipt(sender, id, deliveredTo))
        {
            batch.Add(link.Connection);
            return;
        }

        _ = _context.Peers.SendReceiptAsync(serverId, sender, id, deliveredTo);
    }

    // ---- Store ----------------------------------------------------------------------------------------------

    /// <summary>Stores one copy for later delivery, settles its origin, then nudges the recipient's session if it came online meanwhile.</summary>
    private async ValueTask StoreAsync(string recipient, MessageId id, PayloadBuffer payload, DeliveryOrigin origin, FlushBatch batch, CancellationToken cancellationToken)
    {
        var item = new PendingItem(0, recipient, id, PendingKind.Message, 0, payload.ToArray(), _context.UtcNow);
        payload.Release();
        await Store.EnqueueAsync(item, cancellationToken).ConfigureAwait(false);
        _context.Metrics.MessagesStored(1);
        ServerLog.DeliveriesStored(_context.Logger, 1, recipient, "not taking live traffic here");
        CompleteOrigin(in origin, id, delivered: false, recipient, batch);
        await NotifyStoredAsync(recipient, batch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores the copies a recipient session had in flight (it ended, or they timed out) and settles their origins.</summary>
    public async Task StoreUndeliveredAsync(string recipient, List<InFlightDelivery> deliveries, string reason, FlushBatch batch, CancellationToken cancellationToken)
    {
        if (deliveries.Count == 0)
        {
            return;
        }

        var items = new List<PendingItem>(deliveries.Count);
        DateTime now = _context.UtcNow;
        foreach (InFlightDelivery delivery in deliveries)
        {
            items.Add(new PendingItem(0, recipient, delivery.Id, PendingKind.Message, 0, delivery.Payload.ToArray(), now));
        }

        try
        {
            await Store.EnqueueBatchAsync(items, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChatStoreException or OperationCanceledException)
        {
            ServerLog.StoreFailed(_context.Logger, $"storing {deliveries.Count} undelivered message(s) for {recipient}", ex);
            foreach (InFlightDelivery delivery in deliveries)
            {
                FailOrigin(in delivery.Origin, delivery.Id, batch);
                delivery.Payload.Release();
            }

            return;
        }

        _context.Metrics.MessagesStored(items.Count);
        ServerLog.DeliveriesStored(_context.Logger, items.Count, recipient, reason);
        foreach (InFlightDelivery delivery in deliveries)
        {
            Complete(in delivery, delivered: false, recipient, batch);
        }

        await NotifyStoredQuietlyAsync(recipient, batch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores relayed copies that got no receipt (the link closed, or they timed out) and settles their origins.</summary>
    public async Task StoreRelayedAsync(List<RelayedCopy> copies, string reason, FlushBatch batch, CancellationToken cancellationToken)
    {
        if (copies.Count == 0)
        {
            return;
        }

        var items = new List<PendingItem>(copies.Count);
        DateTime now = _context.UtcNow;
        foreach (RelayedCopy copy in copies)
        {
            items.Add(new PendingItem(0, copy.Recipient, copy.Id, PendingKind.Message, 0, copy.Payload.ToArray(), now));
        }

        try
        {
            await Store.EnqueueBatchAsync(items, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChatStoreException or OperationCanceledException)
        {
            ServerLog.StoreFailed(_context.Logger, $"storing {copies.Count} relayed message(s)", ex);
            foreach (RelayedCopy copy in copies)
            {
                FailOrigin(copy.Origin, copy.Id, batch);
                copy.Payload.Release();
            }

            return;
        }

        _context.Metrics.MessagesStored(items.Count);
        foreach (RelayedCopy copy in copies)
        {
            ServerLog.DeliveriesStored(_context.Logger, 1, copy.Recipient, reason);
            CompleteOrigin(copy.Origin, copy.Id, delivered: false, copy.Recipient, batch);
            copy.Payload.Release();
        }

        foreach (RelayedCopy copy in copies)
        {
            await NotifyStoredQuietlyAsync(copy.Recipient, batch, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After storing for <paramref name="recipient"/>: if the user is online after all (here, or on another server per
    /// the store), have that session drain its queue again, so nothing waits for the next sign-in.
    /// </summary>
    public async ValueTask NotifyStoredAsync(string recipient, FlushBatch batch, CancellationToken cancellationToken)
    {
        if (_context.Sessions.TryGet(recipient, out ClientSession? session))
        {
            session.RequestDrain();
            return;
        }

        string? server = await Store.GetPresenceAsync(recipient, cancellationToken).ConfigureAwait(false);
        if (server is null || string.Equals(server, _context.ServerId, StringComparison.Ordinal))
        {
            return;
        }

        _context.RemotePresence.Set(recipient, server);
        PeerConnection? link = await _context.Peers.GetAsync(server, cancellationToken).ConfigureAwait(false);

        // Presence naming the receiving server itself means "drain this user's queue again".
        if (link is not null && link.TrySendPresence(recipient, online: true, server))
        {
            batch.Add(link.Connection);
        }
    }

    /// <summary>As <see cref="NotifyStoredAsync"/> when nothing is lost if it fails (the items are stored; the next sign-in gets them).</summary>
    public async ValueTask NotifyStoredQuietlyAsync(string recipient, FlushBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await NotifyStoredAsync(recipient, batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChatStoreException or OperationCanceledException)
        {
            ServerLog.StoreFailed(_context.Logger, $"looking up the presence of {recipient}", ex);
        }
    }

    /// <summary>Nudges a recipient known to be online without a store round trip (local session or cached presence); used per file chunk.</summary>
    public void NudgeIfKnown(string recipient, FlushBatch batch)
    {
        if (_context.Sessions.TryGet(recipient, out ClientSession? session))
        {
            session.RequestDrain();
        }
        else if (_context.RemotePresence.TryGet(recipient, out string? server)
            && _context.Peers.TryGetOpen(server) is { } link
            && link.TrySendPresence(recipient, online: true, server))
        {
            batch.Add(link.Connection);
        }
    }

    /// <summary>Stores what timed out: live copies nobody acked and relayed copies no peer settled.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        long now = _context.TimeProvider.GetTimestamp();
        var batch = new FlushBatch();
        var expired = new List<InFlightDelivery>();
        // In place, not a copy: at 15,000 sessions a copy per sweep was a quarter of a megabyte a second of gen2
        // garbage. The awaits below store what expired; the dictionary's enumerator tolerates changes meanwhile.
        foreach (ClientSession session in _context.Sessions)
        {
            if (session.Tracker.IsEmpty)
            {
                continue;
            }

            session.Tracker.TakeExpired(now, expired);
            if (expired.Count != 0)
            {
                await StoreUndeliveredAsync(session.UserName, expired, "no ack within the delivery timeout", batch, cancellationToken).ConfigureAwait(false);
                expired.Clear();
            }
        }

        var copies = new List<RelayedCopy>();
        _context.Relayed.TakeWhere(null, now, copies);
        await StoreRelayedAsync(copies, "no receipt from the peer within the delivery timeout", batch, cancellationToken).ConfigureAwait(false);
        batch.Flush();
    }

    // ---- Notices --------------------------------------------------------------------------------------------

    /// <summary>Sends a live-only notice (GroupChanged, GroupKeyEnvelope) to a user here or on another server; offline users miss it.</summary>
    public async ValueTask SendNoticeAsync(string userName, ReadOnlyMemory<byte> payload, FlushBatch batch, CancellationToken cancellationToken)
    {
        if (_context.Sessions.TryGet(userName, out ClientSession? session))
        {
            session.WriteNotice(payload.Span, batch);
            return;
        }

        string? server = await LocateRemoteAsync(userName, cancellationToken).ConfigureAwait(false);
        if (server is null)
        {
            return;
        }

        PeerConnection? link = await _context.Peers.GetAsync(server, cancellationToken).ConfigureAwait(false);
        if (link is not null && link.TrySendRelay(0, userName, payload.Span))
        {
            batch.Add(link.Connection);
        }
    }

    /// <summary>A notice relayed by a peer for a user here.</summary>
    public void OnRelayedNotice(string userName, in ReadOnlySequence<byte> inner, FlushBatch batch)
    {
        if (_context.Sessions.TryGet(userName, out ClientSession? session))
        {
            session.WriteNotice(inner, batch);
        }
    }

    // ---- Helpers --------------------------------------------------------------------------------------------

    /// <summary>The other server a user is on: the cache, else the store (a positive answer is cached).</summary>
    private async ValueTask<string?> LocateRemoteAsync(string userName, CancellationToken cancellationToken)
    {
        if (_context.RemotePresence.TryGet(userName, out string? cached))
        {
            return cached;
        }

        string? server = await Store.GetPresenceAsync(userName, cancellationToken).ConfigureAwait(false);
        if (server is null || string.Equals(server, _context.ServerId, StringComparison.Ordinal))
        {
            return null;
        }

        _context.RemotePresence.Set(userName, server);
        return server;
    }

    private async ValueTask<bool> TryRelayAsync(
        string server, string recipient, MessageId id, string sender, PayloadBuffer payload, DeliveryOrigin origin, uint relayHop, FlushBatch batch, CancellationToken cancellationToken)
    {
        if (TryRelayOnOpenLink(server, recipient, id, sender, payload, in origin, relayHop, batch))
        {
            return true;
        }

        PeerConnection? link = await _context.Peers.GetAsync(server, cancellationToken).ConfigureAwait(false);
        return link is not null && TryRelay(link, recipient, id, sender, payload, in origin, relayHop, batch);
    }

    private bool TryRelayOnOpenLink(string server, string recipient, MessageId id, string sender, PayloadBuffer payload, in DeliveryOrigin origin, uint relayHop, FlushBatch batch)
    {
        PeerConnection? link = _context.Peers.TryGetOpen(server);
        return link is not null && TryRelay(link, recipient, id, sender, payload, in origin, relayHop, batch);
    }

    // Takes over the payload reference on success.
    private bool TryRelay(PeerConnection link, string recipient, MessageId id, string sender, PayloadBuffer payload, in DeliveryOrigin origin, uint relayHop, FlushBatch batch)
    {
        var copy = new RelayedCopy
        {
            Sender = sender,
            Id = id,
            Recipient = recipient,
            ServerId = link.RemoteId,
            Payload = payload,
            Origin = origin,
            Deadline = _context.NewRelayDeadline(),
        };
        _context.Relayed.Add(copy);
        if (!link.TrySendRelay(relayHop, recipient, payload.Span))
        {
            // If the copy is gone, the link's closing already took it and will store it.
            return !_context.Relayed.Remove(copy);
        }

        batch.Add(link.Connection);
        _context.Metrics.MessageRelayed();
        return true;
    }

    // Re-encodes a client's message with the sender filled in, once; from here on these bytes are forwarded as they are.
    private PayloadBuffer? Encode<T>(ClientSession sender, uint requestId, in T message, long payloadLength, FlushBatch batch)
        where T : struct, IMessage<T>
    {
        _context.Metrics.MessageReceived();
        PayloadBuffer payload = RentPayload(sender, payloadLength);
        MessageSerializer.WritePayload(payload, 0, in message);
        return CheckSize(payload, sender, requestId, batch);
    }

    // As Encode, but only the id and the sender are encoded: the recipient, timestamp and body are copied as received,
    // which saves decoding them into a DirectMessage and encoding them again (the relay's busiest path).
    private PayloadBuffer? EncodeDirect(ClientSession sender, uint requestId, in DirectMessageRoute message, long payloadLength, FlushBatch batch)
    {
        _context.Metrics.MessageReceived();
        PayloadBuffer payload = RentPayload(sender, payloadLength);
        var writer = new MessagePackWriter(payload);
        message.WriteStamped(ref writer, 0, sender.UserName);
        writer.Flush();
        return CheckSize(payload, sender, requestId, batch);
    }

    // Room for the message as received plus the sender's name (and its longer string header): no growing on the way.
    private static PayloadBuffer RentPayload(ClientSession sender, long payloadLength) =>
        PayloadBuffer.Rent((int)Math.Min(payloadLength + sender.UserName.Length + 8, int.MaxValue));

    private PayloadBuffer? CheckSize(PayloadBuffer payload, ClientSession sender, uint requestId, FlushBatch batch)
    {
        if (payload.Length > _context.Options.MaxFrameSize)
        {
            payload.Release();
            sender.WriteError(requestId, ErrorCode.FrameTooLarge, TooLargeMessage(_context.Options.MaxFrameSize), batch);
            return null;
        }

        return payload;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string TooLargeMessage(int maxFrameSize) =>
        $"The message is larger than the {maxFrameSize} B frame limit once the sender is added.";
}
