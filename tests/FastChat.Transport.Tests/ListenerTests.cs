using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace FastChat.Transport.Tests;

public sealed class ListenerTests
{
    /// <summary>Guards binding to port 0: the bound endpoint reports the port the system chose, and clients can reach it.</summary>
    [Fact]
    public async Task Bind_PortZero_ExposesChosenPort()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());

        var endPoint = Assert.IsType<IPEndPoint>(listener.EndPoint);
        Assert.NotEqual(0, endPoint.Port);
        Assert.Equal(IPAddress.Loopback, endPoint.Address);
        await using FastChatConnection client = await FastChatConnector.ConnectAsync("127.0.0.1", endPoint.Port).WithTimeout();
        await using FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;
        Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);
    }

    /// <summary>Guards the connection limit: a connection over MaxConnections is closed on arrival, counted, and never accepted; freeing a slot admits new ones.</summary>
    [Fact]
    public async Task MaxConnections_Exceeded_ClosesExtraConnectionAndCountsIt()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.MaxConnections = 2));
        await using FastChatConnection first = await FastChatConnector.ConnectAsync(listener.EndPoint).WithTimeout();
        await using FastChatConnection second = await FastChatConnector.ConnectAsync(listener.EndPoint).WithTimeout();
        FastChatConnection firstOnServer = (await listener.AcceptAsync().WithTimeout())!;
        await using FastChatConnection secondOnServer = (await listener.AcceptAsync().WithTimeout())!;

        using (Socket extra = await Loopback.ConnectRawAsync(listener.EndPoint))
        {
            byte[] received = await Loopback.ReadToEndAsync(extra);
            Assert.Empty(received);
        }

        Assert.Equal(1, listener.RejectedConnections);
        Assert.Equal(2, listener.ConnectionCount);

        await firstOnServer.DisposeAsync().WithTimeout();
        Assert.Equal(1, listener.ConnectionCount);
        await using FastChatConnection third = await FastChatConnector.ConnectAsync(listener.EndPoint).WithTimeout();
        await using FastChatConnection thirdOnServer = (await listener.AcceptAsync().WithTimeout())!;
        await third.Output.WriteAsync(new byte[] { 42 }).WithTimeout();
        Assert.Equal(42, (await Loopback.ReadExactlyAsync(thirdOnServer.Input, 1).WithTimeout())[0]);
        Assert.Equal(1, listener.RejectedConnections);
    }

    /// <summary>Guards UnbindAsync: a pending AcceptAsync returns null and the port stops accepting.</summary>
    [Fact]
    public async Task UnbindAsync_PendingAccept_ReturnsNullAndRefusesNewClients()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        ValueTask<FastChatConnection?> pending = listener.AcceptAsync();

        await listener.UnbindAsync().WithTimeout();

        Assert.Null(await pending.WithTimeout());
        Assert.Null(await listener.AcceptAsync().WithTimeout());
        var error = await Assert.ThrowsAsync<TransportException>(async () => await FastChatConnector.ConnectAsync(listener.EndPoint).WithTimeout());
        Assert.Equal(SocketError.ConnectionRefused, error.SocketError);
    }

    /// <summary>Guards DisposeAsync: connections the listener accepted are closed with Shutdown, even ones the application still holds.</summary>
    [Fact]
    public async Task DisposeAsync_LiveConnections_AreClosedWithShutdown()
    {
        FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        await using FastChatConnection client = await FastChatConnector.ConnectAsync(listener.EndPoint).WithTimeout();
        FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;
        ValueTask<ReadResult> pendingRead = server.Input.ReadAsync();

        await listener.DisposeAsync().WithTimeout();

        Assert.Equal(CloseReason.Shutdown, server.CloseReason);
        await ConnectionTests.WaitCancelledAsync(server.ConnectionClosed);
        var aborted = await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await pendingRead.WithTimeout());
        Assert.Equal(CloseReason.Shutdown, aborted.Reason);
        Assert.Equal(0, listener.ConnectionCount);

        // The client learns of it: its input ends (reset or end of stream).
        try
        {
            ReadResult end = await client.Input.ReadAsync().WithTimeout();
            Assert.True(end.IsCompleted);
        }
        catch (ConnectionResetException)
        {
        }

        await server.DisposeAsync().WithTimeout();
    }

    /// <summary>Guards binding errors: an endpoint in use is reported as a TransportException naming it.</summary>
    [Fact]
    public async Task Bind_AddressInUse_ThrowsTransportException()
    {
        await using FastChatListener first = FastChatListener.Bind(Loopback.ListenerOptions());

        var error = Assert.Throws<TransportException>(() => FastChatListener.Bind(Loopback.ListenerOptions(o => o.EndPoint = first.EndPoint)));

        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketError);
        Assert.Contains(first.EndPoint.ToString()!, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards AcceptAsync's token: cancelling a wait leaves the listener working.</summary>
    [Fact]
    public async Task AcceptAsync_Cancelled_ListenerKeepsWorking()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        using var cancel = new CancellationTokenSource();
        ValueTask<FastChatConnection?> pending = listener.AcceptAsync(cancel.Token);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);

        await using FastChatConnection client = await FastChatConnector.ConnectAsync(listener.EndPoint).WithTimeout();
        await using FastChatConnection? server = await listener.AcceptAsync().WithTimeout();
        Assert.NotNull(server);
    }
}
