using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

/// <summary>Hostile or broken input from one connection affects that connection only (docs/protocol.md §4).</summary>
public sealed class BadInputTests
{
    /// <summary>Guards against garbage on the wire (here, an HTTP request) disturbing anyone but its sender.</summary>
    [Fact]
    public async Task GarbageBytes_CloseOnlyThatConnection()
    {
        await AssertOnlyOffenderAffectedAsync(async (harness, offender) =>
        {
            await offender.SendRawAsync("GET / HTTP/1.1\r\nHost: fastchat\r\n\r\n"u8.ToArray());
            List<RawFrame> frames = await offender.ReadToEndAsync();
            Assert.Equal(ErrorCode.FrameTooLarge, Assert.Single(frames).As<Error>().Code);
        });
    }

    /// <summary>Guards against a length prefix far over the limit being buffered rather than refused at once.</summary>
    [Fact]
    public async Task OversizedLengthPrefix_IsFrameTooLargeAndClosesOnlyThatConnection()
    {
        await AssertOnlyOffenderAffectedAsync(async (harness, offender) =>
        {
            byte[] prefix = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(prefix, 0x7FFF_FFFF);
            await offender.SendRawAsync(prefix);
            List<RawFrame> frames = await offender.ReadToEndAsync();
            Error error = Assert.Single(frames).As<Error>();
            Assert.Equal(ErrorCode.FrameTooLarge, error.Code);
        });
    }

    /// <summary>Guards against a payload that is not a message at all (a broken frame) surviving or spreading.</summary>
    [Fact]
    public async Task PayloadThatIsNotAMessage_IsAProtocolViolationAndClosesOnlyThatConnection()
    {
        await AssertOnlyOffenderAffectedAsync(async (harness, offender) =>
        {
            await offender.SendFrameAsync(new byte[] { 0xC1, 0x00, 0x01 });
            List<RawFrame> frames = await offender.ReadToEndAsync();
            Assert.Equal(ErrorCode.ProtocolViolation, Assert.Single(frames).As<Error>().Code);
        });
    }

    /// <summary>Guards against an opcode outside 0-255 (a broken frame header) being treated as a message.</summary>
    [Fact]
    public async Task OpcodeOutOfRange_ClosesOnlyThatConnection()
    {
        await AssertOnlyOffenderAffectedAsync(async (harness, offender) =>
        {
            await offender.SendFrameAsync(Payload((ref MessagePackWriter writer) =>
            {
                writer.WriteArrayHeader(2);
                writer.Write(300);
                writer.Write(7u);
            }));
            List<RawFrame> frames = await offender.ReadToEndAsync();
            Assert.Equal(ErrorCode.ProtocolViolation, Assert.Single(frames).As<Error>().Code);
        });
    }

    /// <summary>Guards the forward-compatibility rule: an unknown opcode is answered and skipped, the connection lives.</summary>
    [Fact]
    public async Task UnknownOpcode_IsAnsweredAndTheConnectionLives()
    {
        await AssertOnlyOffenderAffectedAsync(
            async (harness, offender) =>
            {
                await offender.SendFrameAsync(Payload((ref MessagePackWriter writer) =>
                {
                    writer.WriteArrayHeader(3);
                    writer.Write(0xEEu);
                    writer.Write(5u);
                    writer.Write("future field");
                }));
                await offender.ExpectErrorAsync(ErrorCode.UnknownOpcode, 5);
                await offender.SendAsync(new Ping { Timestamp = 7 });
                Assert.Equal(7, (await offender.ReadAsync<Pong>()).Timestamp);
            },
            offenderCloses: false);
    }

    /// <summary>Guards against messages of another role (a balancer's, a server's) being accepted from a client.</summary>
    [Fact]
    public async Task WrongOpcodeForAClient_IsUnexpectedAndTheConnectionLives()
    {
        await AssertOnlyOffenderAffectedAsync(
            async (harness, offender) =>
            {
                uint requestId = await offender.SendAsync(new LoadReport { ServerId = "fake", Connections = 1, Cpu = 0.5, MemoryBytes = 1 });
                await offender.ExpectErrorAsync(ErrorCode.Unexpected, requestId);
                uint relay = await offender.SendAsync(new Relay { FromServerId = "fake", Recipient = "bob", Frame = new(new byte[] { 0x90 }) });
                await offender.ExpectErrorAsync(ErrorCode.Unexpected, relay);
                await offender.SendAsync(new Ping { Timestamp = 8 });
                Assert.Equal(8, (await offender.ReadAsync<Pong>()).Timestamp);
            },
            offenderCloses: false);
    }

