using System.Buffers;
using System.Diagnostics;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;
using Microsoft.Extensions.Logging;

namespace FastChat.Client.Internal;

/// <summary>
/// The session on the assigned chat server (docs/protocol.md §5.2): <c>Hello</c>, <c>Resume</c>, then messages both
/// ways until the connection ends or the server asks the client to reconnect.
/// </summary>
/// <remarks>
/// Received messages go to the owning <see cref="ChatClient"/>, which copies them out of the receive buffer, drops
/// duplicates and queues events. Writes are thread-safe: the application's sends, the reader's acks and the keep-alive
/// timer all write whole frames.
/// </remarks>
internal sealed class ServerSession : ProtocolConnection
{
    // What this client offers in its Hello; the server's Hello says which of them the session uses.
    private static readonly string[] ClientFeatures = [ProtocolFeatures.AckBatch];

    private readonly ChatClient _client;

    // The ids of the AckBatch or DeliveredBatch being handled; reused (read loop only).
    private readonly List<MessageId> _batchIds = new(64);
    private bool _ackBatch;
    private Task _keepAlive = Task.CompletedTask;
    private volatile bool _resumed;
    private ReconnectRequest? _reconnect;

    private ServerSession(ChatClient client, FramedConnection connection, ILogger logger, Assignment assignment)
        : base(connection, logger, $"chat server {assignment.ServerId} ({assignment.Host}:{assignment.Port})")
    {
        _client = client;
        ServerId = assignment.ServerId;
    }

    public string ServerId { get; }

    /// <summary>The client's session generation this session was installed as (guarded by the client's lock).</summary>
    public int Generation { get; set; }

    /// <summary>Set when the server sent <c>Reconnect</c> before the connection ended.</summary>
    public ReconnectRequest? ReconnectRequest => Volatile.Read(ref _reconnect);

    protected override bool FailPendingOnUnsolicitedError => !_resumed;

