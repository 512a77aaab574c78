using FastChat.Hosts.Balancer;
using FastChat.Hosts.Security;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Balancer;

/// <summary>
/// The issue's integration test: 300 sign-ins over three registered chat servers (fake ones, on real sockets),
/// distributed as each strategy promises. Three clients sign in concurrently, 100 times each; the registry decides
/// under one lock, so every strategy's outcome is the same however the three interleave.
/// </summary>
public class ChatBalancerDistributionTests
{
    private const int SignInsPerClient = 100;
    private const int Clients = 3;
    private const int Total = SignInsPerClient * Clients;

    private static readonly string[] s_serverIds = ["s1", "s2", "s3"];

    // Reported load per server: (connections, cpu, memory).
    private delegate (int Connections, double Cpu, long Memory) LoadOf(string serverId);

    [Fact]
    public async Task RoundRobin_300SignIns_ExactlyAThirdEach()
    {
        Dictionary<string, int> counts = await RunAsync(BalancingStrategy.RoundRobin, _ => (0, 0, 0));

        Assert.Equal([100, 100, 100], Counts(counts));
    }

    [Fact]
    public async Task LeastConnections_EqualReports_AssignmentsCountUntilTheNextReport_ExactlyAThirdEach()
    {
        // Every server reports 10 connections once and then nothing during the burst: were assignments not counted,
        // all 300 would go to s1 (the lowest id among equals).
        Dictionary<string, int> counts = await RunAsync(BalancingStrategy.LeastConnections, _ => (10, 0.5, 1_000));

        Assert.Equal([100, 100, 100], Counts(counts));
    }

    [Fact]
    public async Task LeastConnections_UnequalReports_FillsTheEmptierServersFirst()
    {
        // s1 reports 150, s2 50, s3 0: s3 is filled up to s2, then both up to s1, then all three share what is left.
        // With 500 connections in all at the end, every server ends at 166 or 167.
        Dictionary<string, int> counts = await RunAsync(BalancingStrategy.LeastConnections, id => id switch
        {
            "s1" => (150, 0, 0),
            "s2" => (50, 0, 0),
            _ => (0, 0, 0),
        });

        Assert.Equal(Total, Counts(counts).Sum());
        int[] finalLoads = [150 + counts.GetValueOrDefault("s1"), 50 + counts.GetValueOrDefault("s2"), counts.GetValueOrDefault("s3")];
        Assert.True(finalLoads.Max() - finalLoads.Min() <= 1, $"final loads {string.Join("/", finalLoads)} are not level");
    }

    [Fact]
    public async Task LeastCpu_DifferentReports_AllToTheLeastLoaded()
    {
        Dictionary<string, int> counts = await RunAsync(BalancingStrategy.LeastCpu, id => id switch
        {
            "s1" => (0, 0.50, 100),
            "s2" => (50, 0.10, 900),
            _ => (0, 0.90, 100),
        });

        Assert.Equal([0, 300, 0], Counts(counts));
    }

    [Fact]
    public async Task LeastMemory_DifferentReports_AllToTheLeastLoaded()
    {
        Dictionary<string, int> counts = await RunAsync(BalancingStrategy.LeastMemory, id => id switch
        {
            "s1" => (0, 0.1, 300_000_000),
            "s2" => (0, 0.1, 200_000_000),
            _ => (90, 0.9, 100_000_000),
        });

        Assert.Equal([0, 0, 300], Counts(counts));
    }

    [Fact]
    public async Task Random_SeededGenerator_EachServerGetsAReasonableShare()
    {
        Dictionary<string, int> counts = await RunAsync(BalancingStrategy.Random, _ => (0, 0, 0));

        Assert.Equal(Total, Counts(counts).Sum());
        Assert.All(Counts(counts), count => Assert.InRange(count, 60, 140));
    }

    [Fact]
    public async Task PowerOfTwo_OneServerFarBusier_ItGetsNoneAndTheOthersStayLevel()
    {
        // s3 reports 1,000 connections; s1 and s2 start at 0 and can reach at most 300 between them, so s3 loses
        // every pair it is drawn into. Pairs {s1,s2} go to the emptier of the two, which keeps them close.
        Dictionary<string, int> counts = await RunAsync(BalancingStrategy.PowerOfTwo, id => id == "s3" ? (1_000, 0, 0) : (0, 0, 0));

        int[] spread = Counts(counts);
        Assert.Equal(0, spread[2]);
        Assert.Equal(Total, spread[0] + spread[1]);
        Assert.InRange(spread[0], 120, 180);
    }

    private static int[] Counts(Dictionary<string, int> counts) =>
        [counts.GetValueOrDefault("s1"), counts.GetValueOrDefault("s2"), counts.GetValueOrDefault("s3")];

    private static async Task<Dictionary<string, int>> RunAsync(BalancingStrategy strategy, LoadOf load)
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync(
            o => o.Strategy = BalancingStrategies.ToName(strategy),
            random: new Random(20240601));
        var ports = new Dictionary<int, string>();
        for (int i = 0; i < s_serverIds.Length; i++)
        {
            string id = s_serverIds[i];
            FakeServerPeer server = await harness.RegisterServerAsync(id, 7801 + i);
            ports[server.Port] = id;
            (int connections, double cpu, long memory) = load(id);
            await server.ReportLoadAsync(connections, cpu, memory);
        }

        var clients = new BalancerTestClient[Clients];
        var keys = new byte[Clients][];
        for (int i = 0; i < Clients; i++)
        {
            keys[i] = await harness.SeedAccountAsync("user" + i);
            clients[i] = await harness.ConnectClientAsync();
        }

        var runs = new Task<List<Assigned>>[Clients];
        for (int i = 0; i < Clients; i++)
        {
            runs[i] = SignInRepeatedlyAsync(clients[i], "user" + i, keys[i]);
        }

        List<Assigned>[] results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(120));

        var counts = new Dictionary<string, int>();
        foreach (List<Assigned> assignments in results)
        {
            foreach (Assigned assigned in assignments)
            {
                // The endpoint handed out is the one the chosen server advertised, and the token is for that server.
                Assert.Equal(assigned.ServerId, ports[assigned.Port]);
                Assert.Equal(SessionTokenStatus.Valid, SessionTokens.Validate(harness.ClusterKey, assigned.SessionToken, assigned.ServerId, DateTime.UtcNow, out _));
                counts[assigned.ServerId] = counts.GetValueOrDefault(assigned.ServerId) + 1;
            }
        }

        Assert.Equal(Total, counts.Values.Sum());
        return counts;
    }

    private static async Task<List<Assigned>> SignInRepeatedlyAsync(BalancerTestClient client, string userName, byte[] authKey)
    {
        var assignments = new List<Assigned>(SignInsPerClient);
        for (int i = 0; i < SignInsPerClient; i++)
        {
            assignments.Add((await client.SignInAsync(userName, authKey)).AssertAssigned());
        }

        return assignments;
    }
}
