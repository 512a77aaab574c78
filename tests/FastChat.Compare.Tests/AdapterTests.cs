using System.Net;
using FastChat.Compare.Raw;
using FastChat.Compare.SignalR;
using FastChat.Compare.Targets;
using Microsoft.AspNetCore.Builder;

namespace FastChat.Compare.Tests;

/// <summary>nats-server as a child process, or the reason it cannot run here.</summary>
public sealed class NatsServerFixture : IAsyncLifetime
{
    internal ServerProcess? Server { get; private set; }

    internal string? Missing { get; private set; }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        if (ServerProcess.Find("nats-server") is not { } binary)
        {
            Missing = "nats-server is not installed (apt-get install nats-server)";
            return;
        }

        Server = await ServerProcess.StartAsync(binary, port => ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary>redis-server as a child process, or the reason it cannot run here.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    internal ServerProcess? Server { get; private set; }

    internal string? Missing { get; private set; }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        if (ServerProcess.Find("redis-server") is not { } binary)
        {
            Missing = "redis-server is not installed (apt-get install redis-server)";
            return;
        }

        Server = await ServerProcess.StartAsync(binary, port => ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary>The SignalR relay app in this process.</summary>
public sealed class SignalRRelayFixture : IAsyncLifetime
{
    private WebApplication? _app;

    internal int Port { get; private set; }

    /// <inheritdoc/>
    public async Task InitializeAsync() => (_app, Port) = await SignalRRelay.StartAsync(0, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A FastChat cluster in this process.</summary>
public sealed class FastChatClusterFixture : IAsyncLifetime
{
    internal FastChatCluster? Cluster { get; private set; }

    /// <inheritdoc/>
    public async Task InitializeAsync() => Cluster = await FastChatCluster.StartAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>The nats adapter against a real nats-server.</summary>
public sealed class NatsAdapterTests : IClassFixture<NatsServerFixture>
{
    private readonly NatsServerFixture _fixture;

    public NatsAdapterTests(NatsServerFixture fixture) => _fixture = fixture;

    [SkippableTheory]
    [InlineData("dm")]
    [InlineData("dm-1k")]
    [InlineData("group")]
    [InlineData("pingpong")]
    public async Task Nats_SmallRun_DeliversEveryMessageOnce(string workload)
    {
        Skip.If(_fixture.Server is null, _fixture.Missing);
        await AdapterRuns.RunHealthyAsync(new NatsTarget(_fixture.Server!.EndPoint), workload, _fixture.Server.Id);
    }
}

/// <summary>The redis adapter against a real redis-server.</summary>
public sealed class RedisAdapterTests : IClassFixture<RedisServerFixture>
{
    private readonly RedisServerFixture _fixture;

    public RedisAdapterTests(RedisServerFixture fixture) => _fixture = fixture;

    [SkippableTheory]
    [InlineData("dm")]
    [InlineData("dm-1k")]
    [InlineData("group")]
    [InlineData("pingpong")]
    public async Task Redis_SmallRun_DeliversEveryMessageOnce(string workload)
    {
        Skip.If(_fixture.Server is null, _fixture.Missing);
        await AdapterRuns.RunHealthyAsync(new RedisTarget(_fixture.Server!.EndPoint), workload, _fixture.Server.Id);
    }
}

/// <summary>The signalr adapter against the relay hub, in this process.</summary>
public sealed class SignalRAdapterTests : IClassFixture<SignalRRelayFixture>
{
    private readonly SignalRRelayFixture _fixture;

    public SignalRAdapterTests(SignalRRelayFixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("dm")]
    [InlineData("dm-1k")]
    [InlineData("group")]
    [InlineData("pingpong")]
    public async Task SignalR_SmallRun_DeliversEveryMessageOnce(string workload) =>
        await AdapterRuns.RunHealthyAsync(new SignalRTarget(new Uri($"ws://127.0.0.1:{_fixture.Port}/hub")), workload, Environment.ProcessId);
}

/// <summary>The raw adapter against the forwarder, in this process.</summary>
public sealed class RawAdapterTests
{
    [Theory]
    [InlineData("dm")]
    [InlineData("dm-1k")]
    [InlineData("group")]
    [InlineData("pingpong")]
    public async Task Raw_SmallRun_DeliversEveryMessageOnce(string workload)
    {
        await using RawForwarder forwarder = RawForwarder.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await AdapterRuns.RunHealthyAsync(new RawTarget(forwarder.EndPoint), workload, Environment.ProcessId);
    }
}

/// <summary>The fastchat-sdk adapter (the client SDK) against a balancer and chat server in this process, acknowledgements included.</summary>
public sealed class FastChatAdapterTests : IClassFixture<FastChatClusterFixture>
{
    private readonly FastChatClusterFixture _fixture;

    public FastChatAdapterTests(FastChatClusterFixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("dm")]
    [InlineData("dm-1k")]
    [InlineData("group")]
    [InlineData("pingpong")]
    public async Task FastChat_SmallRun_DeliversAndAcknowledgesEveryMessageOnce(string workload)
    {
        var settings = AdapterRuns.Small(workload);
        await AdapterRuns.RunHealthyAsync(new FastChatTarget("127.0.0.1", _fixture.Cluster!.Port, settings.Window, settings.Size), workload, Environment.ProcessId);
    }
}

/// <summary>The fastchat adapter (the protocol spoken directly) against a balancer and chat server in this process, acknowledgements included.</summary>
public sealed class FastChatWireAdapterTests : IClassFixture<FastChatClusterFixture>
{
    private readonly FastChatClusterFixture _fixture;

    public FastChatWireAdapterTests(FastChatClusterFixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("dm")]
    [InlineData("dm-1k")]
    [InlineData("group")]
    [InlineData("pingpong")]
    public async Task FastChatWire_SmallRun_DeliversAndAcknowledgesEveryMessageOnce(string workload)
    {
        var settings = AdapterRuns.Small(workload);
        RunResult result = await AdapterRuns.RunHealthyAsync(new FastChatWireTarget("127.0.0.1", _fixture.Cluster!.Port, settings.Size), workload, Environment.ProcessId);
        Assert.Equal("fastchat", result.Target);
    }

    /// <summary>Guards the id a client chooses: a recipient that got two sends under one id would drop the second as a duplicate, so every send must get a fresh one.</summary>
    [Fact]
    public async Task FastChatWire_ManySendsToOneUser_AllDeliveredAndAcknowledged()
    {
        var target = new FastChatWireTarget("127.0.0.1", _fixture.Cluster!.Port, 64);
        var sink = new CountingSink();
        await using var sender = (FastChatWirePeer)await target.ConnectAsync(PeerRoles.Publisher, new CountingSink(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await using var receiver = (FastChatWirePeer)await target.ConnectAsync(PeerRoles.Subscriber, sink, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Destination to = await receiver.SubscribeAsync("ignored", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        const int Count = 200;
        byte[] body = new byte[64];
        for (int i = 0; i < Count; i++)
        {
            body[0] = (byte)i;
            sender.Publish(to, body);
        }

        await sink.WaitForAsync(Count).WaitAsync(TimeSpan.FromSeconds(30));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (sender.Acked < Count && sender.Failure is null)
        {
            // Acks follow deliveries on the sender's own connection, and a peer raises no event for them: poll, bounded.
            await Task.Delay(10, timeout.Token);
        }

        Assert.Null(sender.Failure);
        Assert.Null(receiver.Failure);
        Assert.Equal(Count, sink.Count);
        Assert.Equal(Count, sender.Acked);
        Assert.Equal(0, sender.AckFailures);
    }

    /// <summary>Guards the failure path: a send to a user that does not exist is refused by the server and counted, never acknowledged.</summary>
    [Fact]
    public async Task FastChatWire_SendToUnknownUser_CountsAnAckFailure()
    {
        var target = new FastChatWireTarget("127.0.0.1", _fixture.Cluster!.Port, 64);
        await using var sender = (FastChatWirePeer)await target.ConnectAsync(PeerRoles.Publisher, new CountingSink(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        sender.Publish(new Destination("nobody-" + Guid.NewGuid().ToString("N")[..12]), new byte[32]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (sender.AckFailures + sender.Acked == 0)
        {
            // The refusal is only counted: poll, bounded.
            await Task.Delay(10, timeout.Token);
        }

        Assert.Equal(1, sender.AckFailures);
        Assert.Equal(0, sender.Acked);
        Assert.NotNull(sender.Failure);
    }

    private sealed class CountingSink : IMessageSink
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _count;
        private int _target = int.MaxValue;

        public int Count => Volatile.Read(ref _count);

        public void OnMessage(ReadOnlySpan<byte> payload)
        {
            if (Interlocked.Increment(ref _count) >= Volatile.Read(ref _target))
            {
                _reached.TrySetResult();
            }
        }

        public Task WaitForAsync(int count)
        {
            Volatile.Write(ref _target, count);
            if (Count >= count)
            {
                _reached.TrySetResult();
            }

            return _reached.Task;
        }
    }
}
