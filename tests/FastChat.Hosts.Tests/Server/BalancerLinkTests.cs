using System.Buffers;
using System.Net;
using System.Threading.Channels;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Tests.Server;

public sealed class BalancerLinkTests
{
    [Fact]
    public async Task ChatServer_RegistersWithAValidProofAndReportsItsLoad()
    {
        ClusterKey key = ClusterKey.Generate();
        await using FakeBalancer balancer = FakeBalancer.Start(key, new IPEndPoint(IPAddress.Loopback, 0));
        await using ServerHarness harness = await StartServerAsync(balancer.EndPoint, key);
        ChatServer server = harness.First;

        Registration registration = await balancer.Registrations.Reader.ReadAsync().AsTask().WaitAsync(ServerHarness.Timeout);
        Assert.True(registration.ProofValid, "The registration proof did not verify with the cluster key.");
        Assert.Equal(server.Id, registration.ServerId);
        Assert.Equal("127.0.0.1", registration.Host);
        Assert.Equal(server.EndPoint.Port, registration.Port);

        LoadReport report = await balancer.Reports.Reader.ReadAsync().AsTask().WaitAsync(ServerHarness.Timeout);
        Assert.Equal(server.Id, report.ServerId);
        Assert.Equal(0, report.Connections);
        Assert.InRange(report.Cpu, 0, 1);
        Assert.True(report.MemoryBytes > 0);

        // A signed-in client shows up in the next reports.
        await harness.CreateUsersAsync("alice");
        await using RawClient alice = await harness.SignInAsync("alice");
        while ((await balancer.Reports.Reader.ReadAsync().AsTask().WaitAsync(ServerHarness.Timeout)).Connections != 1)
        {
        }
    }

    /// <summary>Guards the recovery path: a balancer that restarts gets the server back without anyone's help.</summary>
    [Fact]
    public async Task ChatServer_ReRegistersWhenTheBalancerRestarts()
    {
        ClusterKey key = ClusterKey.Generate();
        FakeBalancer first = FakeBalancer.Start(key, new IPEndPoint(IPAddress.Loopback, 0));
        IPEndPoint endPoint = first.EndPoint;
        await using ServerHarness harness = await StartServerAsync(endPoint, key);
        await first.Registrations.Reader.ReadAsync().AsTask().WaitAsync(ServerHarness.Timeout);
        await first.DisposeAsync();

        await using FakeBalancer second = FakeBalancer.Start(key, endPoint);
        Registration again = await second.Registrations.Reader.ReadAsync().AsTask().WaitAsync(ServerHarness.Timeout);
        Assert.True(again.ProofValid);
        Assert.Equal(harness.First.Id, again.ServerId);
        await second.Reports.Reader.ReadAsync().AsTask().WaitAsync(ServerHarness.Timeout);
    }

    private static async Task<ServerHarness> StartServerAsync(IPEndPoint balancer, ClusterKey key)
    {
        ServerHarness harness = await ServerHarness.StartAsync(
            configure: options =>
            {
                options.Balancer = $"127.0.0.1:{balancer.Port}";
                options.LoadReportInterval = TimeSpan.FromMilliseconds(50);
            },
            clusterKey: key);
        return harness;
    }

    private sealed record Registration(string ServerId, string Host, int Port, bool ProofValid);

    // Plays the balancer: answers Hello, checks RegisterServer's proof and answers Ok, records LoadReports.
    private sealed class FakeBalancer : IFrameHandler, IAsyncDisposable
    {
        private readonly ClusterKey _key;
        private readonly FastChatListener _listener;
        private readonly Task _serving;

        private FakeBalancer(ClusterKey key, FastChatListener listener)
        {
            _key = key;
            _listener = listener;
            _serving = FramedServer.RunAsync(listener, this);
        }

        public IPEndPoint EndPoint => (IPEndPoint)_listener.EndPoint;

        public Channel<Registration> Registrations { get; } = Channel.CreateUnbounded<Registration>();

        public Channel<LoadReport> Reports { get; } = Channel.CreateUnbounded<LoadReport>();

        public static FakeBalancer Start(ClusterKey key, IPEndPoint endPoint) =>
            new(key, FastChatListener.Bind(new ListenerOptions { EndPoint = endPoint }));

        public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
        {
            var reader = new MessagePackReader(payload);
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            switch (header.Opcode)
            {
                case Opcode.Hello:
                    Write(connection, header.RequestId, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Balancer, Features = [], Agent = "fake-balancer" });
                    break;
                case Opcode.RegisterServer:
                    RegisterServer register = MessageSerializer.ReadBody<RegisterServer>(ref reader, header);
                    bool valid = _key.VerifyProof("register", register.ServerId, register.IssuedAt, register.Proof.ToArray(), ClusterKey.EndpointContext(register.Host, register.Port));
                    Registrations.Writer.TryWrite(new Registration(register.ServerId, register.Host, register.Port, valid));
                    Write(connection, header.RequestId, new Ok());
                    break;
                case Opcode.LoadReport:
                    LoadReport report = MessageSerializer.ReadBody<LoadReport>(ref reader, header);
                    Reports.Writer.TryWrite(report);
                    break;
            }

            return default;
        }

        public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
        {
            connection.TryFlush();
            return default;
        }

        public async ValueTask DisposeAsync()
        {
            await _listener.DisposeAsync();
            await _serving.WaitAsync(ServerHarness.Timeout);
        }

        private static void Write<T>(FramedConnection connection, uint requestId, T message)
            where T : struct, IMessage<T>
        {
            using FrameWriteScope scope = connection.BeginWrite();
            if (scope.IsActive)
            {
                MessageSerializer.WriteFrame(scope.Writer, requestId, in message);
            }
        }
    }
}
