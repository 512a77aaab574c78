using System.Buffers;
using System.Diagnostics.Metrics;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

public sealed class RelayTests
{
    /// <summary>Guards the bounce path: a relay for a user who moved is forwarded once, the peer's cache is corrected and the receipt finds its way back.</summary>
    [Fact]
    public async Task Relay_ForAUserOnAnotherServer_IsForwardedOnceAndTheReceiptTravelsBack()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(servers: 2);
        await harness.CreateUsersAsync("bob");
        await using RawClient bob = await harness.SignInAsync("bob", harness.Second);

        // A peer that believes bob is on the first server.
        await using RawClient peer = await RawClient.ConnectAndGreetAsync(harness.First.EndPoint, PeerRole.Server);
        DateTime issuedAt = DateTime.UtcNow;
        await peer.SendAsync(new PeerLink { ServerId = "server-x", IssuedAt = issuedAt, Proof = new(harness.Key.ComputeProof("peer", "server-x", issuedAt)) });
        await peer.ReadAsync<Ok>();
        var inner = new ArrayBufferWriter<byte>();
        DirectMessage message = TestMessages.Direct("bob", "moved?") with { Sender = "zed" };
        MessageSerializer.WritePayload(inner, 0, message);

        // A relay's request id is its hop count: 0 from the sender's server.
        await peer.SendAsync(0, new Relay { FromServerId = "server-x", Recipient = "bob", Frame = new(inner.WrittenMemory) });

        Presence correction = await peer.ReadAsync<Presence>();
        Assert.Equal("bob", correction.UserName);
        Assert.True(correction.Online);
        Assert.Equal(harness.Second.Id, correction.ServerId);

        DirectMessage received = await bob.ReadAsync<DirectMessage>();
        Assert.Equal(message.Id, received.Id);
        Assert.Equal(inner.WrittenSpan.ToArray(), SerializeAgain(received));
        await bob.SendAsync(new Ack { Id = received.Id });

        Relay receipt = await peer.ReadAsync<Relay>();
        Assert.Equal("zed", receipt.Recipient);
        Delivered delivered = MessageSerializer.Deserialize<Delivered>(receipt.Frame, out _);
        Assert.Equal(message.Id, delivered.Id);
        Assert.Equal("bob", delivered.Recipient);
    }

    /// <summary>Guards against losing a message whose recipient's server cannot be reached: it is stored and acked.</summary>
    [Fact]
    public async Task DirectMessage_ToAServerThatIsDown_IsStoredAndDeliveredAtTheNextResume()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(servers: 2);
        await harness.CreateUsersAsync("alice", "bob");
        await harness.Second.StopAsync(CancellationToken.None).WaitAsync(ServerHarness.Timeout);

        // A stale presence record, as a crashed server leaves behind.
        await harness.Store.SetPresenceAsync("bob", harness.Second.Id).WaitAsync(ServerHarness.Timeout);
        await using RawClient alice = await harness.SignInAsync("alice", harness.First);
        DirectMessage message = TestMessages.Direct("bob", "are you there?");
        uint requestId = await alice.SendAsync(message);
        (Ack ack, uint ackId) = await alice.ReadWithIdAsync<Ack>();
        Assert.Equal(message.Id, ack.Id);
        Assert.Equal(requestId, ackId);

        (RawClient bob, Resumed resumed) = await harness.ResumeAsync("bob", harness.First);
        await using (bob)
        {
            Assert.Equal(1, resumed.PendingCount);
            Assert.Equal(message.Id, (await bob.ReadAsync<DirectMessage>()).Id);
        }
    }

    /// <summary>Guards the acknowledgement across servers when the recipient's server shuts down before the recipient acks.</summary>
    [Fact]
    public async Task DirectMessage_RelayedAndUnacked_IsStoredWhenTheRecipientsServerStops()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(servers: 2);
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice", harness.First);
        RawClient bob = await harness.SignInAsync("bob", harness.Second);
        DirectMessage message = TestMessages.Direct("bob", "before the shutdown");
        await alice.SendAsync(message);
        Assert.Equal(message.Id, (await bob.ReadAsync<DirectMessage>()).Id);

        Task stopping = harness.Second.StopAsync(CancellationToken.None);
        await bob.ReadUntilAsync<Reconnect>();
        await bob.DisposeAsync();
        await stopping.WaitAsync(ServerHarness.Timeout);

        Assert.Equal(message.Id, (await alice.ReadAsync<Ack>()).Id);
        Assert.Equal(1, await harness.Store.CountPendingAsync("bob").WaitAsync(ServerHarness.Timeout));
    }

    [Fact]
    public async Task Meter_CountsReceivedDeliveredAndSessions()
    {
        const string serverId = "metered-server";
        long received = 0, delivered = 0, sessions = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "FastChat.Server")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "fastchat.server.id" && (string?)tag.Value == serverId)
                {
                    switch (instrument.Name)
                    {
                        case "fastchat.server.messages.received": Interlocked.Add(ref received, value); break;
                        case "fastchat.server.messages.delivered": Interlocked.Add(ref delivered, value); break;
                        case "fastchat.server.sessions": Interlocked.Add(ref sessions, value); break;
                    }
                }
            }
        });
        listener.Start();

        await using ServerHarness harness = await ServerHarness.StartAsync(configure: options => options.Id = serverId);
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");
        await alice.SendAsync(TestMessages.Direct("bob", "counted"));
        await bob.ReadAsync<DirectMessage>();

        Assert.Equal(1, Interlocked.Read(ref received));
        Assert.Equal(1, Interlocked.Read(ref delivered));
        Assert.Equal(2, Interlocked.Read(ref sessions));
    }

    private static byte[] SerializeAgain(in DirectMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        MessageSerializer.WritePayload(buffer, 0, message);
        return buffer.WrittenSpan.ToArray();
    }
}
