using System.Buffers;
using System.Runtime.ExceptionServices;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;
using Microsoft.Extensions.Logging;

namespace FastChat.Client.Internal;

/// <summary>
/// One client connection (to the balancer or to a chat server): the read loop, the table of requests waiting for a
/// reply, the <c>Hello</c> handshake and frame writing. Subclasses handle the messages that answer no request.
/// </summary>
/// <remarks>
/// Replies are matched by request id (docs/protocol.md §5). When the connection ends, every pending request fails
/// with <see cref="ChatConnectionException"/> (or with the reason given to <see cref="CloseAsync"/>), except outbox
/// messages, which wait to be resent on the next session.
/// </remarks>
internal abstract class ProtocolConnection : IFrameHandler, IAsyncDisposable
{
    private readonly Dictionary<uint, PendingRequest> _pending = [];
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private HelloRequest? _hello;
    private Task _readLoop = Task.CompletedTask;
    private Exception? _closeError;
    private uint _lastRequestId;
    private volatile bool _ended;

    protected ProtocolConnection(FramedConnection connection, ILogger logger, string peer)
    {
        Connection = connection;
        Logger = logger;
        Peer = peer;
    }

    /// <summary>Who is on the other end, for messages and logs (e.g. <c>chat server s1 (127.0.0.1:7701)</c>).</summary>
    public string Peer { get; }

    /// <summary><see langword="true"/> once the read loop has ended: nothing more will be received.</summary>
    public bool IsEnded => _ended;

    /// <summary>Completes when the read loop has ended, pending requests have been failed and <see cref="OnEnded"/> has run.</summary>
    public Task Closed => _closed.Task;

    public CloseReason CloseReason => Connection.CloseReason;

    protected FramedConnection Connection { get; }

    protected ILogger Logger { get; }

    /// <summary>The token the read loop runs under: cancelled when the connection is being closed on purpose.</summary>
    protected CancellationToken Stopping => _stopping.Token;

    /// <summary>Whether an <c>Error</c> that answers no request (request id 0, or one no longer pending) fails every pending request.</summary>
    protected virtual bool FailPendingOnUnsolicitedError => true;

    public void Start() => _readLoop = ReadLoopAsync();

    /// <summary>Sends <c>Hello</c> and waits for the peer's.</summary>
    /// <exception cref="ChatException">The peer refused the handshake or speaks another protocol version.</exception>
    /// <exception cref="ChatConnectionException">The connection closed first.</exception>
    /// <exception cref="TimeoutException">No answer within <paramref name="timeout"/>.</exception>
    public Task<Hello> HandshakeAsync(string agent, TimeSpan timeout, CancellationToken cancellationToken) =>
        HandshakeAsync(agent, [], timeout, cancellationToken);

