using System.Collections.Concurrent;
using System.Text;
using FastChat.Client;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Tests;

/// <summary>
/// Balancer and chat servers as separate <c>fastchat</c> processes, on one SQLite file (always) and on PostgreSQL (when
/// <c>FASTCHAT_TEST_POSTGRES</c> is set; otherwise reported as skipped).
/// </summary>
public sealed class SeparateProcessTests
{
    [SkippableTheory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task SeparateProcesses_EndToEnd_DirectGroupAndOfflineMessagesArriveOnce(string storage)
    {
        await using PostgresDatabase? database = await DatabaseForAsync(storage);
        await using SeparateCluster cluster = await SeparateCluster.StartAsync(database?.ConnectionString, "s1", "s2");

        await using ChatUser alice = await ChatUser.SignUpAsync(cluster.BalancerPort, "alice");
        await using ChatUser bob = await ChatUser.SignUpAsync(cluster.BalancerPort, "bob");
        await (await ChatUser.SignUpAsync(cluster.BalancerPort, "carol")).DisposeAsync();
        Assert.NotEqual(alice.Session!.ServerId, bob.Session!.ServerId);

        // A direct message across the two server processes, with its delivery receipt.
        MessageId hello = await alice.Client.SendDirectAsync("bob", Text("hello bob")).WaitAsync(FastChatProcess.Timeout);
        DirectMessageReceived atBob = await bob.WaitForAsync<DirectMessageReceived>(m => m.Id == hello);
        Assert.Equal("alice", atBob.From);
        await alice.WaitForAsync<MessageDelivered>(d => d.Id == hello);

        // A group with one member online on the other server and one offline.
        await alice.Client.CreateGroupAsync("team").WaitAsync(FastChatProcess.Timeout);
        await alice.Client.AddMemberAsync("team", "bob").WaitAsync(FastChatProcess.Timeout);
        await alice.Client.AddMemberAsync("team", "carol").WaitAsync(FastChatProcess.Timeout);
        MessageId groupMessage = await alice.Client.SendGroupAsync("team", 0, Text("hello team")).WaitAsync(FastChatProcess.Timeout);
        GroupMessageReceived atBobInGroup = await bob.WaitForAsync<GroupMessageReceived>(m => m.Id == groupMessage);
        Assert.Equal(("alice", "team", "hello team"), (atBobInGroup.From, atBobInGroup.Group, Body(atBobInGroup.Body)));

        // Offline: stored, then delivered in order at carol's next sign-in, each once.
        MessageId offline = await bob.Client.SendDirectAsync("carol", Text("while you were away")).WaitAsync(FastChatProcess.Timeout);
        await using ChatUser carol = await ChatUser.SignInAsync(cluster.BalancerPort, "carol");
        await carol.WaitUntilAsync(events => events.OfType<IncomingMessage>().Count() >= 2, "the group message and the direct message");
        IncomingMessage[] atCarol = carol.Events().OfType<IncomingMessage>().ToArray();
        Assert.Equal([groupMessage, offline], atCarol.Select(m => m.Id));
        Assert.Equal("while you were away", Body(Assert.IsType<DirectMessageReceived>(atCarol[1]).Body));

        // And carol, now online, answers bob live.
        MessageId answer = await carol.Client.SendDirectAsync("bob", Text("back now")).WaitAsync(FastChatProcess.Timeout);
        await bob.WaitForAsync<DirectMessageReceived>(m => m.Id == answer);
    }

    /// <summary>
    /// The fault scenario: while two users on different server processes exchange 200 messages, the first user's server
    /// is killed with SIGKILL. Its client signs in again through the balancer and lands on the other server; every message
    /// acknowledged to a sender reaches its recipient exactly once (the SDK surfaces no duplicate, none is missing). Then the
    /// balancer process is killed and started again on the same port: the signed-in users keep chatting, the surviving
    /// server registers again, and a new user can sign in.
    /// </summary>
    [SkippableTheory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task SeparateProcesses_ServerKilledThenBalancerRestarted_NoAcknowledgedMessageLostOrDuplicated(string storage)
    {
        const int PerSender = 100;
        const int KillAfter = 30;

        await using PostgresDatabase? database = await DatabaseForAsync(storage);
        await using SeparateCluster cluster = await SeparateCluster.StartAsync(database?.ConnectionString, "s1", "s2");
        await using ChatUser alice = await ChatUser.SignUpAsync(cluster.BalancerPort, "alice");
        await using ChatUser bob = await ChatUser.SignUpAsync(cluster.BalancerPort, "bob");
        string victim = alice.Session!.ServerId;
        string survivor = bob.Session!.ServerId;
        Assert.NotEqual(victim, survivor);

        // alice's own loop kills her server right after her 30th acknowledgement, so the rest of both streams flows
        // through the crash, alice's reconnection and the stored-message drain.
        var ackedByAlice = new ConcurrentQueue<MessageId>();
        var ackedByBob = new ConcurrentQueue<MessageId>();
        Task aliceSends = SendStreamAsync(alice, "bob", PerSender, ackedByAlice, acked =>
            acked == KillAfter ? cluster.Server(victim).KillAsync() : Task.CompletedTask);
        Task bobSends = SendStreamAsync(bob, "alice", PerSender, ackedByBob, _ => Task.CompletedTask);
        await Task.WhenAll(aliceSends, bobSends).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True(cluster.Server(victim).HasExited);

        await bob.WaitUntilAsync(events => ReceivedFrom(events, "alice").Count >= PerSender, $"{PerSender} messages from alice", TimeSpan.FromSeconds(60));
        await alice.WaitUntilAsync(events => ReceivedFrom(events, "bob").Count >= PerSender, $"{PerSender} messages from bob", TimeSpan.FromSeconds(60));
        AssertExactlyOnce(ackedByAlice, bob, "alice");
        AssertExactlyOnce(ackedByBob, alice, "bob");
        Assert.Equal(survivor, alice.Client.ServerId);
        Assert.Contains(alice.Events(), e => e is ConnectionStateChanged { State: ConnectionState.Reconnecting });
        Assert.DoesNotContain(bob.Events(), e => e is ConnectionStateChanged { State: ConnectionState.Reconnecting });

        // The balancer dies and comes back on the same port; the sessions on the surviving server are unaffected.
        int balancerPort = cluster.BalancerPort;
        await cluster.Balancer.KillAsync();
        MessageId duringOutage = await alice.Client.SendDirectAsync("bob", Text("no balancer, still chatting")).WaitAsync(FastChatProcess.Timeout);
        await bob.WaitForAsync<DirectMessageReceived>(m => m.Id == duringOutage);

        await cluster.StartBalancerAsync(balancerPort);
        Assert.Equal(balancerPort, cluster.BalancerPort);
        await cluster.WaitForLiveServersAsync(survivor);

        MessageId afterRestart = await bob.Client.SendDirectAsync("alice", Text("balancer is back")).WaitAsync(FastChatProcess.Timeout);
        await alice.WaitForAsync<DirectMessageReceived>(m => m.Id == afterRestart);

        await using ChatUser carol = await ChatUser.SignUpAsync(cluster.BalancerPort, "carol");
        Assert.Equal(survivor, carol.Session!.ServerId);
        MessageId fromCarol = await carol.Client.SendDirectAsync("alice", Text("hi, I am new")).WaitAsync(FastChatProcess.Timeout);
        await alice.WaitForAsync<DirectMessageReceived>(m => m.Id == fromCarol);
    }

    private static async Task<PostgresDatabase?> DatabaseForAsync(string storage)
    {
        if (storage != "postgres")
        {
            return null;
        }

        Skip.If(PostgresDatabase.AdminConnectionString is null, PostgresDatabase.SkipReason);
        return await PostgresDatabase.CreateAsync();
    }

    /// <summary>Sends <paramref name="count"/> numbered messages one after another, each awaited until the server acknowledges it.</summary>
    private static async Task SendStreamAsync(ChatUser sender, string recipient, int count, ConcurrentQueue<MessageId> acked, Func<int, Task> afterAck)
    {
        for (int i = 1; i <= count; i++)
        {
            MessageId id = MessageId.NewId();
            ReadOnlyMemory<byte> body = Text($"{sender.Name} #{i}");
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await sender.Client.SendDirectAsync(recipient, id, body).WaitAsync(TimeSpan.FromSeconds(60));
                    break;
                }
                catch (TimeoutException) when (attempt < 3)
                {
                    // The SDK's advice for a send whose acknowledgement did not come in time: send again with the same id.
                }
            }

            acked.Enqueue(id);
            await afterAck(i);
        }
    }

    private static List<MessageId> ReceivedFrom(ChatEvent[] events, string sender) =>
        events.OfType<DirectMessageReceived>().Where(m => m.From == sender).Select(m => m.Id).ToList();

    private static void AssertExactlyOnce(ConcurrentQueue<MessageId> acknowledged, ChatUser recipient, string sender)
    {
        List<MessageId> received = ReceivedFrom(recipient.Events(), sender);
        MessageId[] duplicates = received.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(duplicates.Length == 0, $"{recipient.Name} got {duplicates.Length} messages from {sender} twice");
        MessageId[] missing = acknowledged.Except(received).ToArray();
        Assert.True(missing.Length == 0, $"{missing.Length} messages acknowledged to {sender} never reached {recipient.Name}");
        Assert.Equal(acknowledged.Count, received.Count);
    }

    private static ReadOnlyMemory<byte> Text(string text) => Encoding.UTF8.GetBytes(text);

    private static string Body(ReadOnlyMemory<byte> body) => Encoding.UTF8.GetString(body.Span);
}
