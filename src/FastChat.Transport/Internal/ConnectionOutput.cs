using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace FastChat.Transport.Internal;

// The application's end of the output pipe.
//
// The pipe underneath never pauses its writer (pauseWriterThreshold 0): a FramedConnection writes and flushes
// synchronously under a short lock from many threads, which a pausing pipe cannot allow. Backpressure lives
// here instead: every Advance is counted, the send loop counts what it sent, and FlushAsync stops completing
// while more than OutputPauseThreshold bytes are pending, until they fall to OutputResumeThreshold. The
// observable behaviour is a bounded pipe's.
//
// Writes are also buffered here: Pipe.Advance takes the pipe's monitor on every call, which for small frames
// costs more than writing them. This writer hands out the rest of the pipe's current buffer itself and
// advances the pipe once per buffer filled or per flush (as Kestrel's BufferWriter<T> does for HTTP
// responses), so a frame written costs a few field updates.
//
// Like any PipeWriter it has one writer at a time: FramedConnection's writers hold the connection's output
// lock, and an application writing to Output directly is its only writer.
internal sealed class ConnectionOutput : PipeWriter
{
    private readonly FastChatConnection _connection;
    private readonly PipeWriter _inner;

    // The inner pipe's write buffer, obtained by GetMemory and not yet advanced past, and how much of it this
    // writer has filled: the inner pipe learns of those bytes at the next Commit.
    private Memory<byte> _memory;
    private int _buffered;
    private int _flushCanceled;

    public ConnectionOutput(FastChatConnection connection, PipeWriter inner)
    {
        _connection = connection;
        _inner = inner;
    }

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _inner.UnflushedBytes + _buffered;

    public override void Advance(int bytes)
    {
        if ((uint)bytes > (uint)(_memory.Length - _buffered))
        {
            ThrowAdvancedTooFar(bytes);
        }

        _buffered += bytes;
        _connection.AddBytesWritten(bytes);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_memory.Length - _buffered < Math.Max(sizeHint, 1))
        {
            Renew(sizeHint);
        }

        return _memory[_buffered..];
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        if (_memory.Length - _buffered < Math.Max(sizeHint, 1))
        {
            Renew(sizeHint);
        }

        return _memory.Span[_buffered..];
    }

    public override void CancelPendingFlush()
    {
        Volatile.Write(ref _flushCanceled, 1);
        _connection.SignalDrain();
    }

    public override void Complete(Exception? exception = null) => _connection.CompleteOutput(exception);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        Commit();
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

    // Hands the buffered bytes to the inner pipe (still unflushed there). Called before its flush and its completion.
    internal void Commit()
    {
        if (_buffered != 0)
        {
            _inner.Advance(_buffered);
            _buffered = 0;
        }

        _memory = default;
    }

    [DoesNotReturn]
    private static void ThrowAdvancedTooFar(int bytes) =>
        throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "Advanced past the end of the buffer returned by GetMemory or GetSpan.");

    private void Renew(int sizeHint)
    {
        Commit();
        _memory = _inner.GetMemory(sizeHint);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
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
