using FastChat.Hosts.Security;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Balancer;

public class ChatBalancerRegistryTests
{
    [Fact]
    public async Task RegisterServer_ValidProof_OkAndListedAsLive()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();

        await harness.RegisterServerAsync("s1", 7801);

        ServerStatus server = Assert.Single(harness.Balancer.GetServers());
        Assert.Equal("s1", server.ServerId);
        Assert.Equal("127.0.0.1", server.Host);
        Assert.Equal(7801, server.Port);
        Assert.True(server.Live);
    }

    public static TheoryData<string> ForgedProofs => ["other-key", "random-bytes", "short", "stale", "future", "other-id"];

    /// <summary>Guards the cluster boundary: a registration without a fresh proof from the cluster key is refused and its link closed.</summary>
    [Theory]
    [MemberData(nameof(ForgedProofs))]
    public async Task RegisterServer_BadProof_AuthenticationFailedAndClosed(string forgery)
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await using FakeServerPeer server = await FakeServerPeer.ConnectAsync(harness.EndPoint, "s1", 7801);
        DateTime now = DateTime.UtcNow;

        Task<ReceivedMessage> registration = forgery switch
        {
            "other-key" => server.RegisterAsync(ClusterKey.Generate()),
            "random-bytes" => server.RegisterAsync(harness.ClusterKey, now, new byte[32]),
            "short" => server.RegisterAsync(harness.ClusterKey, now, harness.ClusterKey.ComputeProof("register", "s1", now)[..31]),
            "stale" => server.RegisterAsync(harness.ClusterKey, now.AddMinutes(-6)),
            "future" => server.RegisterAsync(harness.ClusterKey, now.AddMinutes(6)),
            _ => server.RegisterAsync(harness.ClusterKey, now, harness.ClusterKey.ComputeProof("register", "s2", now)),
        };

        (await registration).AssertError(ErrorCode.AuthenticationFailed);
        await server.Peer.Closed.WaitAsync(FramedTestPeer.Timeout);
        Assert.Empty(harness.Balancer.GetServers());
    }

    /// <summary>Guards the endpoint binding: a captured registration proof cannot point the server id at another address.</summary>
    [Fact]
    public async Task RegisterServer_ProofForAnotherEndpoint_Refused()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await using FakeServerPeer server = await FakeServerPeer.ConnectAsync(harness.EndPoint, "s1", 7801);
        DateTime now = DateTime.UtcNow;

        // The proof vouches for 127.0.0.1:7999, but the registration names port 7801.
        byte[] proof = harness.ClusterKey.ComputeProof("register", "s1", now, ClusterKey.EndpointContext(server.Host, 7999));
        (await server.RegisterAsync(harness.ClusterKey, now, proof)).AssertError(ErrorCode.AuthenticationFailed);
        Assert.Empty(harness.Balancer.GetServers());
    }

    /// <summary>Guards proof separation: a server-to-server link proof cannot be replayed as a registration.</summary>
    [Fact]
    public async Task RegisterServer_ProofForAnotherPurpose_Refused()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await using FakeServerPeer server = await FakeServerPeer.ConnectAsync(harness.EndPoint, "s1", 7801);
        DateTime now = DateTime.UtcNow;

        // A peer-link proof must not open a registration.
        (await server.RegisterAsync(harness.ClusterKey, now, harness.ClusterKey.ComputeProof("peer", "s1", now))).AssertError(ErrorCode.AuthenticationFailed);
        Assert.Empty(harness.Balancer.GetServers());
    }

    /// <summary>Guards the registration order: an unregistered server link cannot report load.</summary>
    [Fact]
    public async Task ServerLink_LoadReportBeforeRegistration_UnexpectedAndClosed()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await using FakeServerPeer server = await FakeServerPeer.ConnectAsync(harness.EndPoint, "s1", 7801);

        server.Peer.Send(5, new LoadReport { ServerId = "s1", Connections = 1 });

        List<ReceivedMessage> messages = await server.Peer.ReceiveUntilClosedAsync();
        ReceivedMessage error = Assert.Single(messages);
        Assert.Equal(5u, error.RequestId);
        error.AssertError(ErrorCode.Unexpected);
        Assert.Empty(harness.Balancer.GetServers());
    }

    /// <summary>Guards the registry against ids and endpoints no client could use.</summary>
    [Theory]
    [InlineData("", 7801)]
    [InlineData("has space", 7801)]
    [InlineData("s1", 0)]
    [InlineData("s1", 70000)]
    public async Task RegisterServer_UnusableIdOrEndpoint_RefusedAndClosed(string serverId, int port)
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await using FakeServerPeer server = await FakeServerPeer.ConnectAsync(harness.EndPoint, serverId, port);

        (await server.RegisterAsync(harness.ClusterKey)).AssertError(ErrorCode.ProtocolViolation);
        await server.Peer.Closed.WaitAsync(FramedTestPeer.Timeout);
        Assert.Empty(harness.Balancer.GetServers());
    }

    /// <summary>Guards the registry: one server's link cannot report (or keep alive) another server.</summary>
    [Fact]
    public async Task LoadReport_ForAnotherServerId_ProtocolViolationAndTheLinkLives()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        FakeServerPeer s1 = await harness.RegisterServerAsync("s1", 7801);
        await harness.RegisterServerAsync("s2", 7802);

        ReceivedMessage reply = await s1.Peer.RequestAsync(new LoadReport { ServerId = "s2", Connections = 99 });

        Assert.Contains("'s1'", reply.AssertError(ErrorCode.ProtocolViolation), StringComparison.Ordinal);
        await s1.ReportLoadAsync(connections: 4, cpu: 0.5, memoryBytes: 1000);
        IReadOnlyList<ServerStatus> servers = harness.Balancer.GetServers();
        Assert.Equal(4, servers[0].Connections);
        Assert.Equal(0, servers[1].Connections);
    }

    /// <summary>Guards heartbeat expiry: a server whose reports stop is listed as not live and gets no more clients.</summary>
    [Fact]
    public async Task SignIn_ServerStopsReporting_IsNoLongerAssigned()
    {
        var time = new ManualTimeProvider();
        await using BalancerHarness harness = await BalancerHarness.StartAsync(o => o.ServerTimeout = TimeSpan.FromSeconds(3), time);
        FakeServerPeer s1 = await harness.RegisterServerAsync("s1", 7801);
        await harness.RegisterServerAsync("s2", 7802);
        byte[] authKey = await harness.SeedAccountAsync("alice");
        BalancerTestClient client = await harness.ConnectClientAsync();
        Assert.Equal(["s1", "s2"], [(await client.SignInAsync("alice", authKey)).AssertAssigned().ServerId, (await client.SignInAsync("alice", authKey)).AssertAssigned().ServerId]);

        time.Advance(TimeSpan.FromSeconds(2));
        await s1.ReportLoadAsync(connections: 1);
        time.Advance(TimeSpan.FromSeconds(2));

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("s1", (await client.SignInAsync("alice", authKey)).AssertAssigned().ServerId);
        }

        IReadOnlyList<ServerStatus> status = await client.ClusterStatusAsync();
        Assert.Equal(["s1", "s2"], status.Select(s => s.ServerId).ToArray());
        Assert.True(status[0].Live);
        Assert.False(status[1].Live);

        // s1 falls silent too: nobody is left to assign.
        time.Advance(TimeSpan.FromSeconds(3));
        (await client.SignInAsync("alice", authKey)).AssertError(ErrorCode.NoServerAvailable);
    }

    [Fact]
    public async Task ServerLink_Closes_ServerIsRemoved()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        FakeServerPeer s1 = await harness.RegisterServerAsync("s1", 7801);
        await harness.RegisterServerAsync("s2", 7802);
        byte[] authKey = await harness.SeedAccountAsync("bob");

        await s1.DisposeAsync();
        await harness.WaitForServersAsync(servers => servers.Count == 1);

        Assert.Equal("s2", harness.Balancer.GetServers()[0].ServerId);
        BalancerTestClient client = await harness.ConnectClientAsync();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("s2", (await client.SignInAsync("bob", authKey)).AssertAssigned().ServerId);
        }
    }

    /// <summary>Guards server restarts: registering the same id again replaces the entry, closes the old link, and the old link's end does not remove the new entry.</summary>
    [Fact]
    public async Task RegisterServer_SameIdAgain_ReplacesTheEntryAndClosesTheOldLink()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        FakeServerPeer before = await harness.RegisterServerAsync("s1", 7801);

        FakeServerPeer after = await harness.RegisterServerAsync("s1", 7901);

        await before.Peer.Closed.WaitAsync(FramedTestPeer.Timeout);
        ServerStatus server = Assert.Single(harness.Balancer.GetServers());
        Assert.Equal(7901, server.Port);
        byte[] authKey = await harness.SeedAccountAsync("carol");
        BalancerTestClient client = await harness.ConnectClientAsync();
        Assert.Equal(7901, (await client.SignInAsync("carol", authKey)).AssertAssigned().Port);
        await after.ReportLoadAsync(connections: 1);
        Assert.Single(harness.Balancer.GetServers());
    }

    [Fact]
    public async Task ClusterStatus_ListsEveryServerByIdWithItsLastReport()
    {
        // Starts at the real time: the fake servers sign their proofs with the real clock.
        var realTime = new ManualTimeProvider();
        await using BalancerHarness harness = await BalancerHarness.StartAsync(o => o.ServerTimeout = TimeSpan.FromSeconds(10), realTime);
        DateTime registeredAt = realTime.GetUtcNow().UtcDateTime;
        FakeServerPeer c = await harness.RegisterServerAsync("c-server", 7803);
        FakeServerPeer a = await harness.RegisterServerAsync("a-server", 7801);
        await harness.RegisterServerAsync("b-server", 7802);

        realTime.Advance(TimeSpan.FromSeconds(8));
        await a.ReportLoadAsync(connections: 10, cpu: 0.25, memoryBytes: 1_000_000);
        await c.ReportLoadAsync(connections: 30, cpu: 0.75, memoryBytes: 3_000_000);
        realTime.Advance(TimeSpan.FromSeconds(3));
        BalancerTestClient client = await harness.ConnectClientAsync();

        IReadOnlyList<ServerStatus> servers = await client.ClusterStatusAsync();

        Assert.Equal(["a-server", "b-server", "c-server"], servers.Select(s => s.ServerId).ToArray());
        Assert.Equal(new ServerStatus { ServerId = "a-server", Host = "127.0.0.1", Port = 7801, Connections = 10, Cpu = 0.25, MemoryBytes = 1_000_000, LastReportAt = registeredAt.AddSeconds(8), Live = true }, servers[0]);
        Assert.Equal(new ServerStatus { ServerId = "b-server", Host = "127.0.0.1", Port = 7802, Connections = 0, Cpu = 0, MemoryBytes = 0, LastReportAt = registeredAt, Live = false }, servers[1]);
        Assert.Equal(new ServerStatus { ServerId = "c-server", Host = "127.0.0.1", Port = 7803, Connections = 30, Cpu = 0.75, MemoryBytes = 3_000_000, LastReportAt = registeredAt.AddSeconds(8), Live = true }, servers[2]);
        Assert.Equal(servers, harness.Balancer.GetServers());
    }
}
