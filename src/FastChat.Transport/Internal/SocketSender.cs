using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace FastChat.Transport.Internal;

// A reusable scatter/gather send: one Socket.SendAsync(SocketAsyncEventArgs) for a multi-segment sequence, with
// the buffer list and the event args reused, so a send allocates nothing in steady state.
// (Socket.SendAsync(IList<ArraySegment<byte>>) would allocate a Task per call.)
//
// Deliberately left out: cancellation (a send is stopped by closing the socket), execution context flow and
// ValueTask token validation beyond ManualResetValueTaskSourceCore's own.
internal sealed class SocketSender : SocketAsyncEventArgs, IValueTaskSource<int>
{
    // The runtime stack-allocates the native iovec and pin arrays for up to 8 buffers (Linux's UIO_FASTIOV) and
    // heap-allocates both beyond that, on every send. Eight segments per sendmsg (128 KiB of the default pool's
    // 16 KiB blocks) keeps sends allocation-free; longer sequences take several sends. With 4 KiB blocks the cap
    // cost a second syscall for a 34 KiB batch; at 16 KiB a send of up to 128 KiB is one syscall.
    private const int MaxSegmentsPerSend = 8;

    private readonly List<ArraySegment<byte>> _bufferList = new(16);
    private ManualResetValueTaskSourceCore<int> _source;

    public SocketSender()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    // Sends a prefix of a multi-segment sequence whose segments are all array-backed and returns the number of
    // bytes sent. Returns -1 (synchronously) when a segment is not array-backed; the caller then sends segment by segment.
    public ValueTask<int> SendAsync(Socket socket, in ReadOnlySequence<byte> buffer)
    {
        _bufferList.Clear();
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (segment.IsEmpty)
            {
                continue;
            }

            if (!MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
            {
                _bufferList.Clear();
                return new ValueTask<int>(-1);
            }

            _bufferList.Add(array);
            if (_bufferList.Count == MaxSegmentsPerSend)
            {
                break;
            }
        }

        // The event args hold either a single buffer or a list, never both.
        if (Buffer is not null)
        {
            SetBuffer(null, 0, 0);
        }

        BufferList = _bufferList;
        _source.Reset();
        if (socket.SendAsync(this))
        {
            return new ValueTask<int>(this, _source.Version);
        }

        return CompletedSynchronously();
    }

    public void Reset()
    {
        BufferList = null;
        _bufferList.Clear();
    }

    private ValueTask<int> CompletedSynchronously() =>
        SocketError == SocketError.Success
            ? new ValueTask<int>(BytesTransferred)
            : ValueTask.FromException<int>(new SocketException((int)SocketError));

    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        if (SocketError == SocketError.Success)
        {
            _source.SetResult(BytesTransferred);
        }
        else
        {
            _source.SetException(new SocketException((int)SocketError));
        }
    }

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}

// Senders are rented per send rather than owned per connection, so idle connections hold none (as Kestrel does).
// The pool is capped; surplus senders are disposed.
internal static class SocketSenderPool
{
    private const int MaxPooled = 1024;

    private static readonly ConcurrentQueue<SocketSender> s_pool = new();
    private static int s_count;

    public static SocketSender Rent()
    {
        if (s_pool.TryDequeue(out SocketSender? sender))
        {
            Interlocked.Decrement(ref s_count);
            return sender;
        }

        return new SocketSender();
    }

    public static void Return(SocketSender sender)
    {
        sender.Reset();
        if (Interlocked.Increment(ref s_count) > MaxPooled)
        {
            Interlocked.Decrement(ref s_count);
            sender.Dispose();
            return;
        }

        s_pool.Enqueue(sender);
    }
}
