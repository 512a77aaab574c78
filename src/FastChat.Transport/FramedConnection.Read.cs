using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using FastChat.Protocol;
using FastChat.Protocol.Framing;
using FastChat.Transport.Internal;

namespace FastChat.Transport;

public sealed partial class FramedConnection
{
    private static readonly Action<object?> s_cancelPendingRead = static state => ((PipeReader)state!).CancelPendingRead();

    /// <summary>
    /// Reads frames until the peer finishes sending, the connection closes, or <paramref name="cancellationToken"/> is
    /// cancelled, handing each payload to <paramref name="handler"/>.
    /// </summary>
    /// <param name="handler">Receives the frames; see <see cref="IFrameHandler"/> for the payload's lifetime.</param>
    /// <param name="cancellationToken">Stops reading (the connection stays open; close or dispose it afterwards).</param>
    /// <returns>
    /// A task that completes when reading stops. It never faults for anything the peer or the network does: a reset,
    /// a protocol violation (the connection is then closed with <see cref="CloseReason.ProtocolViolation"/> or
    /// <see cref="CloseReason.FrameTooLarge"/>) or a handler failure (logged, and the connection aborted with
    /// <see cref="CloseReason.ApplicationError"/>) all end it normally; <see cref="CloseReason"/> tells them apart.
    /// When the peer finished sending cleanly the connection is left open for writing.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The connection is already being read.</exception>
    public Task RunAsync(IFrameHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            throw new InvalidOperationException($"Connection {Id} is already being read: RunAsync can be called only once.");
        }

        Task run = RunCoreAsync(handler, cancellationToken);
        _runTask = run;
        return run;
    }

    private async Task RunCoreAsync(IFrameHandler handler, CancellationToken cancellationToken)
    {
        PipeReader input = _connection.Input;

        // One registration for the whole loop: a token passed to every ReadAsync would be registered per read.
        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(s_cancelPendingRead, input);
        while (!_readStopped && !_connection.IsClosed)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (FastChatException)
            {
                // Reset, aborted or failed: the connection has recorded why.
                return;
            }

            if (result.IsCanceled)
            {
                return;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition consumed = buffer.Start;
            SequencePosition examined = buffer.End;
            int frames = 0;
            bool dispatched = false;
            bool canceled = false;
            ProtocolViolationException? violation = null;
            Exception? failure = null;
            try
            {
                while (!_readStopped)
                {
                    if (!FrameReader.TryReadFrame(ref buffer, MaxFrameSize, out ReadOnlySequence<byte> payload))
                    {
                        // Incomplete: examined stays at the end, so the next read waits for more bytes.
                        if (result.IsCompleted && !buffer.IsEmpty)
                        {
                            violation = new ProtocolViolationException($"The stream ended inside a frame: {buffer.Length} B of an incomplete frame were received.");
                        }

                        break;
                    }

                    dispatched = true;
                    await handler.OnFrameAsync(this, payload, cancellationToken).ConfigureAwait(false);
                    consumed = buffer.Start;
                    frames++;
                }

                if (_readStopped)
                {
                    examined = consumed;
                }
            }
            catch (ProtocolViolationException ex)
            {
                // A frame over the limit (from its prefix alone), or a payload the handler found malformed.
                violation = ex;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                canceled = true;
            }
#pragma warning disable CA1031 // A handler failure is logged and ends this connection only; it must not escape RunAsync.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
            }
            finally
            {
                // The payloads handed out are invalid from here on.
                input.AdvanceTo(consumed, examined);
            }

            if (frames > 0)
            {
                TransportMetrics.FramesReceived.Add(frames);
            }

            if (dispatched && !canceled)
            {
                failure ??= await CompleteBatchAsync(handler, cancellationToken).ConfigureAwait(false);
            }

            if (failure is not null)
            {
                TransportLog.FrameHandlerError(_logger, Id, failure);
                Abort(CloseReason.ApplicationError, failure);
                return;
            }

            if (violation is not null)
            {
                await CloseForViolationAsync(handler, violation).ConfigureAwait(false);
                return;
            }

            if (canceled || result.IsCompleted)
            {
                return;
            }
        }
    }

    // Pooled: it completes asynchronously whenever the handler waits in OnBatchCompletedAsync, e.g. for the peer to drain.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Exception?> CompleteBatchAsync(IFrameHandler handler, CancellationToken cancellationToken)
    {
        try
        {
            await handler.OnBatchCompletedAsync(this, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
#pragma warning disable CA1031 // Reported to the read loop, which logs it and aborts this connection only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }
    }

    private async Task CloseForViolationAsync(IFrameHandler handler, ProtocolViolationException violation)
    {
        CloseReason reason;
        if (violation is FrameTooLargeException tooLarge)
        {
            reason = CloseReason.FrameTooLarge;
            TransportLog.FrameTooLarge(_logger, Id, tooLarge.FrameLength, tooLarge.MaxFrameSize);
        }
        else
        {
            reason = CloseReason.ProtocolViolation;
            TransportLog.ProtocolViolation(_logger, Id, violation.Message);
        }

        try
        {
            // The handler's chance to write a final error frame; CloseAsync flushes it before the FIN.
            handler.OnProtocolViolation(this, violation);
        }
#pragma warning disable CA1031 // The connection is closing anyway; a failing hook must not stop that.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TransportLog.FrameHandlerError(_logger, Id, ex);
        }

        await CloseAsync(reason, violation).ConfigureAwait(false);
    }
}
