using System.Collections.Concurrent;

namespace FastChat.Transport;

/// <summary>
/// Serves framed connections: accepts from a <see cref="FastChatListener"/>, wraps each connection in a
/// <see cref="FramedConnection"/>, runs it with a handler and disposes it when it ends.
/// </summary>
/// <remarks>
/// An in-process framed echo server, e.g. for a benchmark:
/// <code>
/// await using FastChatListener listener = FastChatListener.Bind(new ListenerOptions());
/// Task server = FramedServer.RunAsync(listener, EchoFrameHandler.Instance, stoppingToken);
/// // connect to listener.EndPoint …
/// </code>
/// </remarks>
public static class FramedServer
{
    /// <summary>Serves every connection with the same (stateless or thread-safe) handler.</summary>
    /// <param name="listener">Where connections come from.</param>
    /// <param name="handler">Handles the frames of every connection.</param>
    /// <param name="cancellationToken">Stops accepting and closes the served connections gracefully.</param>
    /// <returns>A task that completes once the listener is unbound (or the token cancelled) and every served connection has closed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="listener"/> or <paramref name="handler"/> is <see langword="null"/>.</exception>
    public static Task RunAsync(FastChatListener listener, IFrameHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return RunAsync(listener, _ => handler, cancellationToken);
    }

    /// <summary>Serves every connection with a handler made for it (to keep per-connection state in the handler).</summary>
    /// <param name="listener">Where connections come from.</param>
    /// <param name="handlerFactory">Makes the handler of each new connection. If it throws, that connection is aborted with <see cref="CloseReason.ApplicationError"/>.</param>
    /// <param name="cancellationToken">Stops accepting and closes the served connections gracefully.</param>
    /// <returns>A task that completes once the listener is unbound (or the token cancelled) and every served connection has closed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="listener"/> or <paramref name="handlerFactory"/> is <see langword="null"/>.</exception>
    public static async Task RunAsync(FastChatListener listener, Func<FramedConnection, IFrameHandler> handlerFactory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        var serving = new ConcurrentDictionary<long, Task>();
        try
        {
            while (true)
            {
                FastChatConnection? connection;
                try
                {
                    connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (connection is null)
                {
                    break;
                }

                Task task = ServeAsync(new FramedConnection(connection), handlerFactory, serving, cancellationToken);
                serving[connection.Id] = task;
                if (task.IsCompleted)
                {
                    serving.TryRemove(connection.Id, out _);
                }
            }
        }
        finally
        {
            await Task.WhenAll(serving.Values).ConfigureAwait(false);
        }
    }

    private static async Task ServeAsync(
        FramedConnection connection,
        Func<FramedConnection, IFrameHandler> handlerFactory,
        ConcurrentDictionary<long, Task> serving,
        CancellationToken cancellationToken)
    {
        // Let the accept loop go on at once: the connection is served on the thread pool.
        await Task.Yield();
        try
        {
            IFrameHandler handler;
            try
            {
                handler = handlerFactory(connection);
            }
#pragma warning disable CA1031 // A factory failure concerns this connection only.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                TransportLog.FrameHandlerError(connection.Connection.Logger, connection.Id, ex);
                connection.Abort(CloseReason.ApplicationError, ex);
                return;
            }

            await connection.RunAsync(handler, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            serving.TryRemove(connection.Id, out _);
        }
    }
}
