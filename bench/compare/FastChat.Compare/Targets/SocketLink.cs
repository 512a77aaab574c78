using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FastChat.Compare.Raw;

namespace FastChat.Compare.Targets;

/// <summary>
/// One TCP connection of an adapter: a receive loop that hands the unread bytes to the protocol's parser, a
/// <see cref="BatchingSender"/> for writes from any thread, and a queue of confirmations the adapter waits for
/// (NATS PONGs, Redis subscribe replies, raw Subscribed frames), completed in the order the protocol answers them.
/// </summary>
internal abstract class SocketLink : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<TaskCompletionSource> _confirmations = new();
    private Task _receiving = Task.CompletedTask;
    private Exception? _failure;

    /// <summary>A link over a connected <paramref name="socket"/>; call <see cref="Start"/> once the subclass is ready.</summary>
    protected SocketLink(Socket socket)
    {
        Socket = socket;
        Sender = new SocketBatchingSender(socket, Fail);
    }

    /// <summary>The socket.</summary>
    protected Socket Socket { get; }

    /// <summary>Writes go here.</summary>
    public BatchingSender Sender { get; }

    /// <summary>Why the link failed (the peer closed, or broke the protocol), or <see langword="null"/>.</summary>
    public Exception? Failure => Volatile.Read(ref _failure) ?? Sender.Failure;

    /// <summary>Connects to <paramref name="endPoint"/> with Nagle off.</summary>
    /// <exception cref="IOException">The connection was refused or timed out.</exception>
    public static async Task<Socket> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw new IOException($"Cannot connect to {endPoint}: {ex.Message}", ex);
        }
    }

    /// <summary>Starts the receive loop.</summary>
    public void Start() => _receiving = ReceiveLoopAsync();

    /// <summary>
    /// Registers a wait for the next confirmation the protocol answers in order; register before writing the request,
    /// so the answer cannot arrive first.
    /// </summary>
    /// <exception cref="IOException">The link already failed.</exception>
    public Task ExpectConfirmation()
    {
        var confirmation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _confirmations.Enqueue(confirmation);
        if (Failure is { } failure)
        {
            FailConfirmations(failure);
        }

        return confirmation.Task;
    }

    /// <summary>Closes the socket and waits for the receive loop.</summary>
    public async ValueTask DisposeAsync()
    {
        Sender.Close();
        try
        {
            Socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already gone.
        }

        Socket.Dispose();
        await _receiving.ConfigureAwait(false);
    }

    /// <summary>Parses and handles every whole frame at the front of <paramref name="input"/>; returns the bytes used.</summary>
    protected abstract int OnReceived(ReadOnlySpan<byte> input);

    /// <summary>Completes the oldest waiting confirmation.</summary>
    /// <exception cref="IOException">Nothing was waiting: the peer confirmed what was never asked.</exception>
    protected void Confirm()
    {
        if (!_confirmations.TryDequeue(out TaskCompletionSource? confirmation))
        {
            throw new IOException("The server confirmed a request that was never made.");
        }

        confirmation.TrySetResult();
    }

    /// <summary>Fails the link with <paramref name="error"/>: waiting confirmations fail, the socket closes.</summary>
    protected void Fail(Exception error)
    {
        Interlocked.CompareExchange(ref _failure, error, null);
        FailConfirmations(error);
        Sender.Close();
        Socket.Dispose();
    }

    private void FailConfirmations(Exception error)
    {
        while (_confirmations.TryDequeue(out TaskCompletionSource? confirmation))
        {
            confirmation.TrySetException(new IOException("The connection failed: " + error.Message, error));
        }
    }

    private async Task ReceiveLoopAsync()
    {
        // Yield so that Start returns before the first receive, whatever the socket has ready.
        await Task.Yield();
        using var buffer = new ReceiveBuffer();
        try
        {
            while (true)
            {
                int received = await Socket.ReceiveAsync(buffer.FreeSpace(), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    Fail(new IOException("The server closed the connection."));
                    return;
                }

                buffer.Advance(received);
                buffer.Consume(OnReceived(buffer.Unread));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException or InvalidDataException or RawProtocolException)
        {
            Fail(ex);
        }
    }
}
