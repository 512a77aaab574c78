using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Balancer;

public class ChatBalancerConnectionTests
{
    private static readonly TimeSpan s_timeout = FramedTestPeer.Timeout;

    /// <summary>Guards version negotiation: a peer speaking another protocol version is told so and disconnected.</summary>
    [Fact]
    public async Task Hello_OtherProtocolVersion_UnsupportedVersionAndClosed()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await using FramedTestPeer peer = await FramedTestPeer.ConnectAsync(harness.EndPoint);

        peer.Send(1, new Hello { ProtocolVersion = 2, Role = PeerRole.Client, Features = [], Agent = "future" });

        ReceivedMessage error = Assert.Single(await peer.ReceiveUntilClosedAsync());
        Assert.Contains("version 2", error.AssertError(ErrorCode.UnsupportedVersion), StringComparison.Ordinal);
    }

    /// <summary>Guards the handshake: nothing is served before Hello.</summary>
    [Fact]
    public async Task FirstMessage_NotHello_UnexpectedAndClosed()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await using FramedTestPeer peer = await FramedTestPeer.ConnectAsync(harness.EndPoint);

        peer.Send(3, new KdfParametersRequest { UserName = "alice" });

        ReceivedMessage error = Assert.Single(await peer.ReceiveUntilClosedAsync());
        Assert.Equal(3u, error.RequestId);
        error.AssertError(ErrorCode.Unexpected);
    }

    /// <summary>Guards the roles: only clients and chat servers are served.</summary>
    [Fact]
    public async Task Hello_BalancerRole_RefusedAndClosed()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await using FramedTestPeer peer = await FramedTestPeer.ConnectAsync(harness.EndPoint);

        peer.Send(1, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Balancer, Features = [], Agent = "x" });

        Assert.Single(await peer.ReceiveUntilClosedAsync()).AssertError(ErrorCode.Unexpected);
    }

    /// <summary>Guards isolation: garbage, an oversized length prefix and a truncated frame close only the offending connections.</summary>
    [Fact]
    public async Task BrokenFrames_CloseOnlyTheirConnection_OthersKeepWorking()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.RegisterServerAsync("s1", 7801);
        byte[] authKey = await harness.SeedAccountAsync("alice");
        BalancerTestClient bystander = await harness.ConnectClientAsync();
        (await bystander.SignInAsync("alice", authKey)).AssertAssigned();

        // A payload that is not a MessagePack array: a broken frame.
        BalancerTestClient garbage = await harness.ConnectClientAsync();
        garbage.Peer.SendPayload([0xC1, 0xFF, 0x00, 0x13]);
        ReceivedMessage garbageError = Assert.Single(await garbage.Peer.ReceiveUntilClosedAsync());
        Assert.Equal(0u, garbageError.RequestId);
        garbageError.AssertError(ErrorCode.ProtocolViolation);

        // A length prefix over the limit, sent over a raw socket.
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(harness.EndPoint).WaitAsync(s_timeout);
            byte[] prefix = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(prefix, 64 * 1024 * 1024);
            await socket.SendAsync(prefix).WaitAsync(s_timeout);
            byte[] received = await ReadToEndAsync(socket);
            Assert.True(received.Length > 4, "the balancer sent no Error before closing");
            ReceivedMessage tooLarge = new(Opcode.Error, 0, received[4..]);
            tooLarge.AssertError(ErrorCode.FrameTooLarge);
        }

        // A frame cut off by the end of the stream.
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(harness.EndPoint).WaitAsync(s_timeout);
            await socket.SendAsync(new byte[] { 0, 0, 0, 10, 0x92, 0x01 }).WaitAsync(s_timeout);
            socket.Shutdown(SocketShutdown.Send);
            await ReadToEndAsync(socket);
        }

        // The bystander, connected all along, is unaffected.
        for (int i = 0; i < 3; i++)
        {
            (await bystander.SignInAsync("alice", authKey)).AssertAssigned();
        }
    }

    /// <summary>Guards the error grades: a malformed message in an intact frame is answered, not fatal.</summary>
    [Fact]
    public async Task BadMessage_ErrorWithItsRequestId_AndTheConnectionLives()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        BalancerTestClient client = await harness.ConnectClientAsync();

        // SignIn with one field where two are required.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write((uint)Opcode.SignIn);
        writer.Write(77u);
        writer.Write("alice");
        writer.Flush();
        client.Peer.SendPayload(buffer.WrittenSpan);

        ReceivedMessage error = await client.Peer.ReceiveAsync();
        Assert.Equal(77u, error.RequestId);
        Assert.Contains("SignIn", error.AssertError(ErrorCode.ProtocolViolation), StringComparison.Ordinal);
        Assert.Equal(Opcode.Pong, (await client.Peer.RequestAsync(new Ping { Timestamp = 5 })).Opcode);
    }

    /// <summary>Guards forward compatibility: unknown opcodes are skipped, and a request among them is not left unanswered.</summary>
    [Fact]
    public async Task UnknownOpcode_WithRequestId_UnknownOpcodeAndTheConnectionLives()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        BalancerTestClient client = await harness.ConnectClientAsync();

        client.Peer.SendPayload([0x93, 0xCC, 0xEE, 0x09, 0xA1, (byte)'x']);
        client.Peer.SendPayload([0x92, 0xCC, 0xEF, 0x00]);

        ReceivedMessage error = await client.Peer.ReceiveAsync();
        Assert.Equal(9u, error.RequestId);
        error.AssertError(ErrorCode.UnknownOpcode);

        // The one without a request id was skipped silently: the next reply is the Pong.
        ReceivedMessage pong = await client.Peer.RequestAsync(new Ping { Timestamp = 42 });
        Assert.Equal(42, pong.As<Pong>().Timestamp);
    }

    /// <summary>Guards the roles: a client cannot report load or resume a session at the balancer.</summary>
    [Fact]
    public async Task ClientSendsAServerMessage_UnexpectedAndTheConnectionLives()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        BalancerTestClient client = await harness.ConnectClientAsync();

        (await client.Peer.RequestAsync(new LoadReport { ServerId = "s1", Connections = 5 })).AssertError(ErrorCode.Unexpected);
        (await client.Peer.RequestAsync(new Resume())).AssertError(ErrorCode.Unexpected);

        Assert.Empty(await client.ClusterStatusAsync());
    }

    [Fact]
    public async Task StopAsync_ConnectedPeers_ToldShuttingDownAndClosed()
    {
        BalancerHarness harness = await BalancerHarness.StartAsync();
        try
        {
            FakeServerPeer server = await harness.RegisterServerAsync("s1", 7801);
            BalancerTestClient client = await harness.ConnectClientAsync();

            await harness.Balancer.StopAsync(CancellationToken.None).WaitAsync(s_timeout);

            Assert.Single(await client.Peer.ReceiveUntilClosedAsync()).AssertError(ErrorCode.ShuttingDown);
            Assert.Single(await server.Peer.ReceiveUntilClosedAsync()).AssertError(ErrorCode.ShuttingDown);
            Assert.Empty(harness.Balancer.GetServers());
            await Assert.ThrowsAnyAsync<Exception>(() => FramedTestPeer.ConnectAsync(harness.EndPoint));
            await Assert.ThrowsAsync<InvalidOperationException>(() => harness.Balancer.StartAsync(CancellationToken.None));
        }
        finally
        {
            await harness.DisposeAsync();
        }
    }

    public static TheoryData<string, Action<BalancerOptions>> InvalidOptions => new()
    {
        { "Strategy", o => o.Strategy = "fastest" },
        { "Port", o => o.Port = 70000 },
        { "ServerTimeout", o => o.ServerTimeout = TimeSpan.Zero },
        { "TokenLifetime", o => o.TokenLifetime = TimeSpan.FromSeconds(-1) },
        { "MaxFrameSize", o => o.MaxFrameSize = 100 },
        { "MaxSignInFailuresPerUser", o => o.MaxSignInFailuresPerUser = 0 },
        { "Host", o => o.Host = " " },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task StartAsync_InvalidOption_ArgumentExceptionNamingIt(string option, Action<BalancerOptions> configure)
    {
        string directory = Path.Combine(Path.GetTempPath(), "fastchat-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(directory);
        try
        {
            await using SqliteChatStore store = SqliteChatStore.ForDataDirectory(directory);
            var options = new BalancerOptions { Host = "127.0.0.1", Port = 0 };
            configure(options);
            await using var balancer = new ChatBalancer(options, store, ClusterKey.Generate());

            ArgumentException error = await Assert.ThrowsAnyAsync<ArgumentException>(() => balancer.StartAsync(CancellationToken.None)).WaitAsync(s_timeout);

            Assert.Equal(option, error.ParamName);
            Assert.Throws<InvalidOperationException>(() => balancer.EndPoint);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Metrics_SignInsSignUpsAssignmentsAndLiveServers_AreRecorded()
    {
        using var meterFactory = new TestMeterFactory();
        await using BalancerHarness harness = await BalancerHarness.StartAsync(meterFactory: meterFactory);
        var measurements = new List<(string Instrument, long Value, string? Tag)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (meterFactory.Meters.Contains(instrument.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? tag = tags.Length > 0 ? tags[0].Value?.ToString() : null;
            lock (measurements)
            {
                measurements.Add((instrument.Name, value, tag));
            }
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            lock (measurements)
            {
                measurements.Add((instrument.Name, value, null));
            }
        });
        listener.Start();

        await harness.RegisterServerAsync("s1", 7801);
        await harness.RegisterServerAsync("s2", 7802);
        byte[] authKey = await harness.SeedAccountAsync("alice");
        BalancerTestClient client = await harness.ConnectClientAsync();
        (await client.SignUpAsync("bob", new byte[32])).AssertAssigned();
        (await client.SignInAsync("alice", authKey)).AssertAssigned();
        (await client.SignInAsync("alice", new byte[32])).AssertError(ErrorCode.AuthenticationFailed);
        listener.RecordObservableInstruments();

        lock (measurements)
        {
            Assert.Contains(("fastchat.balancer.sign_ups", 1L, "success"), measurements);
            Assert.Contains(("fastchat.balancer.sign_ins", 1L, "failed"), measurements);
            Assert.Equal(2, measurements.Count(m => m == ("fastchat.balancer.sign_ins", 1L, "success")));
            Assert.Contains(("fastchat.balancer.assignments", 1L, "s1"), measurements);
            Assert.Contains(("fastchat.balancer.assignments", 1L, "s2"), measurements);
            Assert.Contains(("fastchat.balancer.servers.live", 2L, null), measurements);
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(s_timeout);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                return received.ToArray();
            }

            if (read == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, read);
        }
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Meters { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            lock (Meters)
            {
                Meters.Add(meter);
            }

            return meter;
        }

        public void Dispose()
        {
            foreach (Meter meter in Meters)
            {
                meter.Dispose();
            }
        }
    }
}
