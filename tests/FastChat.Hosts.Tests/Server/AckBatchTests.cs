using System.Buffers;
using System.Buffers.Binary;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

/// <summary>The <c>ack-batch</c> feature on the server: AckBatch from clients, coalesced AckBatch/DeliveredBatch to senders.</summary>
public sealed class AckBatchTests
{
    private const int Count = 20;

    [Fact]
    public async Task Hello_FromServer_ListsAckBatch()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await using RawClient client = await RawClient.ConnectAsync(harness.First.EndPoint);
        await client.SendAsync(ClientHello([]));
        Hello hello = await client.ReadAsync<Hello>();
        Assert.Contains(ProtocolFeatures.AckBatch, hello.Features);
    }

    [Fact]
    public async Task AckBatch_FromNegotiatedRecipient_SenderGetsOneAckBatchThenOneDeliveredBatch()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await ResumeAsync(harness, "alice", ackBatch: true);
        await using RawClient bob = await ResumeAsync(harness, "bob", ackBatch: true);

        MessageId[] ids = await SendDirectAsync(alice, "bob", Count);
        MessageId[] received = await ReceiveAsync(bob, Count);
        Assert.Equal(ids, received);

        await bob.SendAsync(0, new AckBatch { Ids = received });

        (AckBatch ack, uint ackRequestId) = await alice.ReadWithIdAsync<AckBatch>();
        Assert.Equal(ids, ack.Ids);
        Assert.Equal(0u, ackRequestId);
        DeliveredBatch delivered = await alice.ReadAsync<DeliveredBatch>();
        Assert.Equal("bob", delivered.Recipient);
        Assert.Equal(ids, delivered.Ids);
    }

    /// <summary>Guards the coalescing of single acks: whatever the read batches, every id is acked once, and before its Delivered.</summary>
    [Fact]
    public async Task SingleAcks_InOneWriteFromV1Recipient_NegotiatedSenderGetsEachIdAckedOnceBeforeDelivered()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await ResumeAsync(harness, "alice", ackBatch: true);
        await using RawClient bob = await ResumeAsync(harness, "bob", ackBatch: false);

        MessageId[] ids = await SendDirectAsync(alice, "bob", Count);
        MessageId[] received = await ReceiveAsync(bob, Count);
        var acks = new Ack[Count];
        for (int i = 0; i < Count; i++)
        {
            acks[i] = new Ack { Id = received[i] };
        }

        await bob.SendRawAsync(Frames(acks));

        var acked = new HashSet<MessageId>();
        var delivered = new HashSet<MessageId>();
        while (delivered.Count < Count)
        {
            RawFrame frame = await alice.ReadFrameAsync();
            switch (frame.Opcode)
            {
                case Opcode.AckBatch:
                    foreach (MessageId id in frame.As<AckBatch>().Ids)
                    {
                        Assert.True(acked.Add(id), $"{id} was acked twice.");
                    }

                    break;
                case Opcode.DeliveredBatch:
                    DeliveredBatch batch = frame.As<DeliveredBatch>();
                    Assert.Equal("bob", batch.Recipient);
                    foreach (MessageId id in batch.Ids)
                    {
                        Assert.True(acked.Contains(id), $"{id} was reported delivered before it was acked.");
                        Assert.True(delivered.Add(id), $"{id} was reported delivered twice.");
                    }

                    break;
                default:
                    Assert.Fail($"Expected AckBatch or DeliveredBatch, got {frame}.");
                    break;
            }
        }

        Assert.True(acked.SetEquals(ids));
        Assert.True(delivered.SetEquals(ids));
    }

    /// <summary>Guards compatibility: a sender that did not negotiate the feature gets single Acks (with its request ids) and Delivereds.</summary>
    [Fact]
    public async Task AckBatch_FromNegotiatedRecipient_V1SenderGetsSingleAcksWithRequestIds()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await ResumeAsync(harness, "alice", ackBatch: false);
        await using RawClient bob = await ResumeAsync(harness, "bob", ackBatch: true);

        var requestIds = new Dictionary<MessageId, uint>();
        for (int i = 0; i < Count; i++)
        {
            DirectMessage message = TestMessages.Direct("bob", $"v1 {i}");
            requestIds[message.Id] = await alice.SendAsync(message);
        }

        MessageId[] received = await ReceiveAsync(bob, Count);
        await bob.SendAsync(0, new AckBatch { Ids = received });

        for (int i = 0; i < Count; i++)
        {
            (Ack ack, uint requestId) = await alice.ReadWithIdAsync<Ack>();
            Assert.Equal(received[i], ack.Id);
            Assert.Equal(requestIds[ack.Id], requestId);
            Delivered delivered = await alice.ReadAsync<Delivered>();
            Assert.Equal(received[i], delivered.Id);
            Assert.Equal("bob", delivered.Recipient);
        }
    }

    [Fact]
    public async Task AckBatch_OfStoredItems_DeletesThemFromTheStore()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using (RawClient alice = await ResumeAsync(harness, "alice", ackBatch: true))
        {
            MessageId[] sent = await SendDirectAsync(alice, "bob", Count);

            // Stored for offline bob: alice's acks come without Delivered.
            var acked = new HashSet<MessageId>();
            while (acked.Count < Count)
            {
                foreach (MessageId id in (await alice.ReadAsync<AckBatch>()).Ids)
                {
                    Assert.True(acked.Add(id));
                }
            }

            Assert.True(acked.SetEquals(sent));
        }

        Assert.Equal(Count, await harness.Store.CountPendingAsync("bob").WaitAsync(ServerHarness.Timeout));
        await using (RawClient bob = await ResumeAsync(harness, "bob", ackBatch: true, expectedPending: Count))
        {
            MessageId[] received = await ReceiveAsync(bob, Count);
            await bob.SendAsync(0, new AckBatch { Ids = received });
            await ServerHarness.WaitUntilAsync(async () => await harness.Store.CountPendingAsync("bob") == 0, "bob's acked items are deleted");
        }

        await using RawClient again = await ResumeAsync(harness, "bob", ackBatch: true, expectedPending: 0);
    }

    /// <summary>
    /// Guards the batch's per-id semantics: in one AckBatch, ids in flight complete (the sender gets Ack and Delivered),
    /// ids stored after the delivery timeout are deleted (no Delivered), and a repeated id changes nothing.
    /// </summary>
    [Fact]
    public async Task AckBatch_MixingInFlightStoredAndRepeatedIds_CompletesAndDeletesEachOnce()
    {
        // Long enough that the live copies below are acked before it passes, even on a busy machine.
        await using ServerHarness harness = await ServerHarness.StartAsync(configure: options => options.DeliveryTimeout = TimeSpan.FromSeconds(1));
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await ResumeAsync(harness, "alice", ackBatch: true);
        await using RawClient bob = await ResumeAsync(harness, "bob", ackBatch: true);

        // Not acked within the timeout: stored for bob, and alice acked (without Delivered) by the sweep.
        MessageId[] stored = await SendDirectAsync(alice, "bob", 2);
        Assert.Equal(stored, await ReceiveAsync(bob, 2));
        var storedAcks = new HashSet<MessageId>();
        while (storedAcks.Count < stored.Length)
        {
            storedAcks.UnionWith((await alice.ReadAsync<AckBatch>()).Ids);
        }

        Assert.True(storedAcks.SetEquals(stored));
        Assert.Equal(2, await harness.Store.CountPendingAsync("bob").WaitAsync(ServerHarness.Timeout));

        MessageId[] live = await SendDirectAsync(alice, "bob", 2);
        Assert.Equal(live, await ReceiveAsync(bob, 2));
        await bob.SendAsync(0, new AckBatch { Ids = [stored[0], live[0], stored[1], live[1], live[0]] });

        Assert.Equal(live, (await alice.ReadAsync<AckBatch>()).Ids);
        DeliveredBatch delivered = await alice.ReadAsync<DeliveredBatch>();
        Assert.Equal(live, delivered.Ids);
        await ServerHarness.WaitUntilAsync(async () => await harness.Store.CountPendingAsync("bob") == 0, "bob's stored items are deleted");

        // Nothing more for alice: a Ping's Pong is the next frame she gets.
        uint ping = await alice.SendAsync(new Ping { Timestamp = 1 });
        Assert.Equal(ping, (await alice.ReadWithIdAsync<Pong>()).RequestId);
    }

    /// <summary>Guards the negotiation: a client that did not list the feature gets an error for AckBatch, and its session lives.</summary>
    [Fact]
    public async Task AckBatch_FromV1Client_IsRefusedAndTheSessionLives()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice");
        await using RawClient alice = await ResumeAsync(harness, "alice", ackBatch: false);

        uint requestId = await alice.SendAsync(new AckBatch { Ids = [MessageId.NewId()] });
        Error error = await alice.ExpectErrorAsync(ErrorCode.Unexpected, requestId);
        Assert.Contains("ack-batch", error.Message, StringComparison.Ordinal);

        uint ping = await alice.SendAsync(new Ping { Timestamp = 7 });
        Assert.Equal(ping, (await alice.ReadWithIdAsync<Pong>()).RequestId);
    }

    /// <summary>Guards hostile input: an AckBatch whose count exceeds its bytes is a bad message (error, session lives) and none of its ids is acted on.</summary>
    [Fact]
    public async Task AckBatch_Malformed_GetsProtocolViolationAndActsOnNothing()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await ResumeAsync(harness, "alice", ackBatch: true);
        await using RawClient bob = await ResumeAsync(harness, "bob", ackBatch: true);

        MessageId[] ids = await SendDirectAsync(alice, "bob", 1);
        await ReceiveAsync(bob, 1);

        // [0x24, 9, [id, <3 more ids promised but missing>]] : the array says 4 ids, the frame holds one.
        byte[] payload = new byte[3 + 1 + 18];
        payload[0] = 0x93;
        payload[1] = 0x24;
        payload[2] = 9;
        payload[3] = 0x94;
        payload[4] = 0xc4;
        payload[5] = 16;
        ids[0].TryWriteBytes(payload.AsSpan(6));
        await bob.SendFrameAsync(payload);
        Error error = await bob.ExpectErrorAsync(ErrorCode.ProtocolViolation, 9);
        Assert.Contains("AckBatch.ids", error.Message, StringComparison.Ordinal);

        // The id in the malformed batch was not acked: alice hears only of the valid batch that follows.
        await bob.SendAsync(0, new AckBatch { Ids = ids });
        Assert.Equal(ids, (await alice.ReadAsync<AckBatch>()).Ids);
        Assert.Equal(ids, (await alice.ReadAsync<DeliveredBatch>()).Ids);
    }

    private static Hello ClientHello(string[] features) => new()
    {
        ProtocolVersion = ProtocolConstants.ProtocolVersion,
        Role = PeerRole.Client,
        Features = features,
        Agent = "ack-batch-test",
    };

    private static async Task<RawClient> ResumeAsync(ServerHarness harness, string user, bool ackBatch, int? expectedPending = null)
    {
        RawClient client = await RawClient.ConnectAsync(harness.First.EndPoint);
        await client.SendAsync(ClientHello(ackBatch ? [ProtocolFeatures.AckBatch] : []));
        await client.ReadAsync<Hello>();
        uint requestId = await client.SendAsync(new Resume { SessionToken = new(harness.Token(user, harness.First)) });
        (Resumed resumed, uint replyId) = await client.ReadWithIdAsync<Resumed>();
        Assert.Equal(requestId, replyId);
        if (expectedPending is { } pending)
        {
            Assert.Equal(pending, resumed.PendingCount);
        }

        return client;
    }

    // Sends count direct messages in one write, so that the server handles them in as few read batches as it can.
    private static async Task<MessageId[]> SendDirectAsync(RawClient sender, string recipient, int count)
    {
        var messages = new DirectMessage[count];
        var ids = new MessageId[count];
        for (int i = 0; i < count; i++)
        {
            messages[i] = TestMessages.Direct(recipient, $"message {i}");
            ids[i] = messages[i].Id;
        }

        await sender.SendRawAsync(Frames(messages, sender));
        return ids;
    }

    private static async Task<MessageId[]> ReceiveAsync(RawClient recipient, int count)
    {
        var ids = new MessageId[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = (await recipient.ReadAsync<DirectMessage>()).Id;
        }

        return ids;
    }

    private static byte[] Frames<T>(T[] messages, RawClient? requester = null)
        where T : struct, IMessage<T>
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (T message in messages)
        {
            var payload = new ArrayBufferWriter<byte>();
            MessageSerializer.WritePayload(payload, requester?.NextRequestId() ?? 0, message);
            BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(4), (uint)payload.WrittenCount);
            output.Advance(4);
            output.Write(payload.WrittenSpan);
        }

        return output.WrittenSpan.ToArray();
    }
}
