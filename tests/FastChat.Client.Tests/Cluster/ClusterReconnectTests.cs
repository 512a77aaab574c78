using System.Text;
using FastChat.Client;
using FastChat.Client.Tests.TestSupport;
using FastChat.Hosts.Server;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Cluster;

/// <summary>Reconnection through the balancer when a chat server shuts down; each test stops a server, so each has its own cluster.</summary>
public sealed class ClusterReconnectTests
{
    private static readonly TimeSpan Timeout = EventLog.DefaultTimeout;

    /// <summary>
    /// Guards DESIGN.md §6 across a graceful shutdown: the server says Reconnect, the client signs in again through the
    /// balancer, lands on another server, resends its outbox with the same ids, and every message sent around the
    /// shutdown is acknowledged and delivered exactly once, in order.
    /// </summary>
    [Fact]
    public async Task ServerStops_ClientSignsInElsewhereAndResendsItsOutbox()
    {
        await using TestCluster cluster = await TestCluster.StartAsync();
        await using TestUser alice = await cluster.SignUpAsync("alice");
        await using TestUser bob = await cluster.SignUpOnAsync("bob", server => server != alice.ServerId);
        ChatServer aliceServer = cluster.Server(alice.ServerId);
        MessageId before = await alice.Client.SendDirectAsync(bob.Name, Bytes("before")).WaitAsync(Timeout);

        // Hold the client between servers until the test has queued its messages.
        var reconnect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        alice.Client.ReconnectAttemptStarting = _ => reconnect.Task;
        await aliceServer.StopAsync(CancellationToken.None).WaitAsync(Timeout);
        await alice.Events.WaitForAsync<ConnectionStateChanged>(s => s.State == ConnectionState.Reconnecting);
        Assert.Equal(ConnectionState.Reconnecting, alice.Client.State);

        // Sent while the client is between servers: they wait in the outbox and go out, in order, on the next server.
        var sends = new List<Task<MessageId>>();
        for (int i = 0; i < 10; i++)
        {
            sends.Add(alice.Client.SendDirectAsync(bob.Name, Bytes($"during {i}")));
        }

        string group = TestCluster.NewName("g");
        Task create = alice.Client.CreateGroupAsync(group);
        Assert.All(sends, send => Assert.False(send.IsCompleted));
        Assert.False(create.IsCompleted);

        reconnect.SetResult();
        MessageId[] ids = await Task.WhenAll(sends).WaitAsync(Timeout);
        await create.WaitAsync(Timeout);
        await alice.Events.WaitForCountAsync<ConnectionStateChanged>(2, s => s.State == ConnectionState.Connected);
        Assert.Equal(ConnectionState.Connected, alice.Client.State);
        Assert.NotNull(alice.Client.ServerId);
        Assert.NotEqual(aliceServer.Id, alice.Client.ServerId);
        Assert.Equal(alice.Name, (await alice.Client.GetMembersAsync(group).WaitAsync(Timeout)).Admin);

        IReadOnlyList<DirectMessageReceived> received = await bob.Events.WaitForCountAsync<DirectMessageReceived>(11, m => m.From == alice.Name);
        Assert.Equal(new[] { before }.Concat(ids), received.Select(m => m.Id));
        Assert.Equal(Enumerable.Range(-1, 11).Select(i => i < 0 ? "before" : $"during {i}"), received.Select(m => Encoding.UTF8.GetString(m.Body.Span)));

        // And the conversation goes on both ways.
        MessageId reply = await bob.Client.SendDirectAsync(alice.Name, Bytes("welcome back")).WaitAsync(Timeout);
        await alice.Events.WaitForAsync<DirectMessageReceived>(m => m.Id == reply);
        MessageId after = await alice.Client.SendDirectAsync(bob.Name, Bytes("after")).WaitAsync(Timeout);
        await bob.Events.WaitForAsync<DirectMessageReceived>(m => m.Id == after);
        Assert.Equal(12, bob.Events.All<DirectMessageReceived>().Count(m => m.From == alice.Name));
    }

    /// <summary>Guards the opt-out: without AutoReconnect the client reports the loss and stops, failing sends instead of queueing them.</summary>
    [Fact]
    public async Task ServerStops_AutoReconnectOff_ClientReportsDisconnected()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(serverCount: 2);
        await using TestUser alice = await cluster.SignUpAsync("alice", o => o.AutoReconnect = false);

        await cluster.Server(alice.ServerId).StopAsync(CancellationToken.None).WaitAsync(Timeout);

        ConnectionStateChanged change = await alice.Events.WaitForAsync<ConnectionStateChanged>(s => s.State == ConnectionState.Disconnected);
        Assert.Contains("reconnect", change.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(ConnectionState.Disconnected, alice.Client.State);
        Assert.Null(alice.Client.UserName);
        await Assert.ThrowsAsync<InvalidOperationException>(() => alice.Client.SendDirectAsync("bob-any", Bytes("lost")).WaitAsync(Timeout));
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
