using System.IO.Pipelines;

namespace FastChat.Transport.Internal;

// The application's end of the output pipe.
//
// The pipe underneath never pauses its writer (pauseWriterThreshold 0): a FramedConnection writes and flushes
// synchronously under a short lock from many threads, which a pausing pipe cannot allow. Backpressure lives
// here instead: every Advance is counted, the send loop counts what it sent, and FlushAsync stops completing
// while more than OutputPauseThreshold bytes are pending, until they fall to OutputResumeThreshold. The
// observable behaviour is a bounded pipe's.
internal sealed class ConnectionOutput : PipeWriter
{
    private readonly FastChatConnection _connection;
    private readonly PipeWriter _inner;
    private int _flushCanceled;

    public ConnectionOutput(FastChatConnection connection, PipeWriter inner)
    {
        _connection = connection;
        _inner = inner;
    }

    public override bool CanGetUnflushedBytes => _inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => _inner.UnflushedBytes;

    public override void Advance(int bytes)
    {
        _inner.Advance(bytes);
        _connection.AddBytesWritten(bytes);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);

    public override void CancelPendingFlush()
    {
        Volatile.Write(ref _flushCanceled, 1);
        _connection.SignalDrain();
    }

    public override void Complete(Exception? exception = null) => _connection.CompleteOutput(exception);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<FlushResult> flush = _inner.FlushAsync(cancellationToken);
        if (!flush.IsCompletedSuccessfully)
        {
            return flush;
        }

        FlushResult result = flush.Result;
        if (Interlocked.Exchange(ref _flushCanceled, 0) != 0)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: true, isCompleted: result.IsCompleted));
        }

        if (result.IsCompleted || result.IsCanceled || !_connection.IsOverPauseThreshold)
        {
            return new ValueTask<FlushResult>(result);
        }

        return WaitForDrainAsync(cancellationToken);
    }

    private async ValueTask<FlushResult> WaitForDrainAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (Interlocked.Exchange(ref _flushCanceled, 0) != 0)
            {
                return new FlushResult(isCanceled: true, isCompleted: false);
            }

            Task? drained = _connection.GetDrainTask();
            if (drained is null)
            {
                return new FlushResult(isCanceled: false, isCompleted: _connection.IsClosed);
            }

            await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
