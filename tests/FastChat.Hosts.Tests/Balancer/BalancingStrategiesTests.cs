using FastChat.Hosts.Balancer;

namespace FastChat.Hosts.Tests.Balancer;

public class BalancingStrategiesTests
{
    [Theory]
    [InlineData("round-robin", BalancingStrategy.RoundRobin)]
    [InlineData("random", BalancingStrategy.Random)]
    [InlineData("least-connections", BalancingStrategy.LeastConnections)]
    [InlineData("least-cpu", BalancingStrategy.LeastCpu)]
    [InlineData("least-memory", BalancingStrategy.LeastMemory)]
    [InlineData("power-of-two", BalancingStrategy.PowerOfTwo)]
    [InlineData("  Least-CPU ", BalancingStrategy.LeastCpu)]
    [InlineData("least_memory", BalancingStrategy.LeastMemory)]
    [InlineData("PowerOfTwo", BalancingStrategy.PowerOfTwo)]
    [InlineData("ROUNDROBIN", BalancingStrategy.RoundRobin)]
    public void TryParse_KnownName_ReturnsTheStrategy(string text, BalancingStrategy expected)
    {
        Assert.True(BalancingStrategies.TryParse(text, out BalancingStrategy strategy));
        Assert.Equal(expected, strategy);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("round")]
    [InlineData("round-robin-x")]
    [InlineData("least--cpu")]
    [InlineData("fastest")]
    [InlineData("2")]
    public void TryParse_UnknownName_ReturnsFalse(string? text)
    {
        Assert.False(BalancingStrategies.TryParse(text, out _));
    }

    [Fact]
    public void ToName_EveryStrategy_RoundTripsThroughTryParse()
    {
        BalancingStrategy[] all = Enum.GetValues<BalancingStrategy>();
        Assert.Equal(all.Length, BalancingStrategies.Names.Count);
        foreach (BalancingStrategy strategy in all)
        {
            string name = BalancingStrategies.ToName(strategy);
            Assert.Equal(BalancingStrategies.Names[(int)strategy], name);
            Assert.True(BalancingStrategies.TryParse(name, out BalancingStrategy parsed));
            Assert.Equal(strategy, parsed);
        }
    }

    [Fact]
    public void ToName_UndefinedValue_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BalancingStrategies.ToName((BalancingStrategy)42));
    }
}
