using FastChat.Hosts.Balancer;
using FastChat.Hosts.Balancer.Internal;

namespace FastChat.Hosts.Tests.Balancer;

public class ServerSelectorTests
{
    private static ServerLoad Live(string id, long connections = 0, double cpu = 0, long memory = 0) => new(id, connections, cpu, memory, IsLive: true);

    private static ServerLoad Dead(string id, long connections = 0, double cpu = 0, long memory = 0) => new(id, connections, cpu, memory, IsLive: false);

    private static string[] Pick(ServerSelector selector, ServerLoad[] servers, int count)
    {
        var picks = new string[count];
        for (int i = 0; i < count; i++)
        {
            int index = selector.Select(servers);
            Assert.True(index >= 0, "the selector found no server");
            picks[i] = servers[index].Id;
        }

        return picks;
    }

    [Theory]
    [InlineData(BalancingStrategy.RoundRobin)]
    [InlineData(BalancingStrategy.Random)]
    [InlineData(BalancingStrategy.LeastConnections)]
    [InlineData(BalancingStrategy.LeastCpu)]
    [InlineData(BalancingStrategy.LeastMemory)]
    [InlineData(BalancingStrategy.PowerOfTwo)]
    public void Select_NoLiveServers_ReturnsNone(BalancingStrategy strategy)
    {
        var selector = new ServerSelector(strategy, new Random(1));

        Assert.Equal(-1, selector.Select([]));
        Assert.Equal(-1, selector.Select([Dead("a"), Dead("b")]));
    }

    [Theory]
    [InlineData(BalancingStrategy.RoundRobin)]
    [InlineData(BalancingStrategy.Random)]
    [InlineData(BalancingStrategy.LeastConnections)]
    [InlineData(BalancingStrategy.LeastCpu)]
    [InlineData(BalancingStrategy.LeastMemory)]
    [InlineData(BalancingStrategy.PowerOfTwo)]
    public void Select_OnlyOneLiveServer_AlwaysPicksIt(BalancingStrategy strategy)
    {
        var selector = new ServerSelector(strategy, new Random(2));
        ServerLoad[] servers = [Dead("a", connections: 0, cpu: 0, memory: 0), Live("b", connections: 50, cpu: 0.9, memory: 1 << 30), Dead("c")];

        Assert.All(Pick(selector, servers, 20), id => Assert.Equal("b", id));
    }

    [Fact]
    public void RoundRobin_CyclesInIdOrder_WhateverTheSnapshotOrder()
    {
        var selector = new ServerSelector(BalancingStrategy.RoundRobin, new Random(3));
        ServerLoad[] servers = [Live("c"), Live("a"), Live("b")];

        Assert.Equal(["a", "b", "c", "a", "b", "c", "a"], Pick(selector, servers, 7));
    }

    [Fact]
    public void RoundRobin_DeadServer_IsSkipped()
    {
        var selector = new ServerSelector(BalancingStrategy.RoundRobin, new Random(4));
        ServerLoad[] servers = [Live("a"), Dead("b"), Live("c")];

        Assert.Equal(["a", "c", "a", "c"], Pick(selector, servers, 4));
    }

    [Fact]
    public void RoundRobin_ServerJoinsOrDies_ContinuesAfterTheLastPick()
    {
        var selector = new ServerSelector(BalancingStrategy.RoundRobin, new Random(5));

        Assert.Equal(["a", "b"], Pick(selector, [Live("a"), Live("b"), Live("c")], 2));

        // "b" was picked last; "c" dies and "bb" joins: the cycle goes on after "b" in id order.
        Assert.Equal(["bb", "a", "b", "bb"], Pick(selector, [Live("a"), Live("b"), Live("bb"), Dead("c")], 4));

        // The last pick ("bb") left the registry: the next id after it is still the one that follows.
        Assert.Equal(["c", "a"], Pick(selector, [Live("a"), Live("c")], 2));
    }

