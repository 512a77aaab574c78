using System.Buffers;
using FastChat.Hosts.Storage;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

public sealed class DirectMessageTests
{
    [Fact]
    public async Task DirectMessage_RecipientOnline_IsDeliveredWithSenderAndAckedThenDelivered()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");

        DirectMessage sent = TestMessages.Direct("bob", "hello bob");
        uint requestId = await alice.SendAsync(sent);
        DirectMessage received = await bob.ReadAsync<DirectMessage>();

        Assert.Equal(sent.Id, received.Id);
        Assert.Equal("alice", received.Sender);
        Assert.Equal("bob", received.Recipient);
        Assert.Equal(sent.Body.ToArray(), received.Body.ToArray());

        await bob.SendAsync(new Ack { Id = received.Id });
        (Ack ack, uint ackId) = await alice.ReadWithIdAsync<Ack>();
        Assert.Equal(sent.Id, ack.Id);
        Assert.Equal(requestId, ackId);
        Delivered delivered = await alice.ReadAsync<Delivered>();
        Assert.Equal(sent.Id, delivered.Id);
        Assert.Equal("bob", delivered.Recipient);
    }

    /// <summary>
    /// Guards the relay's forwarding of a message it does not re-encode: a newer client's extra fields and non-minimal
    /// (but valid) encodings reach the recipient as the same message, with the sender filled in and only the known fields.
    /// </summary>
    [Fact]
    public async Task DirectMessage_FromNewerClientWithExtraFields_IsForwardedWithSenderAndKnownFieldsOnly()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");

        DirectMessage sent = TestMessages.Direct("bob", "from the future");
        var payload = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(payload);
        writer.WriteArrayHeader(2 + DirectMessage.FieldCount + 2);
        writer.Write((uint)Opcode.DirectMessage);
        writer.Write(alice.NextRequestId());
        writer.Write(sent.Id.ToByteArray());
        writer.WriteNil();

        // "bob" as str 8 rather than fixstr: valid MessagePack, just not the shortest form.
        writer.WriteRaw([0xd9, 3, (byte)'b', (byte)'o', (byte)'b']);
        writer.Write(sent.SentAt);
        writer.Write(sent.Body);
        writer.Write("a field from a later version");
        writer.Write(12345);
        writer.Flush();
        await alice.SendFrameAsync(payload.WrittenMemory);

        RawFrame frame = await bob.ReadFrameAsync();
        Assert.Equal(Opcode.DirectMessage, frame.Opcode);
        var reader = new MessagePackReader(new ReadOnlySequence<byte>(frame.Payload));
        Assert.Equal(2 + DirectMessage.FieldCount, reader.ReadArrayHeader());
        DirectMessage received = frame.As<DirectMessage>();
        Assert.Equal(sent.Id, received.Id);
        Assert.Equal("alice", received.Sender);
        Assert.Equal("bob", received.Recipient);
        Assert.Equal(sent.SentAt, received.SentAt);
        Assert.Equal(sent.Body.ToArray(), received.Body.ToArray());

        await bob.SendAsync(new Ack { Id = received.Id });
        Assert.Equal(sent.Id, (await alice.ReadAsync<Ack>()).Id);
    }

    [Fact]
    public async Task DirectMessage_RecipientOnAnotherServer_IsRelayedOverThePeerLink()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(servers: 2);
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice", harness.First);
        await using RawClient bob = await harness.SignInAsync("bob", harness.Second);

        for (int i = 0; i < 3; i++)
        {
            DirectMessage sent = TestMessages.Direct("bob", "across servers " + i);
            uint requestId = await alice.SendAsync(sent);
            DirectMessage received = await bob.ReadAsync<DirectMessage>();
            Assert.Equal(sent.Id, received.Id);
            Assert.Equal("alice", received.Sender);
            Assert.Equal(sent.Body.ToArray(), received.Body.ToArray());

            await bob.SendAsync(new Ack { Id = received.Id });
            (Ack ack, uint ackId) = await alice.ReadWithIdAsync<Ack>();
            Assert.Equal(sent.Id, ack.Id);
            Assert.Equal(requestId, ackId);
            Delivered delivered = await alice.ReadAsync<Delivered>();
            Assert.Equal("bob", delivered.Recipient);
        }

        // And back the other way over the same link.
        DirectMessage reply = TestMessages.Direct("alice", "reply");
        await bob.SendAsync(reply);
        Assert.Equal(reply.Id, (await alice.ReadAsync<DirectMessage>()).Id);
    }

    [Fact]
    public async Task DirectMessage_RecipientOffline_IsStoredThenDeliveredInOrderOnceAndDeletedAfterAck()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        var sent = new List<DirectMessage>();
        await using (RawClient alice = await harness.SignInAsync("alice"))
        {
            for (int i = 0; i < 5; i++)
            {
                DirectMessage message = TestMessages.Direct("bob", "offline " + i);
                sent.Add(message);
                uint requestId = await alice.SendAsync(message);
                (Ack ack, uint ackId) = await alice.ReadWithIdAsync<Ack>();
                Assert.Equal(message.Id, ack.Id);
                Assert.Equal(requestId, ackId);
            }
        }

        Assert.Equal(5, await harness.Store.CountPendingAsync("bob").WaitAsync(ServerHarness.Timeout));

        (RawClient bob, Resumed resumed) = await harness.ResumeAsync("bob");
        await using (bob)
        {
            Assert.Equal(5, resumed.PendingCount);
            foreach (DirectMessage expected in sent)
            {
                DirectMessage received = await bob.ReadAsync<DirectMessage>();
                Assert.Equal(expected.Id, received.Id);
                Assert.Equal("alice", received.Sender);
                Assert.Equal(expected.Body.ToArray(), received.Body.ToArray());
                await bob.SendAsync(new Ack { Id = received.Id });
            }

            await ServerHarness.WaitUntilAsync(async () => await harness.Store.CountPendingAsync("bob") == 0, "bob's acked messages are deleted");
        }

        (RawClient again, Resumed second) = await harness.ResumeAsync("bob");
        await using (again)
        {
            Assert.Equal(0, second.PendingCount);
            await again.SendAsync(new Ping { Timestamp = 42 });
            Assert.Equal(42, (await again.ReadAsync<Pong>()).Timestamp);
        }
    }

    /// <summary>Guards against a resent message (same id) reaching the recipient twice.</summary>
    [Fact]
    public async Task DirectMessage_SameIdSentTwice_IsDeliveredOnce()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");

        DirectMessage message = TestMessages.Direct("bob", "once");
        uint first = await alice.SendAsync(message);
        uint second = await alice.SendAsync(message);
        DirectMessage received = await bob.ReadAsync<DirectMessage>();
        await bob.SendAsync(new Ack { Id = received.Id });

        // Both requests are acked, the message was written once: the next frame bob sees is the next message.
        var acked = new HashSet<uint>();
        while (acked.Count < 2)
        {
            RawFrame frame = await alice.ReadFrameAsync();
            if (frame.Opcode == Opcode.Ack)
            {
                Assert.Equal(message.Id, frame.As<Ack>().Id);
                acked.Add(frame.RequestId);
            }
        }

        Assert.Equal(new HashSet<uint> { first, second }, acked);
        uint third = await alice.SendAsync(message);
        Assert.Equal(third, (await alice.ReadUntilAsync<Ack>()).RequestId);

        DirectMessage next = TestMessages.Direct("bob", "next");
        await alice.SendAsync(next);
        Assert.Equal(next.Id, (await bob.ReadAsync<DirectMessage>()).Id);
    }

    /// <summary>Guards against losing a message written to a recipient that disconnected before acking it.</summary>
    [Fact]
    public async Task DirectMessage_RecipientDisconnectsWithoutAck_IsDeliveredAtNextResume()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        DirectMessage message = TestMessages.Direct("bob", "ack me later");
        await using (RawClient bob = await harness.SignInAsync("bob"))
        {
            await alice.SendAsync(message);
            Assert.Equal(message.Id, (await bob.ReadAsync<DirectMessage>()).Id);
        }

        // The sender's ack comes once the server has stored it for bob.
        Assert.Equal(message.Id, (await alice.ReadAsync<Ack>()).Id);

        (RawClient again, Resumed resumed) = await harness.ResumeAsync("bob");
        await using (again)
        {
            Assert.Equal(1, resumed.PendingCount);
            DirectMessage redelivered = await again.ReadAsync<DirectMessage>();
            Assert.Equal(message.Id, redelivered.Id);
            Assert.Equal(message.Body.ToArray(), redelivered.Body.ToArray());
        }
    }

    [Fact]
    public async Task DirectMessage_UnknownRecipient_IsUserNotFound()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice");
        await using RawClient alice = await harness.SignInAsync("alice");

        uint requestId = await alice.SendAsync(TestMessages.Direct("nobody", "hello?"));
        Error error = await alice.ExpectErrorAsync(ErrorCode.UserNotFound, requestId);
        Assert.Contains("nobody", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await harness.Store.CountPendingAsync("nobody").WaitAsync(ServerHarness.Timeout));
    }

    /// <summary>Guards against a client impersonating another user through the sender field.</summary>
    [Fact]
    public async Task DirectMessage_ForgedSender_IsRefused()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob", "carol");
        await using RawClient alice = await harness.SignInAsync("alice");

        uint requestId = await alice.SendAsync(TestMessages.Direct("bob", "from carol?") with { Sender = "carol" });
        await alice.ExpectErrorAsync(ErrorCode.ProtocolViolation, requestId);
        Assert.Equal(0, await harness.Store.CountPendingAsync("bob").WaitAsync(ServerHarness.Timeout));
    }

    [Fact]
    public async Task DirectMessage_NotAcked_IsStoredAfterTheDeliveryTimeoutAndTheSenderAcked()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(configure: options => options.DeliveryTimeout = TimeSpan.FromMilliseconds(200));
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");

        DirectMessage message = TestMessages.Direct("bob", "slow ack");
        await alice.SendAsync(message);
        DirectMessage received = await bob.ReadAsync<DirectMessage>();
        Assert.Equal(message.Id, (await alice.ReadAsync<Ack>()).Id);
        IReadOnlyList<PendingItem> pending = await harness.Store.GetPendingAsync("bob", 0, 10).WaitAsync(ServerHarness.Timeout);
        Assert.Equal(message.Id, Assert.Single(pending).Id);

        // The late ack still removes it.
        await bob.SendAsync(new Ack { Id = received.Id });
        await ServerHarness.WaitUntilAsync(async () => await harness.Store.CountPendingAsync("bob") == 0, "the late ack deletes the stored copy");
    }
}