    /// <summary>Connects to the assigned server, says <c>Hello</c> and resumes the session with the token.</summary>
    /// <exception cref="ChatConnectionException">The server could not be reached, or closed the connection.</exception>
    /// <exception cref="ChatException">The server refused the token (<see cref="ErrorCode.TokenExpired"/>, <see cref="ErrorCode.TokenInvalid"/>) or the handshake.</exception>
    /// <exception cref="TimeoutException">The server did not answer in time.</exception>
    public static async Task<(ServerSession Session, Resumed Resumed)> OpenAsync(
        ChatClient client, Assignment assignment, CancellationToken cancellationToken)
    {
        ChatClientOptions options = client.Options;
        FastChatConnection connection;
        try
        {
            connection = await FastChatConnector.ConnectAsync(assignment.Host, assignment.Port, client.ConnectorOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (FastChatException ex)
        {
            throw new ChatConnectionException($"Could not connect to chat server {assignment.ServerId} at {assignment.Host}:{assignment.Port}: {ex.Message}", ex);
        }

        var session = new ServerSession(client, new FramedConnection(connection), client.Logger, assignment);
        session.Start();
        try
        {
            Hello hello = await session.HandshakeAsync(options.Agent, ClientFeatures, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            session._ackBatch = ProtocolFeatures.Contains(hello.Features, ProtocolFeatures.AckBatch);
            Resumed resumed = await session.RequestAsync(
                new ResumePending(), new Resume { SessionToken = new(assignment.SessionToken) }, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            session._resumed = true;
            if (options.KeepAliveInterval != Timeout.InfiniteTimeSpan)
            {
                session._keepAlive = session.KeepAliveLoopAsync(options.KeepAliveInterval);
            }

            return (session, resumed);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Writes an outbox message (not flushed) under a fresh request id.</summary>
    /// <returns><see langword="false"/> if the session has ended.</returns>
    public bool TryWriteMessage(OutboxEntry entry)
    {
        uint requestId = Register(entry);
        if (requestId == 0)
        {
            return false;
        }

        bool written = entry.Kind == OutboxKind.Direct
            ? TryWrite(requestId, new DirectMessage { Id = entry.Id, Recipient = entry.Target, SentAt = entry.SentAt, Body = new(entry.Body) })
            : TryWrite(requestId, new GroupMessage { Id = entry.Id, Group = entry.Target, KeyEpoch = entry.KeyEpoch, SentAt = entry.SentAt, Body = new(entry.Body) });
        if (!written)
        {
            Unregister(entry);
        }

        return written;
    }

    /// <summary>
    /// Writes a whole file: <c>FileOffer</c>, every <c>FileChunk</c>, <c>FileComplete</c>, all under one request id
    /// (an error about any of them answers the transfer). Waits for the server to keep up after each chunk, so a large
    /// file is never buffered whole.
    /// </summary>
    /// <returns><see langword="false"/> if the session ended, or the transfer failed, before the end.</returns>
    public async Task<bool> WriteFileAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        uint requestId = Register(entry);
        if (requestId == 0)
        {
            return false;
        }

        IReadOnlyList<ReadOnlyMemory<byte>> chunks = entry.Chunks;
        bool toGroup = entry.Kind == OutboxKind.GroupFile;
        var offer = new FileOffer
        {
            FileId = entry.Id,
            Recipient = toGroup ? string.Empty : entry.Target,
            Group = toGroup ? entry.Target : string.Empty,
            KeyEpoch = toGroup ? entry.KeyEpoch : 0,
            TotalSize = entry.TotalSize,
            ChunkCount = chunks.Count,
            SentAt = entry.SentAt,
            Envelope = new(entry.Body),
        };
        if (!TryWrite(requestId, in offer))
        {
            return false;
        }

        for (int i = 0; i < chunks.Count; i++)
        {
            // An error reply (e.g. FileTooLarge) has already settled the transfer: stop sending.
            if (entry.Task.IsCompleted || !TryWrite(requestId, new FileChunk { FileId = entry.Id, Index = i, Data = new(chunks[i]) }))
            {
                return false;
            }

            if (!await FlushAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        if (entry.Task.IsCompleted || !TryWrite(requestId, new FileComplete { FileId = entry.Id, ChunkCount = chunks.Count }))
        {
            return false;
        }

        return await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the server negotiated <see cref="ProtocolFeatures.AckBatch"/> (set before the session is handed out).</summary>
    public bool AckBatchEnabled => _ackBatch;

    /// <summary>Acknowledges a received message (not flushed).</summary>
    public bool TryWriteAck(MessageId id) => TryWrite(0, new Ack { Id = id });

    /// <summary>
    /// Acknowledges received messages (not flushed): in <c>AckBatch</c> frames if the server negotiated it, else one
    /// <c>Ack</c> each.
    /// </summary>
    /// <returns><see langword="false"/> if the session has ended.</returns>
    public bool TryWriteAcks(ReadOnlySpan<MessageId> ids)
    {
        if (!_ackBatch || ids.Length == 1)
        {
            for (int i = 0; i < ids.Length; i++)
            {
                if (!TryWriteAck(ids[i]))
                {
                    return false;
                }
            }

            return true;
        }

        // 18 bytes per id (bin 8 of 16) after at most 16 bytes of headers: stay under the server's frame limit.
        int perFrame = Math.Max(1, (Connection.MaxFrameSize - 16) / (MessageId.Size + 2));
        while (!ids.IsEmpty)
        {
            ReadOnlySpan<MessageId> chunk = ids[..Math.Min(ids.Length, perFrame)];
            using (FrameWriteScope scope = Connection.BeginWrite())
            {
                if (!scope.IsActive)
                {
                    return false;
                }

                AckBatch.WriteFrame(scope.Writer, 0, chunk, Connection.MaxFrameSize);
            }

            ids = ids[chunk.Length..];
        }

        return true;
    }

    protected override ValueTask OnMessageAsync(ref MessagePackReader reader, in MessageHeader header, CancellationToken cancellationToken)
    {
        switch (header.Opcode)
        {
            case Opcode.DirectMessage:
                return _client.OnDirectMessageAsync(this, MessageSerializer.ReadBody<DirectMessage>(ref reader, header), cancellationToken);
            case Opcode.GroupMessage:
                return _client.OnGroupMessageAsync(this, MessageSerializer.ReadBody<GroupMessage>(ref reader, header), cancellationToken);
            case Opcode.Ack:
                _client.OnAck(this, header.RequestId, MessageSerializer.ReadBody<Ack>(ref reader, header).Id);
                return default;
            case Opcode.Delivered:
                Delivered delivered = MessageSerializer.ReadBody<Delivered>(ref reader, header);
                return _client.PublishAsync(new MessageDelivered(delivered.Id, delivered.Recipient), cancellationToken);
            case Opcode.AckBatch:
                // Each id exactly as a single Ack of it (which carries the request id only for a late, abandoned send).
                _batchIds.Clear();
                AckBatch.ReadIds(ref reader, header, _batchIds);
                for (int i = 0; i < _batchIds.Count; i++)
                {
                    _client.OnAck(this, 0, _batchIds[i]);
                }

                return default;
            case Opcode.DeliveredBatch:
                _batchIds.Clear();
                string recipient = DeliveredBatch.ReadIds(ref reader, header, _batchIds);
                return PublishDeliveredAsync(recipient, 0, cancellationToken);
            case Opcode.GroupKeyEnvelope:
                GroupKeyEnvelope envelope = MessageSerializer.ReadBody<GroupKeyEnvelope>(ref reader, header);
                return _client.PublishAsync(new GroupKeyReceived(envelope.Group, envelope.Epoch, envelope.Sender, envelope.Envelope.ToArray()), cancellationToken);
            case Opcode.GroupChanged:
                GroupChanged changed = MessageSerializer.ReadBody<GroupChanged>(ref reader, header);
                return _client.PublishAsync(new GroupChangedEvent(changed.Group, changed.Kind, changed.Member, changed.Actor, changed.Epoch), cancellationToken);
            case Opcode.FileOffer:
                _client.OnFileOffer(MessageSerializer.ReadBody<FileOffer>(ref reader, header));
                return default;
            case Opcode.FileChunk:
                _client.OnFileChunk(MessageSerializer.ReadBody<FileChunk>(ref reader, header));
                return default;
            case Opcode.FileComplete:
                return _client.OnFileCompleteAsync(this, MessageSerializer.ReadBody<FileComplete>(ref reader, header), cancellationToken);
            case Opcode.Reconnect:
                OnReconnect(MessageSerializer.ReadBody<Reconnect>(ref reader, header));
                return default;
            default:
                // Presence notices, and opcodes from newer servers, are not for this client version: skipped
                // (docs/protocol.md §3).
                return default;
        }
    }

    protected override void OnEnded() => _client.OnSessionEnded(this);

    // One MessageDelivered per id of the batch in _batchIds, from index 'start'; waits only while the event queue is full.
    private ValueTask PublishDeliveredAsync(string recipient, int start, CancellationToken cancellationToken)
    {
        for (int i = start; i < _batchIds.Count; i++)
        {
            ValueTask pending = _client.PublishAsync(new MessageDelivered(_batchIds[i], recipient), cancellationToken);
            if (!pending.IsCompletedSuccessfully)
            {
                return ContinuePublishDeliveredAsync(pending, recipient, i + 1, cancellationToken);
            }
        }

        return default;
    }

    private async ValueTask ContinuePublishDeliveredAsync(ValueTask pending, string recipient, int next, CancellationToken cancellationToken)
    {
        await pending.ConfigureAwait(false);
        await PublishDeliveredAsync(recipient, next, cancellationToken).ConfigureAwait(false);
    }

    private void OnReconnect(in Reconnect reconnect)
    {
        ChatClientLog.ReconnectRequested(Logger, ServerId, reconnect.Reason, reconnect.RetryAfterMilliseconds);
        Volatile.Write(ref _reconnect, new ReconnectRequest(reconnect.Reason, Math.Max(0, reconnect.RetryAfterMilliseconds)));

        // Leave at once: whatever this server has not seen acknowledged it stores for the next one. Closing from the
        // read loop must not wait for it (CloseAsync never faults).
        _ = Connection.CloseAsync(CloseReason.LocalClose).AsTask();
    }

    private async Task KeepAliveLoopAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(Stopping).ConfigureAwait(false))
            {
                // Request id 0: the Pong is not awaited; receiving it is what keeps the idle timeout away.
                if (!TryWrite(0, new Ping { Timestamp = Stopwatch.GetTimestamp() }) || !TryFlush())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The session is closing.
        }
    }
}

/// <summary>The server's <c>Reconnect</c>: why, and how long to wait before signing in again.</summary>
internal sealed record ReconnectRequest(string Reason, int RetryAfterMilliseconds);