    /// <summary>Guards against a malformed message in an intact frame killing the connection: it gets an error reply.</summary>
    [Fact]
    public async Task MalformedDirectMessage_IsAProtocolViolationReplyAndTheConnectionLives()
    {
        await AssertOnlyOffenderAffectedAsync(
            async (harness, offender) =>
            {
                await offender.SendFrameAsync(Payload((ref MessagePackWriter writer) =>
                {
                    writer.WriteArrayHeader(4);
                    writer.Write((uint)Opcode.DirectMessage);
                    writer.Write(9u);
                    writer.Write(new byte[15]);
                    writer.Write("x");
                }));
                Error error = await offender.ExpectErrorAsync(ErrorCode.ProtocolViolation, 9);
                Assert.Contains("DirectMessage", error.Message, StringComparison.Ordinal);
                await offender.SendAsync(new Ping { Timestamp = 9 });
                Assert.Equal(9, (await offender.ReadAsync<Pong>()).Timestamp);
            },
            offenderCloses: false);
    }

    [Fact]
    public async Task FirstFrameNotHello_OrAnotherVersion_IsRefusedAndClosed()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await using (RawClient early = await RawClient.ConnectAsync(harness.First.EndPoint))
        {
            await early.SendAsync(new Ping { Timestamp = 1 });
            Assert.Equal(ErrorCode.Unexpected, Assert.Single(await early.ReadToEndAsync()).As<Error>().Code);
        }

        await using RawClient future = await RawClient.ConnectAsync(harness.First.EndPoint);
        await future.SendAsync(new Hello { ProtocolVersion = 99, Role = PeerRole.Client, Features = [], Agent = "future" });
        Error error = Assert.Single(await future.ReadToEndAsync()).As<Error>();
        Assert.Equal(ErrorCode.UnsupportedVersion, error.Code);
        Assert.Contains("99", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards the server-to-server link: a peer without the cluster key cannot open one.</summary>
    [Fact]
    public async Task PeerLink_WithAProofFromAnotherKey_IsRefused()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await using RawClient impostor = await RawClient.ConnectAndGreetAsync(harness.First.EndPoint, PeerRole.Server);
        DateTime issuedAt = DateTime.UtcNow;
        byte[] proof = Hosts.Security.ClusterKey.Generate().ComputeProof("peer", "server-x", issuedAt);
        uint requestId = await impostor.SendAsync(new PeerLink { ServerId = "server-x", IssuedAt = issuedAt, Proof = new(proof) });

        List<RawFrame> frames = await impostor.ReadToEndAsync();
        RawFrame reply = Assert.Single(frames);
        Assert.Equal(requestId, reply.RequestId);
        Assert.Equal(ErrorCode.AuthenticationFailed, reply.As<Error>().Code);
    }

    [Fact]
    public async Task PeerLink_WithAValidProof_IsAcceptedAndCanRelay()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("bob");
        await using RawClient bob = await harness.SignInAsync("bob");
        await using RawClient peer = await RawClient.ConnectAndGreetAsync(harness.First.EndPoint, PeerRole.Server);
        DateTime issuedAt = DateTime.UtcNow;
        await peer.SendAsync(new PeerLink { ServerId = "server-x", IssuedAt = issuedAt, Proof = new(harness.Key.ComputeProof("peer", "server-x", issuedAt)) });
        await peer.ReadAsync<Ok>();

        var inner = new ArrayBufferWriter<byte>();
        DirectMessage message = TestMessages.Direct("bob", "relayed") with { Sender = "zed" };
        MessageSerializer.WritePayload(inner, 0, message);
        await peer.SendAsync(0, new Relay { FromServerId = "server-x", Recipient = "bob", Frame = new(inner.WrittenMemory) });

        DirectMessage received = await bob.ReadAsync<DirectMessage>();
        Assert.Equal(message.Id, received.Id);
        Assert.Equal("zed", received.Sender);
        await bob.SendAsync(new Ack { Id = received.Id });

        // The receipt goes back over the link, addressed to the sender.
        Relay receipt = await peer.ReadAsync<Relay>();
        Assert.Equal("zed", receipt.Recipient);
        Delivered delivered = MessageSerializer.Deserialize<Delivered>(receipt.Frame, out _);
        Assert.Equal(message.Id, delivered.Id);
        Assert.Equal("bob", delivered.Recipient);
    }

    // An offender and two well-behaved users on one server; after the offence the others still chat.
    private static async Task AssertOnlyOffenderAffectedAsync(Func<ServerHarness, RawClient, Task> offend, bool offenderCloses = true)
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob", "mallory");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");
        await using RawClient mallory = await harness.SignInAsync("mallory");

        await offend(harness, mallory);
        if (offenderCloses)
        {
            await ServerHarness.WaitUntilAsync(() => Task.FromResult(harness.First.ConnectionCount == 2), "the offender's session ends");
        }

        DirectMessage message = TestMessages.Direct("bob", "still working " + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)));
        await alice.SendAsync(message);
        DirectMessage received = await bob.ReadAsync<DirectMessage>();
        Assert.Equal(message.Id, received.Id);
        await bob.SendAsync(new Ack { Id = received.Id });
        Assert.Equal(message.Id, (await alice.ReadAsync<Ack>()).Id);
    }

    private delegate void PayloadWriter(ref MessagePackWriter writer);

    private static byte[] Payload(PayloadWriter write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
