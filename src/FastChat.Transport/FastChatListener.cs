using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using FastChat.Transport.Internal;
using Microsoft.Extensions.Logging;

namespace FastChat.Transport;

/// <summary>
/// Listens on one endpoint and hands out accepted connections, plain or TLS, through <see cref="AcceptAsync"/>.
/// </summary>
/// <remarks>
/// <para>
/// A background loop accepts sockets as fast as they arrive, enforces <see cref="ListenerOptions.MaxConnections"/>
/// (connections over the limit are closed at once; see there), runs TLS handshakes concurrently (a slow client
/// never delays others) and queues ready connections for <see cref="AcceptAsync"/>. The application owns each
/// connection it accepts and disposes it; <see cref="DisposeAsync"/> aborts those still open.
/// </para>
/// <code>
/// await using FastChatListener listener = FastChatListener.Bind(new ListenerOptions { EndPoint = new IPEndPoint(IPAddress.Any, 5000) });
/// while (await listener.AcceptAsync(stoppingToken) is { } connection)
/// {
///     _ = HandleAsync(connection);
/// }
/// </code>
/// </remarks>
public sealed class FastChatListener : IAsyncDisposable
{
    // After an accept failure that is not about one connection (e.g. out of file descriptors), wait a little
    // rather than spin on the error.
    private static readonly TimeSpan s_acceptErrorDelay = TimeSpan.FromMilliseconds(100);

    private readonly Socket _listenSocket;
    private readonly ConnectionSettings _settings;
    private readonly ILogger _logger;
    private readonly int _maxConnections;
    private readonly SslServerAuthenticationOptions? _sslOptions;
    private readonly TimeSpan _handshakeTimeout;
    private readonly Channel<FastChatConnection> _ready;
    private readonly ConcurrentDictionary<long, FastChatConnection> _connections = new();
    private readonly CancellationTokenSource _unbindTokenSource = new();
    private readonly Action<FastChatConnection> _onConnectionClosed;
    private readonly Task _acceptLoop;
    private readonly Lock _disposeLock = new();
    private int _connectionCount;
    private long _rejectedConnections;
    private int _unbound;
    private Task? _disposeTask;

    private FastChatListener(Socket listenSocket, ListenerOptions options, ConnectionSettings settings, SslServerAuthenticationOptions? sslOptions)
    {
        _listenSocket = listenSocket;
        _settings = settings;
        _logger = settings.Logger;
        _maxConnections = options.MaxConnections;
        _sslOptions = sslOptions;
        _handshakeTimeout = options.Tls?.HandshakeTimeout ?? Timeout.InfiniteTimeSpan;
        EndPoint = listenSocket.LocalEndPoint!;
        _onConnectionClosed = OnConnectionClosed;

        // Unbounded, but never holds more than MaxConnections: every queued connection counts against the limit.
        _ready = Channel.CreateUnbounded<FastChatConnection>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
        TransportLog.ListenerBound(_logger, EndPoint);
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The endpoint actually bound: with port 0 in the options, this holds the port the system picked.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>Connections open now that this listener accepted (including those queued for <see cref="AcceptAsync"/> or in their TLS handshake).</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>Connections closed on arrival because <see cref="ListenerOptions.MaxConnections"/> were open.</summary>
    public long RejectedConnections => Interlocked.Read(ref _rejectedConnections);

    /// <summary>Binds a socket to <see cref="ListenerOptions.EndPoint"/> and starts accepting.</summary>
    /// <param name="options">Where to listen and the settings for accepted connections. Read once.</param>
    /// <returns>The listening listener.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The options are invalid (see <see cref="ListenerOptions.Validate"/>) or the TLS certificate cannot be loaded.</exception>
    /// <exception cref="TransportException">The endpoint cannot be bound (e.g. the address is in use).</exception>
    public static FastChatListener Bind(ListenerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ConnectionSettings settings = ConnectionSettings.Create(options);
        SslServerAuthenticationOptions? sslOptions = options.Tls is null ? null : TlsCertificates.CreateServerOptions(options.Tls);

        EndPoint endPoint = options.EndPoint;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, endPoint is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        try
        {
            if (endPoint is IPEndPoint ip && ip.Address.Equals(IPAddress.IPv6Any))
            {
                // [::] also accepts IPv4 clients.
                socket.DualMode = true;
            }

            socket.Bind(endPoint);
            socket.Listen(options.Backlog);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new TransportException($"Could not listen on {endPoint}: {ex.Message}", ex);
        }

        return new FastChatListener(socket, options, settings, sslOptions);
    }

    /// <summary>Waits for the next connection.</summary>
    /// <param name="cancellationToken">Stops waiting (the listener keeps listening).</param>
    /// <returns>The next ready connection, or <see langword="null"/> once the listener is unbound or disposed.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async ValueTask<FastChatConnection?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (await _ready.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_ready.Reader.TryRead(out FastChatConnection? connection))
            {
                return connection;
            }
        }

