using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FastChat.Client.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client;

public sealed partial class ChatClient
{
    /// <summary>
    /// Reads what happens to this client, in arrival order: messages, files, group changes, delivery receipts and
    /// connection state changes. The sequence ends when the client is disposed (after the events already queued).
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration; events not yet read stay queued for the next reader.</param>
    /// <returns>The events. With <see cref="ChatClientOptions.AutoAck"/>, each <see cref="IncomingMessage"/> is acknowledged as it is handed over.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    /// <remarks>
    /// Read promptly: at <see cref="ChatClientOptions.EventCapacity"/> unread events the client stops reading from the
    /// server. Several readers may read at once; each event goes to one of them.
    /// </remarks>
    public async IAsyncEnumerable<ChatEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChannelReader<QueuedEvent> reader = _events.Reader;
        AckCoalescer? acks = _options.AutoAck ? new AckCoalescer(this) : null;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out QueuedEvent item))
                {
                    if (acks is not null && item.Event is IncomingMessage message)
                    {
                        // Acknowledged as it reaches the application, never before: nothing still queued is acked.
                        acks.Add(message.Id, item.Source);
                    }

                    yield return item.Event;
                }

                // Everything that was ready has been handed over: its acks leave together.
                acks?.Send();
            }
        }
        finally
        {
            acks?.Send();
        }
    }

    internal ValueTask OnDirectMessageAsync(ServerSession session, in DirectMessage message, CancellationToken cancellationToken)
    {
        if (!IsNew(session, message.Id))
        {
            return default;
        }

        // The one copy of the body out of the receive buffer: the event outlives it.
        var received = new DirectMessageReceived(message.Id, message.Sender, message.SentAt, message.Body.ToArray());
        return PublishIncomingAsync(session, received, cancellationToken);
    }

    internal ValueTask OnGroupMessageAsync(ServerSession session, in GroupMessage message, CancellationToken cancellationToken)
    {
        if (!IsNew(session, message.Id))
        {
            return default;
        }

        var received = new GroupMessageReceived(message.Id, message.Sender, message.Group, message.KeyEpoch, message.SentAt, message.Body.ToArray());
        return PublishIncomingAsync(session, received, cancellationToken);
    }

    internal void OnFileOffer(in FileOffer offer)
    {
        // A file already handed to the application is being delivered again: skip its frames, re-ack at FileComplete.
        if (_recent.Find(offer.FileId) is not null)
        {
            return;
        }

        string? problem = _files.Begin(offer);
        if (problem is not null)
        {
            ChatClientLog.FileDropped(_logger, offer.FileId, "Its offer is refused: " + problem);
        }
    }

    internal void OnFileChunk(in FileChunk chunk)
    {
        string? problem = _files.AddChunk(chunk, out _);
        if (problem is not null)
        {
            ChatClientLog.FileDropped(_logger, chunk.FileId, problem);
        }
    }

    internal ValueTask OnFileCompleteAsync(ServerSession session, in FileComplete complete, CancellationToken cancellationToken)
    {
        FileReceived? file = _files.Complete(complete, out string? problem);
        if (file is null)
        {
            if (problem is not null)
            {
                ChatClientLog.FileDropped(_logger, complete.FileId, problem);
            }
            else if (_recent.Find(complete.FileId) == RecentIdState.Acknowledged)
            {
                // A copy of a file the application already has: the server did not get the first ack.
                session.TryWriteAck(complete.FileId);
            }

            return default;
        }

        return IsNew(session, file.Id) ? PublishIncomingAsync(session, file, cancellationToken) : default;
    }

    /// <summary>Queues a notice (not a message to acknowledge) for the readers.</summary>
    internal ValueTask PublishAsync(ChatEvent notice, CancellationToken cancellationToken)
    {
        var item = new QueuedEvent(notice, null);
        return _events.Writer.TryWrite(item) ? default : PublishSlowAsync(item, cancellationToken);
    }

    private bool IsNew(ServerSession session, MessageId id)
    {
        switch (_recent.TryAdd(id))
        {
            case RecentIdState.New:
                return true;
            case RecentIdState.Acknowledged:
                // Acked before, but the server did not get it (it reconnected): ack again, flushed with the batch.
                session.TryWriteAck(id);
                ChatClientLog.DuplicateDropped(_logger, id);
                return false;
            default:
                // Still queued for the application: it is acknowledged when handed over.
                ChatClientLog.DuplicateDropped(_logger, id);
                return false;
        }
    }

    /// <summary>
    /// Collects the acks of the messages one reader hands over while more are ready, and sends them together: one
    /// <c>AckBatch</c> when the server negotiated it. An ack waits at most until the reader comes back for the next
    /// event and finds none ready, <see cref="MaxIds"/> waiting, or the oldest waiting longer than <see cref="MaxDelayMilliseconds"/>.
    /// </summary>
    private sealed class AckCoalescer
    {
        private const int MaxIds = 64;
        private const long MaxDelayMilliseconds = 20;

        private readonly ChatClient _client;
        private readonly MessageId[] _ids = new MessageId[MaxIds];
        private ServerSession? _session;
        private int _count;
        private long _firstAt;

        public AckCoalescer(ChatClient client) => _client = client;

        public void Add(MessageId id, ServerSession? source)
        {
            _client._recent.MarkAcknowledged(id);

            // The server that delivered it is the one waiting for the ack; after a reconnect, the current one deletes
            // the stored copy instead.
            ServerSession? session = source is { IsEnded: false } ? source : _client._session;
            if (session is null)
            {
                return;
            }

            if (!ReferenceEquals(session, _session))
            {
                Send();
                _session = session;
            }

            if (_count == 0)
            {
                _firstAt = Stopwatch.GetTimestamp();
            }

            _ids[_count++] = id;
            if (_count == MaxIds || Stopwatch.GetElapsedTime(_firstAt).TotalMilliseconds >= MaxDelayMilliseconds)
            {
                Send();
            }
        }

        public void Send()
        {
            if (_count == 0)
            {
                return;
            }

            ServerSession session = _session!;
            if (session.TryWriteAcks(_ids.AsSpan(0, _count)))
            {
                session.TryFlush();
            }

            _count = 0;
        }
    }

    private ValueTask PublishIncomingAsync(ServerSession session, IncomingMessage message, CancellationToken cancellationToken)
    {
        var item = new QueuedEvent(message, session);
        return _events.Writer.TryWrite(item) ? default : PublishIncomingSlowAsync(item, message.Id, cancellationToken);
    }

    // The channel is full: the read loop waits here, so the server sees back-pressure instead of the client buffering.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PublishIncomingSlowAsync(QueuedEvent item, MessageId id, CancellationToken cancellationToken)
    {
        try
        {
            await _events.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // Disposed: nobody reads any more. Unacknowledged, the message stays pending on the server.
            _recent.Remove(id);
        }
        catch (OperationCanceledException)
        {
            // The session is closing: the server delivers the message again, and that copy must not look like a duplicate.
            _recent.Remove(id);
            throw;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PublishSlowAsync(QueuedEvent item, CancellationToken cancellationToken)
    {
        try
        {
            await _events.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // Disposed: nobody reads any more.
        }
    }
}
