using System.Buffers;
using System.Text;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

public sealed class SessionTests
{
    [Fact]
    public async Task PublicKeysRequest_ReturnsTheStoredKeysOrUserNotFound()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");

        uint requestId = await alice.SendAsync(new PublicKeysRequest { UserName = "bob" });
        (PublicKeys keys, uint replyId) = await alice.ReadWithIdAsync<PublicKeys>();
        Assert.Equal(requestId, replyId);
        Assert.Equal("bob", keys.UserName);
        Assert.Equal(Encoding.UTF8.GetBytes("agreement-key-of-bob"), keys.AgreementPublicKey.ToArray());
        Assert.Equal(Encoding.UTF8.GetBytes("signing-key-of-bob"), keys.SigningPublicKey.ToArray());

        uint unknown = await alice.SendAsync(new PublicKeysRequest { UserName = "nobody" });
        await alice.ExpectErrorAsync(ErrorCode.UserNotFound, unknown);
    }

    [Fact]
    public async Task SignOut_ClearsPresenceRepliesOkAndCloses()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice");
        await using RawClient alice = await harness.SignInAsync("alice");
        Assert.Equal(harness.First.Id, await harness.Store.GetPresenceAsync("alice").WaitAsync(ServerHarness.Timeout));

        uint requestId = await alice.SendAsync(new SignOut());
        (_, uint replyId) = await alice.ReadWithIdAsync<Ok>();
        Assert.Equal(requestId, replyId);
        Assert.Empty(await alice.ReadToEndAsync());
        Assert.Null(await harness.Store.GetPresenceAsync("alice").WaitAsync(ServerHarness.Timeout));
        await ServerHarness.WaitUntilAsync(() => Task.FromResult(harness.First.ConnectionCount == 0), "the session ends");
    }

    [Fact]
    public async Task Disconnect_ClearsPresence()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice");
        await using (RawClient alice = await harness.SignInAsync("alice"))
        {
            Assert.Equal(harness.First.Id, await harness.Store.GetPresenceAsync("alice").WaitAsync(ServerHarness.Timeout));
        }

        await ServerHarness.WaitUntilAsync(async () => await harness.Store.GetPresenceAsync("alice") is null, "alice's presence is cleared");
        Assert.Equal(0, harness.First.ConnectionCount);
    }

    /// <summary>
    /// Guards against a recipient that stops reading holding memory or other senders hostage: it is disconnected once
    /// its unsent bytes pass the limit, and every message it had not acked is delivered at its next resume.
    /// </summary>
    [Fact]
    public async Task SlowConsumer_IsDisconnectedAndGetsWhatItDidNotAckAtNextResume()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(configure: options => options.MaxSendBufferBytes = 64 * 1024);
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        (RawClient bob, _) = await harness.ResumeAsync("bob", receiveBufferSize: 4096);

        // Bob reads nothing from here on, so the server's buffers for him fill up.
        var sent = new List<MessageId>();
        string text = new('x', 16 * 1024);
        while (harness.First.ConnectionCount == 2)
        {
            Assert.True(sent.Count < 2000, "The slow consumer was never disconnected.");
            DirectMessage message = TestMessages.Direct("bob", text);
            sent.Add(message.Id);
            await alice.SendAsync(message);
        }

        List<RawFrame> seen = await bob.ReadToEndAsync();
        await bob.DisposeAsync();
        Assert.Contains(seen, frame => frame.Opcode == Opcode.Error && frame.As<Error>().Code == ErrorCode.SlowConsumer);

        // Every message is acked to alice: stored for bob.
        var acked = new HashSet<MessageId>();
        while (acked.Count < sent.Count)
        {
            acked.Add((await alice.ReadUntilAsync<Ack>()).Message.Id);
        }

        (RawClient again, Resumed resumed) = await harness.ResumeAsync("bob");
        await using (again)
        {
            Assert.Equal(sent.Count, resumed.PendingCount);
            foreach (MessageId id in sent)
            {
                DirectMessage received = await again.ReadAsync<DirectMessage>();
                Assert.Equal(id, received.Id);
                await again.SendAsync(new Ack { Id = id });
            }
        }
    }

    [Fact]
    public async Task StopAsync_SendsReconnectStoresInFlightMessagesAndClearsPresence()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        RawClient alice = await harness.SignInAsync("alice");
        RawClient bob = await harness.SignInAsync("bob");
        DirectMessage message = TestMessages.Direct("bob", "never acked");
        await alice.SendAsync(message);
        Assert.Equal(message.Id, (await bob.ReadAsync<DirectMessage>()).Id);

        Task stopping = harness.First.StopAsync(CancellationToken.None);
        foreach (RawClient client in new[] { alice, bob })
        {
            Reconnect reconnect = (await client.ReadUntilAsync<Reconnect>()).Message;
            Assert.Equal("shutting down", reconnect.Reason);
            Assert.Equal(0, reconnect.RetryAfterMilliseconds);
        }

        // The un-acked message was stored before the clients left, and its sender acked.
        Assert.Equal(message.Id, (await alice.ReadUntilAsync<Ack>()).Message.Id);
        await alice.DisposeAsync();
        await bob.DisposeAsync();
        await stopping.WaitAsync(ServerHarness.Timeout);

        Assert.Equal(1, await harness.Store.CountPendingAsync("bob").WaitAsync(ServerHarness.Timeout));
        Assert.Null(await harness.Store.GetPresenceAsync("alice").WaitAsync(ServerHarness.Timeout));
        Assert.Null(await harness.Store.GetPresenceAsync("bob").WaitAsync(ServerHarness.Timeout));
    }

    [Fact]
    public async Task StopAsync_ClientsThatStay_AreClosedAfterTheShutdownTimeout()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(configure: options => options.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        await harness.CreateUsersAsync("alice");
        await using RawClient alice = await harness.SignInAsync("alice");

        Task stopping = harness.First.StopAsync(CancellationToken.None);
        List<RawFrame> frames = await alice.ReadToEndAsync();
        Assert.Contains(frames, frame => frame.Opcode == Opcode.Reconnect);
        await stopping.WaitAsync(ServerHarness.Timeout);
        Assert.Equal(0, harness.First.ConnectionCount);
    }
}
