using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace FastChat.Transport.Internal;

// A plain TCP connection. Receives use Socket.ReceiveAsync(Memory<byte>), which reuses the socket's cached
// event args (no allocation per receive); multi-segment sends go out as one scatter/gather send through a
// pooled SocketSender.
internal sealed class SocketConnection : FastChatConnection
{
    private readonly Socket _socket;

    public SocketConnection(Socket socket, ConnectionSettings settings)
        : base(settings, socket.LocalEndPoint, socket.RemoteEndPoint)
    {
        _socket = socket;
    }

    // On Linux a zero-byte receive completes on any readiness event for the socket, including a stale one for bytes
    // the previous receive already took (epoll is edge-triggered, and the runtime completes a zero-byte receive on the
    // event without looking at the socket). Trusting it made the receive loop rent a pool block and park a real receive
    // on it, so 10-17 % of idle connections each held a 16 KiB block. So the wait asks the socket itself, and goes back
    // to waiting unless data or the peer's FIN is queued (poll reports both, and a reset, as readable, so a closed peer
    // cannot make this loop spin). The retry is cheap: the runtime then finds the socket not ready and parks it again.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private protected override async ValueTask WaitForDataCoreAsync()
    {
        while (true)
        {
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
            if (HasDataOrFin())
            {
                return;
            }
        }
    }

    private bool HasDataOrFin()
    {
        try
        {
            return _socket.Poll(0, SelectMode.SelectRead);
        }
        catch (SocketException)
        {
            // The socket is in a state poll cannot report on: let the real receive surface it.
            return true;
        }
        catch (ObjectDisposedException)
        {
            // Closed locally while waiting: the real receive reports it the way the loop expects.
            return true;
        }
    }

    private protected override ValueTask<int> ReceiveCoreAsync(Memory<byte> buffer) =>
        _socket.ReceiveAsync(buffer, SocketFlags.None);

    private protected override ValueTask SendCoreAsync(ReadOnlySequence<byte> buffer) =>
        buffer.IsSingleSegment ? SendAsync(buffer.First) : SendMultipleAsync(buffer);

    private protected override ValueTask ShutdownSendCoreAsync()
    {
        _socket.Shutdown(SocketShutdown.Send);
        return default;
    }

    private protected override void CloseTransportCore(bool abortive) => SocketCloser.Close(_socket, abortive);

    private protected override void DisposeTransportCore() => _socket.Dispose();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAsync(ReadOnlyMemory<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int sent = await _socket.SendAsync(buffer, SocketFlags.None).ConfigureAwait(false);
            buffer = buffer[sent..];
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendMultipleAsync(ReadOnlySequence<byte> buffer)
    {
        SocketSender sender = SocketSenderPool.Rent();
        try
        {
            while (!buffer.IsEmpty)
            {
                if (buffer.IsSingleSegment)
                {
                    await SendAsync(buffer.First).ConfigureAwait(false);
                    return;
                }

                int sent = await sender.SendAsync(_socket, buffer).ConfigureAwait(false);
                if (sent < 0)
                {
                    // A custom memory pool handed out memory that is not array-backed: no gather list is possible.
                    foreach (ReadOnlyMemory<byte> segment in buffer)
                    {
                        await SendAsync(segment).ConfigureAwait(false);
                    }

                    return;
                }

                buffer = buffer.Slice(sent);
            }
        }
        finally
        {
            SocketSenderPool.Return(sender);
        }
    }
}

internal static class SocketCloser
{
    public static void Close(Socket socket, bool abortive)
    {
        try
        {
            if (abortive)
            {
                // Linger 0: the socket is reset (RST) and queued data is dropped rather than sent.
                socket.LingerState = new LingerOption(enable: true, seconds: 0);
            }
            else
            {
                socket.Shutdown(SocketShutdown.Both);
            }
        }
        catch (SocketException)
        {
            // The peer already reset the connection, or it never connected: closing is all that is left.
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }

        socket.Dispose();
    }
}
