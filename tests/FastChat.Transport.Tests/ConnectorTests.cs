using System.Net;
using System.Net.Sockets;

namespace FastChat.Transport.Tests;

public sealed class ConnectorTests
{
    /// <summary>Guards cancellation: an already-cancelled token stops the attempt before anything is opened.</summary>
    [Fact]
    public async Task ConnectAsync_CancelledToken_ThrowsOperationCanceled()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await FastChatConnector.ConnectAsync(listener.EndPoint, cancellationToken: cancelled.Token));
        Assert.Equal(0, listener.ConnectionCount);
    }

    /// <summary>
    /// Guards the connect timeout, which bounds the whole attempt including the TLS handshake: a loopback server that
    /// accepts but never answers the handshake makes ConnectAsync fail with ConnectTimeoutException.
    /// </summary>
    [Fact]
    public async Task ConnectAsync_ServerNeverCompletesHandshake_ThrowsConnectTimeoutException()
    {
        // A plain listener: it accepts the TCP connection and never sends a TLS ServerHello.
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        var timeout = TimeSpan.FromMilliseconds(300);
        var options = new ConnectorOptions { ConnectTimeout = timeout, Tls = new TlsClientOptions { TargetHost = "localhost" } };

        var error = await Assert.ThrowsAsync<ConnectTimeoutException>(async () => await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout());

        Assert.Equal(timeout, error.Timeout);
        Assert.Equal(listener.EndPoint, error.EndPoint);
        Assert.Contains("timed out after 300 ms", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards the TLS handshake timeout, reported as a TlsHandshakeException when it fires before the connect timeout.</summary>
    [Fact]
    public async Task ConnectAsync_HandshakeTimeoutShorterThanConnectTimeout_ThrowsTlsHandshakeException()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        var options = new ConnectorOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(20),
            Tls = new TlsClientOptions { TargetHost = "localhost", HandshakeTimeout = TimeSpan.FromMilliseconds(200) },
        };

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(async () => await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout());
        Assert.Contains("timed out after 200 ms", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards cancellation during the handshake: the caller's token wins over the timeouts and surfaces as cancellation.</summary>
    [Fact]
    public async Task ConnectAsync_TokenCancelledDuringHandshake_ThrowsOperationCanceled()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        var options = new ConnectorOptions { Tls = new TlsClientOptions { TargetHost = "localhost" } };
        using var cancel = new CancellationTokenSource();
        ValueTask<FastChatConnection> connecting = FastChatConnector.ConnectAsync(listener.EndPoint, options, cancel.Token);

        // The TCP connection is up once the listener hands it out; the handshake is then waiting on the server.
        await using FastChatConnection? server = await listener.AcceptAsync().WithTimeout();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await connecting.WithTimeout());
    }

    /// <summary>Guards error reporting: a refused connection is a TransportException carrying the socket error.</summary>
    [Fact]
    public async Task ConnectAsync_NothingListening_ThrowsTransportExceptionWithConnectionRefused()
    {
        EndPoint endPoint;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            endPoint = probe.LocalEndPoint!;
        }

        var error = await Assert.ThrowsAsync<TransportException>(async () => await FastChatConnector.ConnectAsync(endPoint).WithTimeout());
        Assert.Equal(SocketError.ConnectionRefused, error.SocketError);
    }

    /// <summary>Guards host-name connects (DNS path, every resolved address tried): "localhost" reaches a loopback listener.</summary>
    [Fact]
    public async Task ConnectAsync_HostName_ConnectsThroughResolution()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        int port = ((IPEndPoint)listener.EndPoint).Port;

        await using FastChatConnection client = await FastChatConnector.ConnectAsync("localhost", port).WithTimeout();
        await using FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;
        await client.Output.WriteAsync(new byte[] { 1 }).WithTimeout();
        Assert.Equal(1, (await Loopback.ReadExactlyAsync(server.Input, 1).WithTimeout())[0]);
    }

    /// <summary>Guards argument and option checks before any socket is opened.</summary>
    [Fact]
    public async Task ConnectAsync_InvalidArguments_Throw()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await FastChatConnector.ConnectAsync("localhost", 70000));
        await Assert.ThrowsAsync<ArgumentException>(async () => await FastChatConnector.ConnectAsync(" ", 1));
        var invalid = new ConnectorOptions { MaxFrameSize = 0 };
        await Assert.ThrowsAsync<ArgumentException>(async () => await FastChatConnector.ConnectAsync(new IPEndPoint(IPAddress.Loopback, 1), invalid));
    }
}
