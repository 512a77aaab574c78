using System.Net;
using System.Net.Sockets;
using FastChat.Client;
using FastChat.Client.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests;

/// <summary>The client's behaviour that needs no cluster: argument checks, state rules, an unreachable balancer.</summary>
public sealed class ChatClientTests
{
    [Fact]
    public async Task Send_NotSignedIn_ThrowsInvalidOperation()
    {
        await using var client = new ChatClient(new ChatClientOptions());

        Assert.Equal(ConnectionState.Disconnected, client.State);
        Assert.Null(client.UserName);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.SendDirectAsync("bob", new byte[] { 1 }).WaitAsync(EventLog.DefaultTimeout));
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.CreateGroupAsync("group").WaitAsync(EventLog.DefaultTimeout));
    }

    [Fact]
    public async Task Send_BadArguments_ThrowBeforeAnythingIsSent()
    {
        await using var client = new ChatClient(new ChatClientOptions());

        await Assert.ThrowsAsync<ArgumentException>(() => client.SendDirectAsync(string.Empty, new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendDirectAsync(new string('a', 200), new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendDirectAsync("bob", MessageId.Empty, new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendDirectAsync("bob", new byte[client.MaxBodySize + 1]));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendFileAsync("bob", default, 0, Array.Empty<ReadOnlyMemory<byte>>()));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendFileAsync("bob", default, 1, new ReadOnlyMemory<byte>[] { new byte[65536 + 257] }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.SendFileAsync("bob", default, -1, new ReadOnlyMemory<byte>[] { new byte[1] }));
    }

    /// <summary>Guards the error a user sees when the balancer is down: a connection error naming it, not a socket exception.</summary>
    [Fact]
    public async Task SignIn_BalancerUnreachable_ThrowsChatConnectionExceptionAndStaysSignedOut()
    {
        // A port that was free a moment ago: nothing listens there.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        await using var client = new ChatClient(new ChatClientOptions { BalancerPort = port, KdfIterations = 100_000 });

        ChatConnectionException error = await Assert.ThrowsAsync<ChatConnectionException>(() => client.SignInAsync("alice", "password").WaitAsync(EventLog.DefaultTimeout));
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Disconnected, client.State);
    }

    [Fact]
    public async Task Dispose_Twice_IsHarmlessAndLaterCallsThrowObjectDisposed()
    {
        var client = new ChatClient(new ChatClientOptions());
        await client.DisposeAsync();
        await client.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.SignInAsync("alice", "password"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.SendDirectAsync("bob", new byte[1]));
    }

    [Fact]
    public async Task ReadEvents_ClientDisposed_EnumerationEnds()
    {
        var client = new ChatClient(new ChatClientOptions());
        Task<int> reading = CountAsync(client);
        await client.DisposeAsync();

        Assert.Equal(0, await reading.WaitAsync(EventLog.DefaultTimeout));
    }

    private static async Task<int> CountAsync(ChatClient client)
    {
        int count = 0;
        await foreach (ChatEvent _ in client.ReadEventsAsync())
        {
            count++;
        }

        return count;
    }
}
