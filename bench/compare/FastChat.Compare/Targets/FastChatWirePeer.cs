using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Compare.Targets;

/// <summary>
/// One signed-in FastChat session spoken at the protocol level, as lean as the other adapters: a
/// <see cref="FramedConnection"/> to the chat server whose read loop acknowledges every delivered message, answers
/// pings, counts the server's acknowledgements of this peer's sends and hands bodies to the sink straight from the
/// receive buffer.
/// </summary>
/// <remarks>
/// <para>
/// Per message nothing is allocated: a send is one frame written under the connection's write lock (the body staged in
/// a reused buffer, the id a per-peer random prefix plus a counter, the request id a counter), with no task, outbox
/// or event per message. What the server acknowledges is only counted: the comparison needs the count, not the ids.
/// </para>
/// <para>
/// Flushes follow the server's rule, one per read batch. The workloads send from receive callbacks (a delivery sends
/// the sender's next message), so a send made while some peer's read loop is handling a frame on this thread is
/// flushed when that read batch ends (<see cref="IFrameHandler.OnBatchCompletedAsync"/>), together with the batch's
/// acks; a send from anywhere else (the first window) is flushed at once.
/// </para>
/// <para>
/// Left out on purpose: reconnecting and resending (a lost connection fails the run), end-to-end encryption (the
/// bodies are opaque to the server either way) and keep-alive pings (runs are far shorter than the idle timeout).
/// </para>
/// </remarks>
internal sealed class FastChatWirePeer : IPeer, IFrameHandler
{
    /// <summary>Room for a message's fields around its body: ids, names, the timestamp and the MessagePack headers.</summary>
    public const int FrameOverhead = 1024;

    /// <summary>The peer whose read loop is handling a frame on this thread, which flushes what is sent meanwhile at the end of its batch.</summary>
    [ThreadStatic]
    private static FastChatWirePeer? t_batchOwner;

    private readonly FramedConnection _connection;
    private readonly IMessageSink _sink;
    private readonly ConcurrentDictionary<uint, TaskCompletionSource> _requests = new();

    // Other peers this read loop sent through during the current batch (read loop only; a handful at most).
    // At 18 bytes an id, well inside the smallest frame limit.
    private const int MaxAcksPerBatch = 1024;

    private readonly List<FastChatWirePeer> _flushAfterBatch = new(4);

    // Read loop only: the ids delivered in this read batch, acknowledged together in one AckBatch when it ends (the
    // server announces "ack-batch" and so does this adapter), and the ids of the server's own batches as they are read.
    private readonly MessageId[] _pendingAcks = new MessageId[MaxAcksPerBatch];
    private readonly List<MessageId> _ackedIds = new(MaxAcksPerBatch);
    private int _pendingAckCount;
    private readonly ulong _idPrefix;
    private Task _reading = Task.CompletedTask;
    private byte[] _sendBuffer = [];
    private byte[] _receiveBuffer = [];
    private long _idCounter;
    private int _lastRequestId;
    private bool _unflushed;
    private long _acked;
    private long _ackFailures;
    private Exception? _failure;
    private volatile bool _disposing;

    private FastChatWirePeer(FramedConnection connection, string name, IMessageSink sink)
    {
        _connection = connection;
        _sink = sink;
        Name = name;
        Span<byte> prefix = stackalloc byte[sizeof(ulong)];
        RandomNumberGenerator.Fill(prefix);
        _idPrefix = BinaryPrimitives.ReadUInt64BigEndian(prefix);
    }

    /// <summary>The user this session is signed in as.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public long Acked => Volatile.Read(ref _acked);

    /// <inheritdoc/>
    public long AckFailures => Volatile.Read(ref _ackFailures);

    /// <inheritdoc/>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Completes when the read loop has ended: the connection closed, and <see cref="Failure"/> says why if it was not disposed.</summary>
    public Task ReadLoopEnded => _reading;