        return null;
    }

    /// <summary>
    /// Stops listening: the port is released, pending <see cref="AcceptAsync"/> calls return <see langword="null"/>,
    /// and connections accepted but not yet returned are closed with <see cref="CloseReason.Shutdown"/>. Connections
    /// already returned stay open.
    /// </summary>
    /// <param name="cancellationToken">Unused; present for symmetry with other listeners.</param>
    /// <returns>A task that completes once the accept loop has stopped.</returns>
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _unbound, 1) != 0)
        {
            await _acceptLoop.ConfigureAwait(false);
            return;
        }

        await _unbindTokenSource.CancelAsync().ConfigureAwait(false);
        _listenSocket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out FastChatConnection? connection))
        {
            connection.Abort(CloseReason.Shutdown);
        }

        TransportLog.ListenerUnbound(_logger, EndPoint);
    }

    /// <summary>
    /// Unbinds, then aborts every connection this listener accepted that is still open, with
    /// <see cref="CloseReason.Shutdown"/>, and waits (bounded by <see cref="TransportOptions.CloseTimeout"/>) for them
    /// to stop. For a graceful shutdown, close the connections first. Safe to call more than once.
    /// </summary>
    /// <returns>A task that completes once the listener and its connections have stopped. It never faults.</returns>
    public ValueTask DisposeAsync()
    {
        Task dispose;
        using (_disposeLock.EnterScope())
        {
            dispose = _disposeTask ??= DisposeCoreAsync();
        }

        return new ValueTask(dispose);
    }

    private async Task DisposeCoreAsync()
    {
        await UnbindAsync().ConfigureAwait(false);
        var stopping = new List<Task>(_connections.Count);
        foreach (KeyValuePair<long, FastChatConnection> entry in _connections)
        {
            stopping.Add(entry.Value.AbortAndWaitAsync(CloseReason.Shutdown));
        }

        await Task.WhenAll(stopping).ConfigureAwait(false);
        _unbindTokenSource.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        CancellationToken unbound = _unbindTokenSource.Token;
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listenSocket.AcceptAsync(unbound).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || Volatile.Read(ref _unbound) != 0)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // The client gave up before it was accepted: nothing to do.
                continue;
            }
#pragma warning disable CA1031 // The accept loop must survive anything but unbinding: log, pause briefly, go on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                TransportLog.AcceptError(_logger, EndPoint, ex);
                try
                {
                    await Task.Delay(s_acceptErrorDelay, unbound).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            OnAccepted(socket);
        }
    }

    private void OnAccepted(Socket socket)
    {
        if (Interlocked.Increment(ref _connectionCount) > _maxConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            Interlocked.Increment(ref _rejectedConnections);
            TransportMetrics.ConnectionsRejected.Add(1);
            TransportLog.ConnectionRejected(_logger, socket.RemoteEndPoint, CloseReason.ConnectionLimit, _maxConnections);
            SocketCloser.Close(socket, abortive: false);
            return;
        }

        FastChatConnection connection;
        try
        {
            SocketConfiguration.Apply(socket, _settings);
            connection = _sslOptions is null ? new SocketConnection(socket, _settings) : new SslConnection(socket, _settings);
        }
        catch (SocketException)
        {
            // The client reset the connection between accept and setup.
            Interlocked.Decrement(ref _connectionCount);
            socket.Dispose();
            return;
        }

        connection.ClosedCallback = _onConnectionClosed;
        _connections[connection.Id] = connection;
        TransportLog.ConnectionAccepted(_logger, connection.Id, connection.RemoteEndPoint);
        if (connection is SslConnection tls)
        {
            _ = HandshakeAsync(tls);
        }
        else
        {
            Publish(connection);
        }
    }

    private async Task HandshakeAsync(SslConnection connection)
    {
        using var timeout = new CancellationTokenSource(_handshakeTimeout);
        try
        {
            await connection.AuthenticateAsServerAsync(_sslOptions!, timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed handshake (bad client, timeout, reset) concerns that connection alone: log and drop it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            string message = timeout.IsCancellationRequested
                ? $"no handshake within {_handshakeTimeout.TotalMilliseconds:0} ms"
                : ex.Message;
            TransportMetrics.TlsHandshakeFailures.Add(1);
            TransportLog.TlsHandshakeFailed(_logger, connection.Id, message, ex);
            connection.FailBeforeStart(CloseReason.TlsFailure, new TlsHandshakeException($"The TLS handshake failed: {message}", ex));
            return;
        }

        Publish(connection);
    }

    private void Publish(FastChatConnection connection)
    {
        if (!connection.Start())
        {
            return;
        }

        if (!_ready.Writer.TryWrite(connection))
        {
            // Unbound meanwhile: nobody will accept it.
            connection.Abort(CloseReason.Shutdown);
        }
    }

    private void OnConnectionClosed(FastChatConnection connection)
    {
        if (_connections.TryRemove(connection.Id, out _))
        {
            Interlocked.Decrement(ref _connectionCount);
        }
    }
}
