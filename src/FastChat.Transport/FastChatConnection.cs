using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using FastChat.Transport.Internal;
using Microsoft.Extensions.Logging;

namespace FastChat.Transport;

/// <summary>
/// One TCP (optionally TLS) connection as a pair of pipes: read what the peer sent from <see cref="Input"/>,
/// write what it should receive to <see cref="Output"/>.
/// </summary>
/// <remarks>
/// <para>
/// Two loops move the bytes and nothing else touches the socket: a receive loop fills <see cref="Input"/> and stops
/// receiving when <see cref="TransportOptions.InputPauseThreshold"/> bytes wait unread; a send loop drains
/// <see cref="Output"/>, handing each multi-segment batch to the socket as one scatter/gather send.
/// </para>
/// <para>
/// Closing: completing <see cref="Output"/> sends what is queued, then FIN (the peer sees the end of the stream);
/// a FIN from the peer completes <see cref="Input"/> normally. <see cref="CloseAsync"/> and
/// <see cref="DisposeAsync"/> do both, bounded by <see cref="TransportOptions.CloseTimeout"/>; <see cref="Abort"/>
/// drops the connection at once. A reset, abort or error completes <see cref="Input"/> with a
/// <see cref="ConnectionResetException"/>, <see cref="ConnectionAbortedException"/> or <see cref="TransportException"/>;
/// nothing is ever thrown on a background thread. <see cref="CloseReason"/> keeps the first reason the connection
/// ended.
/// </para>
/// <para>
/// Connections come from <see cref="FastChatListener.AcceptAsync"/> and <see cref="FastChatConnector"/>; use a
/// <see cref="FramedConnection"/> on top for FastChat frames. The pipes follow the usual rules: one reader of
/// <see cref="Input"/> and one writer of <see cref="Output"/> at a time.
/// </para>
/// </remarks>
public abstract partial class FastChatConnection : IDuplexPipe, IAsyncDisposable
{
    private static long s_lastId;

    private readonly Pipe _inputPipe;
    private readonly Pipe _outputPipe;
    private readonly ConnectionOutput _output;
    // Never disposed: it has no timer to release, and ConnectionClosed must stay readable after DisposeAsync.
    private readonly CancellationTokenSource _closedTokenSource = new();
    private readonly Lock _stateLock = new();
    private readonly OutputLock _outputLock = new();

    private long _bytesReceived;
    private long _bytesWritten;
    private long _bytesSent;
    private TaskCompletionSource? _drainSignal;

    // Completed once both loops have stopped; created by whichever comes first, the stop or a wait for it (an idle
    // connection needs neither, and a completion source with its task is ~90 bytes of the 4 KiB per-connection budget).
    private TaskCompletionSource? _stopped;

    private int _closeReason;
    private Exception? _closeException;
    private int _tornDown;
    private int _references = 1;
    private bool _started;
    private bool _idleRegistered;
    private bool _outputCompleted;
    private TaskCompletionSource? _closeCompletion;
    private Task? _sendTask;

    private protected FastChatConnection(ConnectionSettings settings, EndPoint? localEndPoint, EndPoint? remoteEndPoint)
    {
        Id = Interlocked.Increment(ref s_lastId);
        Settings = settings;
        Logger = settings.Logger;
        LocalEndPoint = localEndPoint;
        RemoteEndPoint = remoteEndPoint;

        // Input: the receive loop writes and pauses at the threshold; the application's reads resume on the
        // thread pool (never inline on the receive loop), without allocating per resume.
        _inputPipe = new Pipe(new PipeOptions(
            settings.MemoryPool,
            readerScheduler: new ConnectionScheduler(),
            writerScheduler: PipeScheduler.ThreadPool,
            pauseWriterThreshold: settings.InputPauseThreshold,
            resumeWriterThreshold: settings.InputResumeThreshold,
            useSynchronizationContext: false));

        // Output: never pauses its writer (see ConnectionOutput for where backpressure lives instead); the send
        // loop resumes on the thread pool, so a flush made under a writer's lock never sends inline.
        _outputPipe = new Pipe(new PipeOptions(
            settings.MemoryPool,
            readerScheduler: new ConnectionScheduler(),
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 0,
            resumeWriterThreshold: 0,
            useSynchronizationContext: false));

        _output = new ConnectionOutput(this, _outputPipe.Writer);
        ConnectionClosed = _closedTokenSource.Token;
    }