    /// <summary>Sends <c>Hello</c> listing <paramref name="features"/> and waits for the peer's.</summary>
    /// <exception cref="ChatException">The peer refused the handshake or speaks another protocol version.</exception>
    /// <exception cref="ChatConnectionException">The connection closed first.</exception>
    /// <exception cref="TimeoutException">No answer within <paramref name="timeout"/>.</exception>
    public Task<Hello> HandshakeAsync(string agent, IReadOnlyList<string> features, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var hello = new HelloRequest();
        _hello = hello;
        return RequestAsync(hello, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Client, Features = features, Agent = agent }, timeout, cancellationToken);
    }

    /// <summary>Sends a request and waits for its reply.</summary>
    /// <exception cref="ChatException">The peer answered with an error.</exception>
    /// <exception cref="ChatConnectionException">The connection closed before the reply.</exception>
    /// <exception cref="TimeoutException">No reply within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<TResult> RequestAsync<TMessage, TResult>(PendingRequest<TResult> pending, TMessage message, TimeSpan timeout, CancellationToken cancellationToken)
        where TMessage : struct, IMessage<TMessage>
    {
        if (!TrySend(pending, in message))
        {
            throw CreateClosedException();
        }

        try
        {
            return await pending.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Unregister(pending);
            throw new TimeoutException($"{Peer} did not answer {TMessage.Opcode} within {timeout.TotalSeconds:0.###} s.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Unregister(pending);
            throw;
        }
    }

    /// <summary>Registers a request under a new request id and writes it (flushed).</summary>
    /// <returns><see langword="false"/> if the connection is closed.</returns>
    public bool TrySend<TMessage>(PendingRequest pending, in TMessage message)
        where TMessage : struct, IMessage<TMessage>
    {
        uint requestId = Register(pending);
        if (requestId == 0 || !TryWrite(requestId, in message))
        {
            Unregister(pending);
            return false;
        }

        Connection.TryFlush();
        return true;
    }

    /// <summary>Gives the request a fresh request id in this connection's table.</summary>
    /// <returns>The request id, or 0 when the connection has ended.</returns>
    public uint Register(PendingRequest pending)
    {
        lock (_lock)
        {
            if (_ended)
            {
                return 0;
            }

            uint requestId;
            do
            {
                // 0 means "no request"; skipping ids still pending keeps them unique after the counter wraps.
                requestId = unchecked(++_lastRequestId);
            }
            while (requestId == 0 || _pending.ContainsKey(requestId));

            pending.RequestId = requestId;
            _pending.Add(requestId, pending);
            return requestId;
        }
    }

    /// <summary>Removes a request from the table if it is still registered under its current request id.</summary>
    public void Unregister(PendingRequest pending)
    {
        lock (_lock)
        {
            if (_pending.TryGetValue(pending.RequestId, out PendingRequest? registered) && ReferenceEquals(registered, pending))
            {
                _pending.Remove(pending.RequestId);
            }
        }
    }

    /// <summary>Forgets the request of a message whose send was abandoned (timed out or cancelled) once its late <c>Ack</c> arrives.</summary>
    public void ForgetMessage(uint requestId, MessageId id)
    {
        if (requestId == 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_pending.TryGetValue(requestId, out PendingRequest? pending) && pending is OutboxEntry entry && entry.Id == id)
            {
                _pending.Remove(requestId);
            }
        }
    }

    /// <summary>Forgets the request of an abandoned message whose late ack came in a batch (without its request id).</summary>
    public void ForgetMessage(MessageId id)
    {
        lock (_lock)
        {
            // Rare (a send that timed out or was cancelled), so a scan of the table is fine.
            foreach (KeyValuePair<uint, PendingRequest> pending in _pending)
            {
                if (pending.Value is OutboxEntry entry && entry.Id == id)
                {
                    _pending.Remove(pending.Key);
                    return;
                }
            }
        }
    }

    /// <summary>Encodes one message frame straight into the connection's output (not flushed).</summary>
    /// <returns><see langword="false"/> if the connection is closed or closing.</returns>
    public bool TryWrite<TMessage>(uint requestId, in TMessage message)
        where TMessage : struct, IMessage<TMessage>
    {
        FrameTooLargeException? tooLarge;
        using (FrameWriteScope scope = Connection.BeginWrite())
        {
            if (!scope.IsActive)
            {
                return false;
            }

            try
            {
                MessageSerializer.WriteFrame(scope.Writer, requestId, in message, Connection.MaxFrameSize);
                return true;
            }
            catch (FrameTooLargeException ex)
            {
                // The send methods check sizes first, so this is a bug; the output holds a torn frame either way.
                tooLarge = ex;
            }
        }

        Connection.Abort(CloseReason.Aborted, tooLarge);
        ExceptionDispatchInfo.Throw(tooLarge);
        return false;
    }

    public bool TryFlush() => Connection.TryFlush();

    /// <summary>Flushes, waiting while the peer is behind (back-pressure for large sends).</summary>
    public ValueTask<bool> FlushAsync(CancellationToken cancellationToken) => Connection.FlushAsync(cancellationToken);

    /// <summary>Closes the connection; pending requests fail with <paramref name="reason"/> (or a <see cref="ChatConnectionException"/>).</summary>
    public async ValueTask CloseAsync(Exception? reason)
    {
        if (reason is not null)
        {
            Interlocked.CompareExchange(ref _closeError, reason, null);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
        await _readLoop.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => CloseAsync(null);

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);

        // A payload without a readable header is a broken frame: the exception closes the connection.
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        try
        {
            switch (header.Opcode)
            {
                case Opcode.Hello:
                    OnHello(ref reader, header);
                    return default;
                case Opcode.Error:
                    OnError(ref reader, header);
                    return default;
                case Opcode.Ping:
                    Ping ping = MessageSerializer.ReadBody<Ping>(ref reader, header);
                    TryWrite(header.RequestId, new Pong { Timestamp = ping.Timestamp });
                    return default;
                case Opcode.Ok:
                case Opcode.Pong:
                case Opcode.KdfParameters:
                case Opcode.Assigned:
                case Opcode.Resumed:
                case Opcode.GroupMembers:
                case Opcode.PublicKeys:
                    OnReply(ref reader, header);
                    return default;
                default:
                    return OnMessageAsync(ref reader, header, cancellationToken);
            }
        }
        catch (ProtocolViolationException ex)
        {
            // A bad message in an intact frame (docs/protocol.md §4): skip it, the stream is still in sync.
            ChatClientLog.BadMessage(Logger, Peer, header.Opcode, ex.Message);
            return default;
        }
    }

    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        // Pongs and acks written while handling the batch leave together.
        connection.TryFlush();
        return default;
    }

    public void OnProtocolViolation(FramedConnection connection, ProtocolViolationException exception)
    {
        ErrorCode code = exception is FrameTooLargeException ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolViolation;
        TryWrite(0, new Error { Code = code, Message = exception.Message });
        Interlocked.CompareExchange(ref _closeError, new ChatConnectionException($"{Peer} broke the protocol: {exception.Message}", exception), null);
    }

    /// <summary>Handles a message that is not a reply; the reader is positioned at its first field.</summary>
    /// <exception cref="ProtocolViolationException">The message is malformed (it is logged and skipped).</exception>
    protected abstract ValueTask OnMessageAsync(ref MessagePackReader reader, in MessageHeader header, CancellationToken cancellationToken);

    /// <summary>Runs once the read loop has ended and pending requests have failed.</summary>
    protected virtual void OnEnded()
    {
    }

    /// <summary>Creates the exception a request fails with once the connection has closed.</summary>
    protected Exception CreateClosedException()
    {
        Exception? error = Volatile.Read(ref _closeError);
        return error switch
        {
            ObjectDisposedException => ThrowHelper.CreateDisposed(),
            ChatException chat => new ChatException(chat.ErrorCode, chat.Message),
            ChatConnectionException connection => new ChatConnectionException(connection.Message, connection.InnerException),
            _ => new ChatConnectionException(
                $"The connection to {Peer} closed ({Connection.CloseReason}) before the reply arrived.",
                Connection.Connection.CloseException),
        };
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            // RunAsync never faults: resets, protocol violations and handler failures all end it normally.
            await Connection.RunAsync(this, _stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            OnReadLoopEnded();
        }
    }

    private void OnReadLoopEnded()
    {
        List<PendingRequest> failed;
        lock (_lock)
        {
            _ended = true;
            failed = new List<PendingRequest>(_pending.Count);
            foreach (PendingRequest pending in _pending.Values)
            {
                if (!pending.SurvivesDisconnect)
                {
                    failed.Add(pending);
                }
            }

            _pending.Clear();
        }

        Exception error = CreateClosedException();
        foreach (PendingRequest pending in failed)
        {
            pending.Fail(error);
        }

        // The peer may only have finished sending; make sure the socket goes too (CloseAsync never faults), and stop
        // whatever runs under the session's token (the keep-alive timer).
        _ = Connection.CloseAsync().AsTask();
        _stopping.Cancel();

        // The owner hears of the end first, so that whoever waits on Closed finds the session already replaced.
        OnEnded();
        _closed.TrySetResult();
    }

    private void OnHello(ref MessagePackReader reader, in MessageHeader header)
    {
        HelloRequest? hello = Interlocked.Exchange(ref _hello, null);
        if (hello is null)
        {
            // A second Hello: nothing waits for it.
            return;
        }

        // The reply normally echoes our request id, but the handshake is matched by opcode so either way works.
        Unregister(hello);
        hello.OnReply(ref reader, header);
    }

    private void OnReply(ref MessagePackReader reader, in MessageHeader header)
    {
        PendingRequest? pending = Take(header.RequestId);
        if (pending is null)
        {
            if (header.RequestId != 0)
            {
                ChatClientLog.UnexpectedReply(Logger, Peer, header.Opcode, header.RequestId);
            }

            return;
        }

        try
        {
            pending.OnReply(ref reader, header);
        }
        catch (ProtocolViolationException ex)
        {
            pending.Fail(ex);
        }
    }

    private void OnError(ref MessagePackReader reader, in MessageHeader header)
    {
        Error error = MessageSerializer.ReadBody<Error>(ref reader, header);
        PendingRequest? pending = Take(header.RequestId);
        if (pending is not null)
        {
            pending.OnError(new ChatException(error.Code, error.Message));
            return;
        }

        ChatClientLog.UnsolicitedError(Logger, Peer, error.Code, error.Message);
        if (!FailPendingOnUnsolicitedError)
        {
            return;
        }

        // Before the session is up, an error without a request id (e.g. a refused handshake, followed by a close)
        // is the answer to whatever is waiting.
        var failure = new ChatException(error.Code, error.Message);
        Interlocked.CompareExchange(ref _closeError, failure, null);
        List<PendingRequest> failed;
        lock (_lock)
        {
            failed = new List<PendingRequest>(_pending.Values);
            _pending.Clear();
        }

        _hello?.OnError(failure);
        foreach (PendingRequest waiting in failed)
        {
            waiting.OnError(failure);
        }
    }

    private PendingRequest? Take(uint requestId)
    {
        if (requestId == 0)
        {
            return null;
        }

        lock (_lock)
        {
            return _pending.Remove(requestId, out PendingRequest? pending) ? pending : null;
        }
    }
}