    [Fact]
    public void LeastConnections_PicksTheFewest_TiesGoToTheLowestId()
    {
        var selector = new ServerSelector(BalancingStrategy.LeastConnections, new Random(6));

        Assert.Equal("b", Pick(selector, [Live("a", connections: 5), Live("b", connections: 2), Live("c", connections: 3)], 1)[0]);
        Assert.Equal("b", Pick(selector, [Live("c", connections: 2), Live("b", connections: 2), Live("a", connections: 4)], 1)[0]);
        Assert.Equal("c", Pick(selector, [Dead("a", connections: 0), Live("b", connections: 7), Live("c", connections: 6)], 1)[0]);
    }

    [Fact]
    public void LeastCpu_PicksTheLowestCpu_TiesGoToTheLowestId()
    {
        var selector = new ServerSelector(BalancingStrategy.LeastCpu, new Random(7));

        Assert.Equal("c", Pick(selector, [Live("a", cpu: 0.5, connections: 0), Live("b", cpu: 0.4), Live("c", cpu: 0.1, connections: 100)], 1)[0]);
        Assert.Equal("a", Pick(selector, [Live("b", cpu: 0.2), Live("a", cpu: 0.2), Live("c", cpu: 0.3)], 1)[0]);
        Assert.Equal("b", Pick(selector, [Dead("a", cpu: 0.0), Live("b", cpu: 0.7), Live("c", cpu: 0.8)], 1)[0]);
    }

    [Fact]
    public void LeastMemory_PicksTheLeastMemory_TiesGoToTheLowestId()
    {
        var selector = new ServerSelector(BalancingStrategy.LeastMemory, new Random(8));

        Assert.Equal("a", Pick(selector, [Live("a", memory: 100), Live("b", memory: 300), Live("c", memory: 200)], 1)[0]);
        Assert.Equal("b", Pick(selector, [Live("c", memory: 100), Live("b", memory: 100), Live("a", memory: 400)], 1)[0]);
        Assert.Equal("c", Pick(selector, [Live("a", memory: 900), Dead("b", memory: 1), Live("c", memory: 800)], 1)[0]);
    }

    [Fact]
    public void Random_SeededGenerator_CoversEveryLiveServerAndNoDeadOne()
    {
        var selector = new ServerSelector(BalancingStrategy.Random, new Random(9));
        ServerLoad[] servers = [Live("a"), Live("b"), Dead("c"), Live("d")];

        var counts = new Dictionary<string, int>();
        foreach (string id in Pick(selector, servers, 300))
        {
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        Assert.Equal(["a", "b", "d"], counts.Keys.Order().ToArray());
        Assert.All(counts.Values, count => Assert.InRange(count, 60, 140));
    }

    [Fact]
    public void Random_SameSeed_SameSequence()
    {
        ServerLoad[] servers = [Live("a"), Live("b"), Live("c")];

        string[] first = Pick(new ServerSelector(BalancingStrategy.Random, new Random(10)), servers, 30);
        string[] second = Pick(new ServerSelector(BalancingStrategy.Random, new Random(10)), servers, 30);

        Assert.Equal(first, second);
    }

    [Fact]
    public void PowerOfTwo_TwoServers_AlwaysTheOneWithFewerConnections()
    {
        // With two live servers both are always drawn, so the choice is never random.
        var selector = new ServerSelector(BalancingStrategy.PowerOfTwo, new Random(11));

        Assert.All(Pick(selector, [Live("a", connections: 9), Live("b", connections: 3), Dead("c", connections: 0)], 50), id => Assert.Equal("b", id));
        Assert.All(Pick(selector, [Live("b", connections: 3), Live("a", connections: 3)], 50), id => Assert.Equal("a", id));
    }

    [Fact]
    public void PowerOfTwo_ThreeServers_NeverPicksTheBusiestAndDrawsTwoDistinct()
    {
        var selector = new ServerSelector(BalancingStrategy.PowerOfTwo, new Random(12));
        ServerLoad[] servers = [Live("a", connections: 1), Live("b", connections: 2), Live("c", connections: 3)];

        var counts = new Dictionary<string, int>();
        foreach (string id in Pick(selector, servers, 600))
        {
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        // Pairs {a,b}, {a,c}, {b,c} are equally likely: a wins two of them, b one, c none. Were the two draws allowed
        // to be the same server, c would win whenever it was drawn twice.
        Assert.False(counts.ContainsKey("c"));
        Assert.InRange(counts["a"], 330, 470);
        Assert.InRange(counts["b"], 130, 270);
    }
}
