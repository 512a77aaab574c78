using System.IO.Pipelines;
using FastChat.Transport.Internal;

namespace FastChat.Transport;

public abstract partial class FastChatConnection
{
    // Asks the pool for at least this much room per receive, so a nearly full segment is not filled a few
    // bytes at a time: with the default pool's 16 KiB blocks, a receive gets between 2 KiB and a whole block.
    // (Raising it to 8 KiB made no measurable difference to the echo benchmark.)
    private const int MinimumReceiveBufferSize = 2048;

    private long _lastReceiveTimestamp;
    private volatile bool _receivePaused;
    private volatile bool _receivedFin;

    // Called once a second by the heartbeat.
    internal void OnHeartbeat(long now)
    {
        // A paused loop is waiting for the application, not for the peer; a stopped one has nothing to wait for.
        if (IsClosed || _receivePaused)
        {
            return;
        }

        if (now - Volatile.Read(ref _lastReceiveTimestamp) > (long)Settings.IdleTimeout.TotalMilliseconds)
        {
            TransportLog.IdleTimeout(Logger, Id, Settings.IdleTimeout);
            Abort(CloseReason.IdleTimeout);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter input = _inputPipe.Writer;
        bool waitForData = Settings.WaitForDataBeforeAllocatingBuffer;
        bool bufferWasFilled = false;
        try
        {
            while (true)
            {
                // With no data known to be waiting, wait without a buffer: an idle connection then holds no
                // pool memory. Skipped when the last receive filled its buffer, since more is likely queued.
                if (waitForData && !bufferWasFilled)
                {
                    await WaitForDataCoreAsync().ConfigureAwait(false);
                }

                Memory<byte> buffer = input.GetMemory(MinimumReceiveBufferSize);
                int received = await ReceiveCoreAsync(buffer).ConfigureAwait(false);
                if (received == 0)
                {
                    _receivedFin = true;
                    TransportLog.ConnectionReadFin(Logger, Id);
                    break;
                }

                bufferWasFilled = received == buffer.Length;
                input.Advance(received);
                Volatile.Write(ref _bytesReceived, _bytesReceived + received);
                Volatile.Write(ref _lastReceiveTimestamp, Environment.TickCount64);
                TransportMetrics.BytesReceived.Add(received);

                ValueTask<FlushResult> flushTask = input.FlushAsync();
                FlushResult result;
                if (flushTask.IsCompleted)
                {
                    result = flushTask.Result;
                }
                else
                {
                    // The application has InputPauseThreshold bytes unread: stop receiving until it catches up.
                    _receivePaused = true;
                    TransportLog.ConnectionPause(Logger, Id);
                    result = await flushTask.ConfigureAwait(false);
                    Volatile.Write(ref _lastReceiveTimestamp, Environment.TickCount64);
                    _receivePaused = false;
                    TransportLog.ConnectionResume(Logger, Id);
                }

                // Completed: the application stopped reading. Canceled: the connection is closing.
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
#pragma warning disable CA1031 // Every failure of the loop is recorded on the connection and completes Input; none may escape to the thread pool.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            FailWith(ex);
        }
        finally
        {
            // Nothing more will arrive: stop idle checks for a loop that no longer waits on the peer.
            _receivePaused = true;
            input.Complete(GetInputCompletionError());
            ReleaseReference();
        }
    }
}