    /// <summary>A number that identifies the connection in logs; unique within the process.</summary>
    public long Id { get; }

    /// <summary>What the peer sent. Completes normally when the peer finishes sending (FIN), or with the error that ended the connection.</summary>
    /// <remarks>Reading it after the connection was reset, aborted or failed throws <see cref="ConnectionResetException"/>, <see cref="ConnectionAbortedException"/> or <see cref="TransportException"/>.</remarks>
    public PipeReader Input => _inputPipe.Reader;

    /// <summary>
    /// What to send to the peer. <c>FlushAsync</c> completes at once while fewer than
    /// <see cref="TransportOptions.OutputPauseThreshold"/> bytes are waiting to be sent, and otherwise once they
    /// have fallen to <see cref="TransportOptions.OutputResumeThreshold"/>; its result is <c>IsCompleted</c> once the
    /// connection has closed. Completing it sends FIN after the queued bytes.
    /// </summary>
    public PipeWriter Output => _output;

    /// <summary>This side's address.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Cancelled once the connection has closed, for whatever reason. Callbacks run on the thread pool, never inside the code that closed the connection.</summary>
    public CancellationToken ConnectionClosed { get; }

    /// <summary>Why the connection closed (the first reason recorded), or <see cref="CloseReason.None"/> while it is open.</summary>
    public CloseReason CloseReason => (CloseReason)Volatile.Read(ref _closeReason);

    /// <summary>The error recorded with <see cref="CloseReason"/>, if any.</summary>
    public Exception? CloseException => Volatile.Read(ref _closeException);

    /// <summary>The negotiated TLS version, or <see cref="SslProtocols.None"/> on a plain TCP connection.</summary>
    public virtual SslProtocols SslProtocol => SslProtocols.None;

    /// <summary>The certificate the peer presented during the TLS handshake, if any.</summary>
    public virtual X509Certificate? RemoteCertificate => null;

    /// <summary>Bytes received from the peer so far (after TLS decryption).</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>Bytes handed to the socket so far (before TLS encryption).</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>Bytes written to <see cref="Output"/> (flushed or not) that have not been handed to the socket yet.</summary>
    public long PendingSendBytes
    {
        get
        {
            // Sent is read first: both only grow, so the difference can overstate but never go negative.
            long sent = Volatile.Read(ref _bytesSent);
            return Volatile.Read(ref _bytesWritten) - sent;
        }
    }

    internal ConnectionSettings Settings { get; }

    internal ILogger Logger { get; }

    // Serialises writers of the output pipe with its completion. FramedConnection writes under it; the
    // connection takes it only to complete the output.
    internal OutputLock OutputLock => _outputLock;

    internal bool IsClosed => Volatile.Read(ref _tornDown) != 0;

    // Only meaningful under OutputLock.
    internal bool IsOutputCompleted => _outputCompleted;

    internal bool IsOverPauseThreshold => PendingSendBytes > Settings.OutputPauseThreshold;

    // Set by the listener before Start, to learn when its connections close.
    internal Action<FastChatConnection>? ClosedCallback { get; set; }

    /// <summary>
    /// Closes gracefully: stops accepting output, sends what is queued followed by FIN, then closes the socket.
    /// If the queued output cannot be sent within <see cref="TransportOptions.CloseTimeout"/> (a peer that does
    /// not read), the connection is aborted instead. Safe to call more than once and from any thread; later calls
    /// wait for the first.
    /// </summary>
    /// <param name="reason">The reason to record if none is yet; <see cref="CloseReason.LocalClose"/> becomes <see cref="CloseReason.RemoteClose"/> when the peer had already finished sending.</param>
    /// <param name="error">An error to record with the reason.</param>
    /// <returns>A task that completes when both transport loops have stopped. It never faults.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reason"/> is <see cref="CloseReason.None"/>.</exception>
    /// <remarks>The application must not be writing to <see cref="Output"/> concurrently (a <see cref="FramedConnection"/> takes care of that for its writers).</remarks>
    public ValueTask CloseAsync(CloseReason reason = CloseReason.LocalClose, Exception? error = null)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(reason, CloseReason.None);
        TrySetCloseReason(reason, error);