    /// <summary>Connects to the assigned chat server, says <c>Hello</c> and resumes the session; returns once the server answered both.</summary>
    /// <exception cref="IOException">The server cannot be reached, refused the session, closed the connection, or did not answer within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<FastChatWirePeer> ResumeAsync(
        FastChatWireAssignment assignment, string name, IMessageSink sink, ConnectorOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        FastChatConnection connection = await FastChatWireFrames.ConnectAsync(assignment.Host, assignment.Port, options, "chat server", cancellationToken).ConfigureAwait(false);
        var peer = new FastChatWirePeer(new FramedConnection(connection), name, sink);
        peer._reading = peer.ReadLoopAsync();
        try
        {
            // Both go in one flush; the server answers them in order.
            Task hello = peer.StartRequest(FastChatWireFrames.ClientHello, flush: false);
            Task resumed = peer.StartRequest(new Resume { SessionToken = new(assignment.SessionToken) }, flush: true);
            await peer.WaitAsync(hello, "Hello", timeout, cancellationToken).ConfigureAwait(false);
            await peer.WaitAsync(resumed, "Resume", timeout, cancellationToken).ConfigureAwait(false);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A FastChat user receives what is sent to its name: nothing to subscribe to.</summary>
    public Task<Destination> SubscribeAsync(string topic, CancellationToken cancellationToken) =>
        Task.FromResult(new Destination(Name));

    /// <summary>Sends a request that the server answers with <c>Ok</c> (creating a group, adding a member) and waits for the answer.</summary>
    /// <exception cref="IOException">The server refused it, the connection failed, or no answer came within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task RequestAsync<T>(in T request, TimeSpan timeout, CancellationToken cancellationToken)
        where T : struct, IMessage<T>
    {
        Task answered = StartRequest(in request, flush: true);
        return WaitAsync(answered, T.Opcode.ToString(), timeout, cancellationToken);
    }

    /// <inheritdoc/>
    public void Publish(Destination destination, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > _connection.MaxFrameSize - FrameOverhead)
        {
            ThrowTooLarge(payload.Length);
        }

        uint requestId = NextRequestId();
        MessageId id = NextMessageId();
        bool written;
        using (FrameWriteScope scope = _connection.BeginWrite())
        {
            written = scope.IsActive;
            if (written)
            {
                // The send buffer is only touched under the connection's write lock, which the scope holds.
                ReadOnlySequence<byte> body = Stage(payload);
                if (destination.IsGroup)
                {
                    MessageSerializer.WriteFrame(scope.Writer, requestId, new GroupMessage { Id = id, Group = destination.Topic, KeyEpoch = 0, SentAt = DateTime.UtcNow, Body = body }, _connection.MaxFrameSize);
                }
                else
                {
                    MessageSerializer.WriteFrame(scope.Writer, requestId, new DirectMessage { Id = id, Recipient = destination.Topic, SentAt = DateTime.UtcNow, Body = body }, _connection.MaxFrameSize);
                }
            }
        }

        if (!written)
        {
            ThrowClosed();
        }

        if (t_batchOwner is { } owner)
        {
            owner.FlushAfterBatch(this);
        }
        else
        {
            _connection.TryFlush();
        }
    }

    /// <inheritdoc/>
    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        switch (header.Opcode)
        {
            case Opcode.DirectMessage:
                DirectMessage direct = MessageSerializer.ReadBody<DirectMessage>(ref reader, header);
                Deliver(direct.Id, direct.Body);
                break;
            case Opcode.GroupMessage:
                GroupMessage group = MessageSerializer.ReadBody<GroupMessage>(ref reader, header);
                Deliver(group.Id, group.Body);
                break;
            case Opcode.Ack:
                // The server took responsibility for one of this peer's sends.
                Interlocked.Increment(ref _acked);
                break;
            case Opcode.AckBatch:
                // The same for every id of a batch (the server coalesces the acks of one read batch).
                _ackedIds.Clear();
                AckBatch.ReadIds(ref reader, in header, _ackedIds);
                Interlocked.Add(ref _acked, _ackedIds.Count);
                break;
            case Opcode.Ping:
                Ping ping = MessageSerializer.ReadBody<Ping>(ref reader, header);
                _unflushed |= FastChatWireFrames.TryWrite(_connection, header.RequestId, new Pong { Timestamp = ping.Timestamp });
                break;
            case Opcode.Hello:
            case Opcode.Resumed:
            case Opcode.Ok:
                Complete(header.RequestId);
                break;
            case Opcode.Error:
                OnError(header, MessageSerializer.ReadBody<Error>(ref reader, header));
                break;
            default:
                // Delivered receipts, group changes, presence: not part of the measurement.
                break;
        }

