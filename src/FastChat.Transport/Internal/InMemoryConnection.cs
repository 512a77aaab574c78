using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace FastChat.Transport.Internal;

// A connection whose "socket" is a pair of in-memory pipes: it receives what is written to the incoming pipe and
// sends into the outgoing pipe (or discards, when there is none). Everything above the socket calls (both loops,
// the pipes, backpressure, closing) is the real FastChatConnection, so benchmarks can drive the relay path without
// the kernel's loopback costs dominating.
internal sealed class InMemoryConnection : FastChatConnection
{
    private readonly PipeReader _incoming;
    private readonly PipeWriter? _outgoing;
    private readonly Action<long>? _onSent;

    private InMemoryConnection(ConnectionSettings settings, PipeReader incoming, PipeWriter? outgoing, Action<long>? onSent)
        : base(settings, localEndPoint: null, remoteEndPoint: null)
    {
        _incoming = incoming;
        _outgoing = outgoing;
        _onSent = onSent;
    }

    // Creates and starts a connection. With no outgoing pipe, sent bytes are reported to onSent (if given) and dropped.
    public static FastChatConnection Start(TransportOptions options, PipeReader incoming, PipeWriter? outgoing, Action<long>? onSent = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(incoming);
        var connection = new InMemoryConnection(ConnectionSettings.Create(options), incoming, outgoing, onSent);
        connection.Start();
        return connection;
    }

    // The incoming pipe's read already waits for data; the receive then holds the buffer only while copying.
    private protected override ValueTask WaitForDataCoreAsync() => default;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private protected override async ValueTask<int> ReceiveCoreAsync(Memory<byte> buffer)
    {
        while (true)
        {
            ReadResult result = await _incoming.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> data = result.Buffer;
            if (!data.IsEmpty)
            {
                int count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                _incoming.AdvanceTo(data.GetPosition(count));
                return count;
            }

            _incoming.AdvanceTo(data.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                // The writer finished (FIN), or the connection is closing.
                return 0;
            }
        }
    }

    private protected override ValueTask SendCoreAsync(ReadOnlySequence<byte> buffer)
    {
        if (_outgoing is null)
        {
            _onSent?.Invoke(buffer.Length);
            return default;
        }

        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            _outgoing.Write(segment.Span);
        }

        ValueTask<FlushResult> flush = _outgoing.FlushAsync();
        return flush.IsCompletedSuccessfully ? default : AwaitFlushAsync(flush);
    }

    private protected override ValueTask ShutdownSendCoreAsync()
    {
        _outgoing?.Complete();
        return default;
    }

    private protected override void CloseTransportCore(bool abortive)
    {
        _incoming.CancelPendingRead();
        _outgoing?.CancelPendingFlush();
    }

    private protected override void DisposeTransportCore()
    {
        _incoming.Complete();
        _outgoing?.Complete();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush) => await flush.ConfigureAwait(false);
}
