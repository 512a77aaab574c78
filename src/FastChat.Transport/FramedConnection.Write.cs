using System.Buffers;
using System.Runtime.CompilerServices;
using FastChat.Protocol;
using FastChat.Protocol.Framing;
using FastChat.Transport.Internal;

namespace FastChat.Transport;

public sealed partial class FramedConnection
{
    /// <summary>Appends one frame (prefix and payload) to the output without flushing it. Thread-safe; never waits.</summary>
    /// <param name="payload">The payload; it is copied into the output.</param>
    /// <returns>
    /// <see langword="true"/> if the frame was queued; <see langword="false"/> if the connection is closed or closing,
    /// or the frame would have left more than <see cref="MaxPendingSendBytes"/> unsent, in which case the connection has
    /// just been aborted with <see cref="CloseReason.SlowConsumer"/>.
    /// </returns>
    /// <exception cref="FrameTooLargeException">The payload is larger than <see cref="MaxFrameSize"/> (the peer would refuse it).</exception>
    /// <exception cref="InvalidOperationException">This thread holds an open <see cref="FrameWriteScope"/> on this connection (writing now would tear its frame).</exception>
    public bool TryWriteFrame(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxFrameSize)
        {
            ThrowHelper.ThrowFrameTooLarge(payload.Length, MaxFrameSize);
        }

        using (_writeLock.EnterScope())
        {
            if (!CanWriteUnsynchronized(FrameReader.HeaderSize + payload.Length))
            {
                return false;
            }

            FrameWriter.WriteFrame(_output, payload);
            _unflushedFrames++;
            return true;
        }
    }

    /// <summary>
    /// Appends one frame whose payload is a (possibly multi-segment) sequence, such as a payload received on another
    /// connection being relayed, without flushing it. Thread-safe; never waits.
    /// </summary>
    /// <param name="payload">The payload; it is copied into the output, so it may be released once this returns.</param>
    /// <returns>As <see cref="TryWriteFrame(ReadOnlySpan{byte})"/>.</returns>
    /// <exception cref="FrameTooLargeException">The payload is larger than <see cref="MaxFrameSize"/> (the peer would refuse it).</exception>
    /// <exception cref="InvalidOperationException">This thread holds an open <see cref="FrameWriteScope"/> on this connection (writing now would tear its frame).</exception>
    public bool TryWriteFrame(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length > MaxFrameSize)
        {
            ThrowHelper.ThrowFrameTooLarge(payload.Length, MaxFrameSize);
        }

        using (_writeLock.EnterScope())
        {
            if (!CanWriteUnsynchronized(FrameReader.HeaderSize + payload.Length))
            {
                return false;
            }

            FrameWriter.WriteFrame(_output, payload);
            _unflushedFrames++;
            return true;
        }
    }

    /// <summary>
    /// Takes the connection's write lock to write one frame of a size not known in advance directly into the output
    /// (see <see cref="FrameWriteScope"/>). Dispose the scope promptly, on the same thread and without awaiting.
    /// </summary>
    /// <returns>
    /// An active scope, or an inactive one (<see cref="FrameWriteScope.IsActive"/> is <see langword="false"/>, and
    /// nothing is locked) when the connection is closed or already over <see cref="MaxPendingSendBytes"/>.
    /// </returns>
    /// <exception cref="InvalidOperationException">This thread already holds a scope on this connection.</exception>
    public FrameWriteScope BeginWrite()
    {
        // Throws on the thread that holds an open scope: the lock is not re-entrant.
        _writeLock.Enter();
        if (!CanWriteUnsynchronized(0))
        {
            _writeLock.Exit();
            return default;
        }

        _scopeActive = true;
        return new FrameWriteScope(this);
    }

    /// <summary>
    /// Hands every frame written so far to the send loop, without waiting for them to be sent. Thread-safe. Call it
    /// once per batch of writes (e.g. from <see cref="IFrameHandler.OnBatchCompletedAsync"/>).
    /// </summary>
    /// <returns><see langword="false"/> if the connection is closed or closing.</returns>
    /// <exception cref="InvalidOperationException">This thread holds an open <see cref="FrameWriteScope"/> on this connection (flushing now would send half a frame).</exception>
    public bool TryFlush()
    {
        using (_writeLock.EnterScope())
        {
            if (_writesClosed || _connection.IsOutputCompleted || _connection.IsClosed)
            {
                _unflushedFrames = 0;
                return false;
            }

            FlushUnsynchronized();
            return true;
        }
    }

    /// <summary>
    /// Flushes (as <see cref="TryFlush"/>), then, if more than <see cref="TransportOptions.OutputPauseThreshold"/> bytes
    /// are waiting to be sent, waits until they fall to <see cref="TransportOptions.OutputResumeThreshold"/>. For
    /// writers that should slow down with the peer, such as a client sending a file; a relay writing on behalf of
    /// others should use <see cref="TryFlush"/> and rely on <see cref="MaxPendingSendBytes"/> instead.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the frames stay queued.</param>
    /// <returns><see langword="true"/> if the connection is still open.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    /// <exception cref="InvalidOperationException">This thread holds an open <see cref="FrameWriteScope"/> on this connection (flushing now would send half a frame).</exception>
    public ValueTask<bool> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (!TryFlush())
        {
            return new ValueTask<bool>(false);
        }

        if (!_connection.IsOverPauseThreshold)
        {
            return new ValueTask<bool>(true);
        }

        return WaitForDrainAsync(cancellationToken);
    }

    internal void EndWrite()
    {
        if (!_scopeActive || !_writeLock.IsHeldByCurrentThread)
        {
            return;
        }

        _scopeActive = false;
        _unflushedFrames++;
        long pending = _connection.PendingSendBytes;
        if (pending > MaxPendingSendBytes)
        {
            OnSlowConsumer(pending);
        }

        _writeLock.Exit();
    }

    // Pooled: a writer that keeps its peer busy waits here once per OutputPauseThreshold bytes.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitForDrainAsync(CancellationToken cancellationToken)
    {
        while (_connection.GetDrainTask() is { } drained)
        {
            await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return !IsClosed;
    }

    // The caller holds the write lock (so no scope is open: taking the lock on the thread holding a scope throws).
    private bool CanWriteUnsynchronized(long frameBytes)
    {
        if (_writesClosed || _connection.IsOutputCompleted || _connection.IsClosed)
        {
            return false;
        }

        long pending = _connection.PendingSendBytes + frameBytes;
        if (pending > MaxPendingSendBytes)
        {
            OnSlowConsumer(pending);
            return false;
        }

        return true;
    }

    // The caller holds the write lock.
    private void FlushUnsynchronized()
    {
        if (_output.UnflushedBytes != 0)
        {
            _connection.FlushOutputUnsynchronized();
        }

        if (_unflushedFrames != 0)
        {
            TransportMetrics.FramesSent.Add(_unflushedFrames);
            _unflushedFrames = 0;
        }
    }
}