        return default;
    }

    /// <inheritdoc/>
    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        WritePendingAcks();
        if (_unflushed)
        {
            _unflushed = false;
            _connection.TryFlush();
        }

        for (int i = 0; i < _flushAfterBatch.Count; i++)
        {
            _flushAfterBatch[i]._connection.TryFlush();
        }

        _flushAfterBatch.Clear();
        return default;
    }

    /// <summary>Closes the connection (what is written is sent first) and waits for the read loop.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _reading.ConfigureAwait(false);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowClosed() =>
        throw new IOException($"The connection of {Name} to the chat server is closed ({_connection.CloseReason}).", Failure);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowTooLarge(int length) =>
        throw new IOException($"A {length} B body does not fit the {_connection.MaxFrameSize} B frames of {Name}'s connection.");

    private uint NextRequestId()
    {
        // 0 means "unsolicited" in the protocol: skipped when the counter wraps.
        uint id;
        do
        {
            id = (uint)Interlocked.Increment(ref _lastRequestId);
        }
        while (id == 0);
        return id;
    }

    /// <summary>A fresh id: this peer's random prefix and a counter, as unique as a random id without a random draw per message.</summary>
    private MessageId NextMessageId()
    {
        Span<byte> bytes = stackalloc byte[MessageId.Size];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _idPrefix);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[sizeof(ulong)..], (ulong)Interlocked.Increment(ref _idCounter));
        return new MessageId(bytes);
    }

    /// <summary>Copies <paramref name="payload"/> into the reused send buffer (the caller holds the write lock).</summary>
    private ReadOnlySequence<byte> Stage(ReadOnlySpan<byte> payload)
    {
        if (_sendBuffer.Length < payload.Length)
        {
            _sendBuffer = new byte[Math.Max(payload.Length, 1024)];
        }

        payload.CopyTo(_sendBuffer);
        return new ReadOnlySequence<byte>(_sendBuffer, 0, payload.Length);
    }

    /// <summary>Acknowledges a delivered message (the server keeps it in flight until then) and hands its body to the sink.</summary>
    private void Deliver(MessageId id, in ReadOnlySequence<byte> body)
    {
        if (_pendingAckCount == _pendingAcks.Length)
        {
            WritePendingAcks();
        }

        _pendingAcks[_pendingAckCount++] = id;
        ReadOnlySpan<byte> span = body.IsSingleSegment ? body.FirstSpan : Gather(body);
        t_batchOwner = this;
        try
        {
            _sink.OnMessage(span);
        }
        finally
        {
            t_batchOwner = null;
        }
    }

    /// <summary>Writes one <c>AckBatch</c> for the deliveries acknowledged since the last one (read loop only; not flushed).</summary>
    private void WritePendingAcks()
    {
        if (_pendingAckCount == 0)
        {
            return;
        }

        using (FrameWriteScope scope = _connection.BeginWrite())
        {
            if (scope.IsActive)
            {
                AckBatch.WriteFrame(scope.Writer, 0, _pendingAcks.AsSpan(0, _pendingAckCount), _connection.MaxFrameSize);
                _unflushed = true;
            }
        }

        _pendingAckCount = 0;
    }

    /// <summary>A body that straddles receive buffers, copied into one reused buffer (read loop only).</summary>
    private ReadOnlySpan<byte> Gather(in ReadOnlySequence<byte> body)
    {
        int length = (int)body.Length;
        if (_receiveBuffer.Length < length)
        {
            _receiveBuffer = new byte[Math.Max(length, 1024)];
        }

        body.CopyTo(_receiveBuffer);
        return _receiveBuffer.AsSpan(0, length);
    }

    /// <summary>Flushes <paramref name="peer"/> when this read loop's batch ends (called on this read loop's thread).</summary>
    private void FlushAfterBatch(FastChatWirePeer peer)
    {
        if (ReferenceEquals(peer, this))
        {
            _unflushed = true;
            return;
        }

        foreach (FastChatWirePeer listed in _flushAfterBatch)
        {
            if (ReferenceEquals(listed, peer))
            {
                return;
            }
        }

        _flushAfterBatch.Add(peer);
    }

    private void OnError(in MessageHeader header, in Error error)
    {
        var refusal = new IOException($"The chat server refused request {header.RequestId} of {Name}: {error.Code}: {error.Message}");
        if (_requests.TryRemove(header.RequestId, out TaskCompletionSource? request))
        {
            request.TrySetException(refusal);
            return;
        }

        // Not a set-up request: a refused send (counted against the acknowledgements), or a notice with request id 0
        // (a slow-consumer disconnect, a replaced session) that fails the peer.
        if (header.RequestId != 0)
        {
            Interlocked.Increment(ref _ackFailures);
        }

        Interlocked.CompareExchange(ref _failure, refusal, null);
    }

    private void Complete(uint requestId)
    {
        if (_requests.TryRemove(requestId, out TaskCompletionSource? request))
        {
            request.TrySetResult();
        }
    }

    /// <summary>Registers a request under a fresh id, then writes it; the task completes with the server's answer.</summary>
    private Task StartRequest<T>(in T request, bool flush)
        where T : struct, IMessage<T>
    {
        uint requestId = NextRequestId();
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[requestId] = answer;
        if (!FastChatWireFrames.TryWrite(_connection, requestId, in request) || (flush && !_connection.TryFlush()))
        {
            _requests.TryRemove(requestId, out _);
            answer.TrySetException(new IOException($"The connection of {Name} to the chat server closed before {T.Opcode} was sent ({_connection.CloseReason})."));
        }
        else if (_reading.IsCompleted)
        {
            // The read loop ended between registering and writing: nobody would answer.
            FailRequests(new IOException($"The connection of {Name} to the chat server closed ({_connection.CloseReason})."));
        }

        return answer.Task;
    }

    private async Task WaitAsync(Task answered, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await answered.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new IOException($"The chat server did not answer {what} of {Name} within {timeout.TotalSeconds:0} s.", ex);
        }
    }

    private void FailRequests(Exception error)
    {
        foreach (KeyValuePair<uint, TaskCompletionSource> request in _requests)
        {
            if (_requests.TryRemove(request.Key, out TaskCompletionSource? removed))
            {
                removed.TrySetException(error);
            }
        }
    }

    private async Task ReadLoopAsync()
    {
        // RunAsync never faults: a reset, a broken frame or a handler failure ends it, and the close reason says which.
        await _connection.RunAsync(this).ConfigureAwait(false);
        var error = new IOException($"The chat server closed the connection of {Name} ({_connection.CloseReason}).", _connection.Connection.CloseException);
        if (!_disposing)
        {
            Interlocked.CompareExchange(ref _failure, error, null);
        }

        FailRequests(error);
    }
}
