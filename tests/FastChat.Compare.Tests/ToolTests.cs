using FastChat.Compare.Targets;
using FastChat.Compare.Workloads;

namespace FastChat.Compare.Tests;

public sealed class ToolTests
{
    /// <summary>Guards the CPU column: the process name may hold spaces and parentheses, so fields are counted after the last ')'.</summary>
    [Fact]
    public void ParseTicks_NameWithParentheses_SumsUserAndSystem()
    {
        Assert.Equal(300, ProcessCpu.ParseTicks("1234 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0"));
        Assert.Null(ProcessCpu.ParseTicks("garbage"));
        Assert.NotNull(ProcessCpu.ReadTicks(Environment.ProcessId));
    }

    [Fact]
    public void Report_ThreeRounds_GivesMediansSpreadAndRatios()
    {
        static string Line(string target, double rate, double p50) =>
            $"{{\"target\":\"{target}\",\"params\":\"dm P=16 64B W=64\",\"deliveries_per_s\":{rate},\"p50_us\":{p50},\"p99_us\":900,\"server_cpu_us_per_delivery\":1.5,\"lost\":0,\"duplicates\":0,\"unexpected\":0,\"healthy\":true}}";

        string report = CompareReport.Render(
        [
            Line("fastchat", 100_000, 100), Line("nats", 50_000, 80),
            Line("fastchat", 120_000, 110), Line("nats", 40_000, 90),
            Line("fastchat", 140_000, 120), Line("nats", 60_000, 70),
        ]);

        // Medians 120 k and 50 k; spreads 40/120 = 33% and 20/50 = 40%; ratio 2.40.
        Assert.Contains("| dm P=16 64B W=64 | 120.0 k (±33%) | 50.0 k (±40%) | 2.40× |", report, StringComparison.Ordinal);
        Assert.Contains("| dm P=16 64B W=64 | 110 / 900 | 80 / 900 |", report, StringComparison.Ordinal);
        Assert.Contains("FastChat deliveries/s ≥ 1.2× NATS: 2.40× — met", report, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_BrokenLine_Throws() =>
        Assert.Throws<InvalidDataException>(() => CompareReport.Render(["{\"target\":1}"]));

    [Theory]
    [InlineData(new[] { "--target", "kafka", "--endpoint", "127.0.0.1:1", "--workload", "dm" }, "--target")]
    [InlineData(new[] { "--target", "nats", "--endpoint", "nowhere", "--workload", "dm" }, "--endpoint")]
    [InlineData(new[] { "--target", "nats", "--endpoint", "127.0.0.1:1", "--workload", "fanout" }, "--workload")]
    [InlineData(new[] { "--target", "nats", "--endpoint", "127.0.0.1:1", "--workload", "dm", "--size", "8" }, "--size")]
    [InlineData(new[] { "--target", "nats", "--endpoint", "127.0.0.1:1", "--workload", "dm", "--bogus", "1" }, "--bogus")]
    public void Options_BadArguments_SayWhich(string[] args, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => CompareOptions.Parse(args));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Pingpong_UsesOneInFlight()
    {
        CompareOptions options = CompareOptions.Parse(["--target", "raw", "--endpoint", "127.0.0.1:9", "--workload", "pingpong", "--window", "64", "--server-pid", "1,2"]);
        Assert.Equal(1, options.Workload.Window);
        Assert.Equal(WorkloadKind.PingPong, options.Workload.Kind);
        Assert.Equal([1, 2], options.ServerPids);
    }

    /// <summary>Guards the target names: fastchat is the protocol-level adapter, fastchat-sdk the client SDK one.</summary>
    [Theory]
    [InlineData("fastchat", typeof(FastChatWireTarget))]
    [InlineData("fastchat-sdk", typeof(FastChatTarget))]
    public void Options_FastChatTargets_MakeTheirAdapter(string name, Type expected)
    {
        CompareOptions options = CompareOptions.Parse(["--target", name, "--endpoint", "127.0.0.1:9", "--workload", "dm"]);
        ITarget target = options.CreateTarget();
        Assert.IsType(expected, target);
        Assert.Equal(name, target.Name);
        Assert.True(target.IsAcked);
    }
}
