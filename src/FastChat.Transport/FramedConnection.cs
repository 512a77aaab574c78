using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using FastChat.Protocol;
using FastChat.Protocol.Framing;
using FastChat.Transport.Internal;
using Microsoft.Extensions.Logging;

namespace FastChat.Transport;

/// <summary>
/// FastChat frames (a 4-byte big-endian length, then the payload) over a <see cref="FastChatConnection"/>: a read
/// loop that hands each payload to an <see cref="IFrameHandler"/> without copying it, and a thread-safe write side
/// for relaying frames from many connections at once.
/// </summary>
/// <remarks>
/// <para>
/// Reading (<see cref="RunAsync"/>): frames are parsed straight from the receive buffer; every complete frame of one
/// read is dispatched, then <see cref="IFrameHandler.OnBatchCompletedAsync"/> runs once, the place to flush what the
/// batch wrote elsewhere. A frame over <see cref="MaxFrameSize"/> closes the connection with
/// <see cref="CloseReason.FrameTooLarge"/> as soon as its prefix arrives; a stream that ends inside a frame closes it
/// with <see cref="CloseReason.ProtocolViolation"/>. Either affects this connection only.
/// </para>
/// <para>
/// Writing: <see cref="TryWriteFrame(ReadOnlySpan{byte})"/>, <see cref="TryWriteFrame(in ReadOnlySequence{byte})"/> and
/// <see cref="BeginWrite"/> append whole frames under a short lock and never wait; <see cref="TryFlush"/> hands them
/// to the send loop. Write many frames, flush once. Pending output is bounded: a write that would leave more than
/// <see cref="TransportOptions.MaxPendingSendBytes"/> unsent aborts the connection with
/// <see cref="CloseReason.SlowConsumer"/> and returns <see langword="false"/>, so a peer that stops reading never
/// stalls the connections relaying to it. A writer that wants backpressure instead (a client sending a file)
/// awaits <see cref="FlushAsync"/>.
/// </para>
/// <para>Once framed, the connection's <see cref="FastChatConnection.Input"/> and <see cref="FastChatConnection.Output"/> belong to this object.</para>
/// </remarks>
public sealed partial class FramedConnection : IAsyncDisposable
{
    private readonly FastChatConnection _connection;
    private readonly PipeWriter _output;
    private readonly OutputLock _writeLock;
    private readonly ILogger _logger;
    private int _unflushedFrames;
    private bool _scopeActive;
    private int _running;
    private Task? _runTask;
    private volatile bool _readStopped;
    private volatile bool _writesClosed;

    /// <summary>Frames a connection.</summary>
    /// <param name="connection">The connection; its <see cref="TransportOptions"/> give the frame and pending-output limits.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is <see langword="null"/>.</exception>
    public FramedConnection(FastChatConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _output = connection.Output;
        _writeLock = connection.OutputLock;
        _logger = connection.Logger;
        MaxFrameSize = connection.Settings.MaxFrameSize;
        MaxPendingSendBytes = connection.Settings.MaxPendingSendBytes;
    }

    /// <summary>The connection underneath.</summary>
    public FastChatConnection Connection => _connection;

    /// <summary>The connection's id (see <see cref="FastChatConnection.Id"/>).</summary>
    public long Id => _connection.Id;

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint => _connection.RemoteEndPoint;

    /// <summary>The largest payload read or written, in bytes (<see cref="TransportOptions.MaxFrameSize"/>).</summary>
    public int MaxFrameSize { get; }

    /// <summary>The most bytes that may wait unsent before the peer counts as a slow consumer (<see cref="TransportOptions.MaxPendingSendBytes"/>).</summary>
    public long MaxPendingSendBytes { get; }

    /// <summary>Bytes written that have not been handed to the socket yet.</summary>
    public long PendingSendBytes => _connection.PendingSendBytes;

    /// <summary>Why the connection closed, or <see cref="CloseReason.None"/> while it is open.</summary>
    public CloseReason CloseReason => _connection.CloseReason;

    /// <summary>Cancelled once the connection has closed.</summary>
    public CancellationToken ConnectionClosed => _connection.ConnectionClosed;

    /// <summary><see langword="true"/> once the connection is closed or closing: writes return <see langword="false"/>.</summary>
    public bool IsClosed => _writesClosed || _connection.IsClosed;

    internal IBufferWriter<byte> ScopeWriter => _output;

    /// <summary>
    /// Closes gracefully: stops reading, flushes the frames already written, sends them followed by FIN, then closes the
    /// socket (aborting instead if the peer does not take them within <see cref="TransportOptions.CloseTimeout"/>).
    /// Writes made after this starts return <see langword="false"/>. Safe from any thread and more than once.
    /// </summary>
    /// <param name="reason">The reason to record if none is yet.</param>
    /// <param name="error">An error to record with it.</param>
    /// <returns>A task that completes when the connection has closed. It never faults.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reason"/> is <see cref="CloseReason.None"/>.</exception>
    /// <exception cref="InvalidOperationException">This thread holds an open <see cref="FrameWriteScope"/> on this connection (dispose it first, or <see cref="Abort"/>).</exception>
    public ValueTask CloseAsync(CloseReason reason = CloseReason.LocalClose, Exception? error = null)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(reason, CloseReason.None);
        StopReading();
        using (_writeLock.EnterScope())
        {
            if (!_writesClosed)
            {
                _writesClosed = true;
                if (!_connection.IsOutputCompleted && !_connection.IsClosed)
                {
                    FlushUnsynchronized();
                }
            }
        }

        return _connection.CloseAsync(reason, error);
    }

    /// <summary>Drops the connection at once, discarding unsent frames (see <see cref="FastChatConnection.Abort"/>).</summary>
    /// <param name="reason">The reason to record if none is yet.</param>
    /// <param name="error">An error to record with it.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reason"/> is <see cref="CloseReason.None"/>.</exception>
    public void Abort(CloseReason reason = CloseReason.Aborted, Exception? error = null)
    {
        StopReading();
        _connection.Abort(reason, error);
    }

    /// <summary>
    /// Closes gracefully (<see cref="CloseAsync"/>), waits for <see cref="RunAsync"/> to return, then disposes the
    /// connection. Never faults; bounded by <see cref="TransportOptions.CloseTimeout"/>.
    /// </summary>
    /// <returns>A task that completes when everything is released.</returns>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        Task? run = _runTask;
        if (run is not null && !run.IsCompleted)
        {
            try
            {
                await run.WaitAsync(_connection.Settings.CloseTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A handler is still holding a payload: leave the receive buffers to the garbage collector rather
                // than return them to the pool under its feet.
                return;
            }
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override string ToString() => _connection.ToString();

    private void StopReading()
    {
        if (_readStopped)
        {
            return;
        }

        _readStopped = true;
        if (Volatile.Read(ref _running) != 0)
        {
            _connection.Input.CancelPendingRead();
        }
    }

    private void OnSlowConsumer(long pendingBytes)
    {
        TransportLog.SlowConsumer(_logger, Id, pendingBytes, MaxPendingSendBytes);
        _connection.Abort(
            CloseReason.SlowConsumer,
            new ConnectionAbortedException(CloseReason.SlowConsumer, $"Connection {Id} would have {pendingBytes} B waiting to be sent, over the limit of {MaxPendingSendBytes} B: the peer is not reading fast enough."));
    }
}
