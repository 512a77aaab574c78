using System.IO.Pipelines;

namespace FastChat.Transport.Internal;

// Runs one pipe end's continuations on the thread pool without allocating per continuation.
//
// PipeScheduler.ThreadPool allocates a work item for every Schedule call, which on a connection means one per
// receive batch or per flush, i.e. per message in a ping-pong exchange. A pipe end has at most one continuation
// waiting at a time, so each connection owns one of these per pipe end and reuses it as the work item itself.
// Should a second Schedule arrive before the first has started running (not expected from Pipe), it falls back
// to the allocating path rather than losing a continuation.
//
// Deliberately left out: execution context flow (Pipe captures and restores it itself when the awaiter asks)
// and any ordering across connections.
internal sealed class ConnectionScheduler : PipeScheduler, IThreadPoolWorkItem
{
    private Action<object?>? _action;
    private object? _state;
    private int _queued;

    public override void Schedule(Action<object?> action, object? state)
    {
        if (Interlocked.CompareExchange(ref _queued, 1, 0) == 0)
        {
            _action = action;
            _state = state;
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
        else
        {
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        Action<object?> action = _action!;
        object? state = _state;
        _action = null;
        _state = null;

        // Free the slot before running: the continuation commonly schedules the next one.
        Volatile.Write(ref _queued, 0);
        action(state);
    }
}