        TaskCompletionSource? completion = Volatile.Read(ref _closeCompletion);
        if (completion is null)
        {
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            completion = Interlocked.CompareExchange(ref _closeCompletion, created, null);
            if (completion is null)
            {
                _ = CloseCoreAsync(created);
                return new ValueTask(created.Task);
            }
        }

        return new ValueTask(completion.Task);
    }

    /// <summary>
    /// Drops the connection at once: queued output is discarded, the socket is reset, both loops stop, and
    /// <see cref="Input"/> completes with a <see cref="ConnectionAbortedException"/>. Idempotent, thread-safe, never blocks.
    /// </summary>
    /// <param name="reason">The reason to record if none is yet.</param>
    /// <param name="error">An error to record with the reason.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reason"/> is <see cref="CloseReason.None"/>.</exception>
    public void Abort(CloseReason reason = CloseReason.Aborted, Exception? error = null)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(reason, CloseReason.None);
        TrySetCloseReason(reason, error);
        Teardown(abortive: true);
    }

    /// <summary>
    /// Closes gracefully (as <see cref="CloseAsync"/>, bounded by <see cref="TransportOptions.CloseTimeout"/>), then
    /// releases the pipes' buffers. Call it once the application has stopped reading <see cref="Input"/> and writing
    /// <see cref="Output"/>. Safe to call more than once.
    /// </summary>
    /// <returns>A task that completes when the connection is closed and its resources are released. It never faults.</returns>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);

        // Nothing reads the input any more: completing the reader returns its buffers to the pool.
        _inputPipe.Reader.Complete();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Connection {Id} ({RemoteEndPoint})";

    // Starts both loops. Returns false (and releases the connection) if it was closed before it could start,
    // e.g. by a listener shutting down during the TLS handshake.
    internal bool Start()
    {
        using (_stateLock.EnterScope())
        {
            if (IsClosed)
            {
                ReleaseReference();
                return false;
            }

            _started = true;
            Interlocked.Add(ref _references, 2);
            if (Settings.IdleTimeout != Timeout.InfiniteTimeSpan)
            {
                Volatile.Write(ref _lastReceiveTimestamp, Environment.TickCount64);
                _idleRegistered = true;
                ConnectionHeartbeat.Register(this);
            }
        }

        TransportMetrics.ConnectionsOpened.Add(1);
        TransportMetrics.ConnectionsActive.Add(1);
        _sendTask = SendLoopAsync();
        _ = ReceiveLoopAsync();

        // The creator's reference: from here on the loops keep the connection alive.
        ReleaseReference();
        return true;
    }

    // For a connection that never started (failed TLS handshake): records the reason and releases the socket.
    internal void FailBeforeStart(CloseReason reason, Exception? error)
    {
        Abort(reason, error);
        ReleaseReference();
    }

    // Aborts and waits (bounded) until the loops have stopped, without touching the application's pipe ends,
    // which the application may still be using. Used by a listener shutting down.
    internal async Task AbortAndWaitAsync(CloseReason reason)
    {
        Abort(reason);
        await WaitForStopAsync().ConfigureAwait(false);
    }

    // One writer at a time (see ConnectionOutput), so a plain store suffices; readers see it through Volatile.Read.
    internal void AddBytesWritten(int bytes) => Volatile.Write(ref _bytesWritten, _bytesWritten + bytes);

    internal void CompleteOutput(Exception? exception)
    {
        using (_outputLock.EnterScope())
        {
            if (_outputCompleted)
            {
                return;
            }

            _outputCompleted = true;

            // Bytes written but not yet handed to the pipe are still sent before the FIN, as with a bare pipe.
            _output.Commit();
            _outputPipe.Writer.Complete(exception);
        }
    }

    // Hands everything written so far to the send loop. The caller holds OutputLock.
    internal void FlushOutputUnsynchronized()
    {
        Debug.Assert(_outputLock.IsHeldByCurrentThread);

        // The output pipe never pauses its writer, so its flush always completes at once.
        _output.Commit();
        ValueTask<FlushResult> flush = _outputPipe.Writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("The output pipe paused its writer, which its options rule out.");
        }

        flush.GetAwaiter().GetResult();
    }

    // Returns a task to await before checking again, or null when the pending output is at or below the
    // resume threshold (or the connection is closed) and writers may go on.
    internal Task? GetDrainTask()
    {
        if (IsClosed || PendingSendBytes <= Settings.OutputResumeThreshold)
        {
            return null;
        }

        TaskCompletionSource? signal = Volatile.Read(ref _drainSignal);
        if (signal is null)
        {
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = Interlocked.CompareExchange(ref _drainSignal, created, null) ?? created;
        }

        // Check again now that the signal is published: this pairs with OnBytesSent (add, then look for a
        // signal), so a send that finished in between is never missed.
        if (IsClosed || PendingSendBytes <= Settings.OutputResumeThreshold)
        {
            SignalDrain();
            return null;
        }

        return signal.Task;
    }

    internal void SignalDrain() => Interlocked.Exchange(ref _drainSignal, null)?.TrySetResult();

    private void OnBytesSent(long bytes)
    {
        Interlocked.Add(ref _bytesSent, bytes);
        TransportMetrics.BytesSent.Add(bytes);
        if (Volatile.Read(ref _drainSignal) is not null && PendingSendBytes <= Settings.OutputResumeThreshold)
        {
            SignalDrain();
        }
    }

    private bool TrySetCloseReason(CloseReason reason, Exception? error)
    {
        if (reason == CloseReason.LocalClose && _receivedFin)
        {
            reason = CloseReason.RemoteClose;
        }

        if (Interlocked.CompareExchange(ref _closeReason, (int)reason, (int)CloseReason.None) != (int)CloseReason.None)
        {
            return false;
        }

        Volatile.Write(ref _closeException, error);
        return true;
    }

    private void ReleaseReference()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }

        // Both loops have stopped (or never started): nothing uses the transport any more.
        Teardown(abortive: false);
        DisposeTransportCore();
        Stopped.TrySetResult();
    }

    private TaskCompletionSource Stopped
    {
        get
        {
            TaskCompletionSource? stopped = Volatile.Read(ref _stopped);
            if (stopped is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                stopped = Interlocked.CompareExchange(ref _stopped, created, null) ?? created;
            }

            return stopped;
        }
    }

    private async Task WaitForStopAsync()
    {
        try
        {
            await Stopped.Task.WaitAsync(Settings.CloseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            TransportLog.LoopsDidNotStop(Logger, Id, Settings.CloseTimeout);
        }
    }

    private async Task CloseCoreAsync(TaskCompletionSource completion)
    {
        try
        {
            // The application's output is done: the send loop sends what is queued, then FIN.
            CompleteOutput(null);
            Task? send = _sendTask;
            if (send is not null && !IsClosed)
            {
                try
                {
                    await send.WaitAsync(Settings.CloseTimeout).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // The peer is not reading: give up on the queued output rather than hang.
                    TransportLog.CloseTimedOut(Logger, Id, Settings.CloseTimeout);
                    Teardown(abortive: true);
                }
            }

            // The receive loop may be waiting for data that will never come; closing the socket ends it.
            Teardown(abortive: false);
            await WaitForStopAsync().ConfigureAwait(false);
        }
        finally
        {
            completion.TrySetResult();
        }
    }

    private void Teardown(bool abortive)
    {
        if (Interlocked.Exchange(ref _tornDown, 1) != 0)
        {
            return;
        }

        TrySetCloseReason(abortive ? CloseReason.Aborted : CloseReason.LocalClose, null);

        // Closing the socket ends a pending receive or send; cancelling the pipes' pending read and flush ends
        // a send loop waiting for output and a receive loop paused by backpressure.
        CloseTransportCore(abortive);
        _outputPipe.Reader.CancelPendingRead();
        _inputPipe.Writer.CancelPendingFlush();
        SignalDrain();

        bool started;
        using (_stateLock.EnterScope())
        {
            started = _started;
            if (_idleRegistered)
            {
                ConnectionHeartbeat.Unregister(this);
            }
        }

        CloseReason reason = CloseReason;
        if (started)
        {
            TransportMetrics.ConnectionsActive.Add(-1);
            TransportMetrics.RecordClosed(reason);
            TransportLog.ConnectionClosed(Logger, Id, reason);
        }

        ClosedCallback?.Invoke(this);

        // Run ConnectionClosed callbacks on the thread pool: Teardown may be running under a writer's lock.
        ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.FireConnectionClosed(), this, preferLocal: false);
    }

    private void FireConnectionClosed()
    {
        try
        {
            _closedTokenSource.Cancel();
        }
        catch (AggregateException ex)
        {
            TransportLog.ConnectionClosedCallbackError(Logger, Id, ex);
        }
    }

    // The completion error for Input once the receive loop stops.
    private Exception? GetInputCompletionError()
    {
        if (!IsClosed)
        {
            return null;
        }

        CloseReason reason = CloseReason;
        if (reason is CloseReason.LocalClose or CloseReason.RemoteClose)
        {
            return null;
        }

        Exception? error = CloseException;
        return error is ConnectionResetException or ConnectionAbortedException or TransportException
            ? error
            : new ConnectionAbortedException(reason, $"Connection {Id} was closed: {reason}.", error);
    }

    // Maps a loop's exception to a close reason, and to the error to record (null when the exception is only
    // the consequence of this side closing the socket).
    private Exception? ClassifyError(Exception exception, out CloseReason reason)
    {
        reason = CloseReason.Aborted;
        if (IsClosed || exception is ObjectDisposedException or OperationCanceledException)
        {
            return null;
        }

        if (SocketErrors.Find(exception) is { } socketException)
        {
            if (SocketErrors.IsConnectionReset(socketException.SocketErrorCode))
            {
                reason = CloseReason.ConnectionReset;
                return new ConnectionResetException($"Connection {Id} was reset by the peer ({socketException.SocketErrorCode}).", exception);
            }

            if (SocketErrors.IsLocalAbort(socketException.SocketErrorCode))
            {
                return null;
            }
        }
        else if (exception is IOException or AuthenticationException)
        {
            // Only the TLS stream throws these without a socket error: corrupt or unexpected TLS records.
            reason = CloseReason.TlsFailure;
            return new TransportException($"Connection {Id}'s TLS stream failed: {exception.Message}", exception);
        }

        reason = CloseReason.TransportError;
        return new TransportException($"Connection {Id} failed: {exception.Message}", exception);
    }

    private void FailWith(Exception exception)
    {
        Exception? error = ClassifyError(exception, out CloseReason reason);
        if (error is null)
        {
            Abort(reason);
            return;
        }

        switch (reason)
        {
            case CloseReason.ConnectionReset:
                TransportLog.ConnectionReset(Logger, Id, exception);
                break;
            case CloseReason.TransportError:
                TransportLog.ConnectionError(Logger, Id, exception);
                break;
            default:
                TransportLog.ConnectionBrokenOff(Logger, Id, reason, exception);
                break;
        }

        Abort(reason, error);
    }

    // The transport underneath: implemented by the plain socket and TLS connections.

    // Completes when data can be read, without holding a buffer (a zero-byte read).
    private protected abstract ValueTask WaitForDataCoreAsync();

    // Reads into the buffer; 0 means the peer finished sending.
    private protected abstract ValueTask<int> ReceiveCoreAsync(Memory<byte> buffer);

    // Sends all of the buffer.
    private protected abstract ValueTask SendCoreAsync(ReadOnlySequence<byte> buffer);

    // Ends the sending direction (FIN, preceded by TLS close_notify).
    private protected abstract ValueTask ShutdownSendCoreAsync();

    // Closes the socket; may run concurrently with pending I/O, which then fails.
    private protected abstract void CloseTransportCore(bool abortive);

    // Releases the transport once no I/O is running.
    private protected abstract void DisposeTransportCore();
}
