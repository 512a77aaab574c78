using System.Net;
using System.Text.Json;
using FastChat.Cli.Bench;

namespace FastChat.Cli.Tests.Bench;

/// <summary><c>fastchat bench connections</c>: many held sessions, their memory, and a trickle among them.</summary>
public sealed class BenchConnectionsTests
{
    [Fact]
    public async Task BenchConnections_SpawnedCluster_HoldsEverySessionAndDeliversTheTrickle()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("connections.json");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(
            "bench", "connections", "--spawn", "--connections", "300", "--hold", "2", "--trickle", "50", "--json", json);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("server bytes/connection", stdout, StringComparison.Ordinal);
        using JsonDocument result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = result.RootElement;
        Assert.Equal("connections", root.GetProperty("scenario").GetString());
        Assert.Equal(300, root.GetProperty("connected").GetInt32());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.True(root.GetProperty("connectsPerSecond").GetDouble() > 0);

        // The rotation really spread the sessions over several source addresses, all on the loopback network.
        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonElement address in root.GetProperty("sourceAddresses").EnumerateArray())
        {
            Assert.True(IPAddress.IsLoopback(IPAddress.Parse(address.GetString()!)), address.GetString());
            sources.Add(address.GetString()!);
        }

        Assert.True(sources.Count >= 2, $"{sources.Count} source address(es)");

        // Memory: the servers' own reports after connecting hold every session, and the per-connection figure is there.
        JsonElement memory = root.GetProperty("memory");
        Assert.True(memory.GetProperty("serversInThisProcess").GetBoolean());
        Assert.True(memory.GetProperty("serverBytesPerConnection").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Number, memory.GetProperty("processBytesPerConnection").ValueKind);
        int held = 0;
        foreach (JsonElement server in memory.GetProperty("after").GetProperty("servers").EnumerateArray())
        {
            Assert.True(server.GetProperty("memoryBytes").GetInt64() > 0);
            held += server.GetProperty("connections").GetInt32();
        }

        Assert.Equal(300, held);

        // 50 messages a second for 2 s, each delivered exactly once, and no session lost meanwhile.
        JsonElement trickle = root.GetProperty("trickle");
        Assert.Equal(100, trickle.GetProperty("sent").GetInt64());
        Assert.Equal(100, trickle.GetProperty("acked").GetInt64());
        Assert.Equal(100, trickle.GetProperty("delivered").GetInt64());
        Assert.Equal(0, trickle.GetProperty("lost").GetInt64());
        Assert.Equal(0, trickle.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, trickle.GetProperty("unexpected").GetInt64());
        Assert.Equal(0, trickle.GetProperty("dropped").GetInt64());
        JsonElement latency = trickle.GetProperty("latency");
        Assert.Equal(100, latency.GetProperty("count").GetInt64());
        Assert.True(latency.GetProperty("p50").GetDouble() > 0);
        Assert.True(latency.GetProperty("max").GetDouble() >= latency.GetProperty("p50").GetDouble());
        Assert.True(root.GetProperty("clean").GetBoolean());
    }

    /// <summary>Guards the connections scenario's command line: each bad combination is refused with exit code 2 and one sentence, before any cluster starts.</summary>
    [Theory]
    [InlineData(new[] { "bench", "connections", "--spawn" }, "The connections scenario needs --connections N")]
    [InlineData(new[] { "bench", "connections", "--spawn", "--connections", "0" }, "--connections must be between 1 and 1000000, not 0.")]
    [InlineData(new[] { "bench", "connections", "--spawn", "--connections", "1000001" }, "--connections must be between 1 and 1000000, not 1000001.")]
    [InlineData(new[] { "bench", "connections", "--spawn", "--connections", "10", "--e2e" }, "--e2e goes with dm, pingpong and group")]
    [InlineData(new[] { "bench", "connections", "--spawn", "--connections", "10", "--pairs", "2" }, "--pairs does not go with the connections scenario")]
    [InlineData(new[] { "bench", "connections", "--spawn", "--connections", "10", "--rate", "100" }, "--rate does not go with the connections scenario")]
    [InlineData(new[] { "bench", "connections", "--spawn", "--connections", "10", "--hold", "-1" }, "--hold must be a number of seconds from 0")]
    [InlineData(new[] { "bench", "connections", "--spawn", "--connections", "10", "--trickle", "-1" }, "--trickle must be a number of messages per second from 0")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--connections", "10" }, "--connections, --hold and --trickle go with the connections scenario.")]
    [InlineData(new[] { "bench", "group", "--spawn", "--group-size", "3", "--trickle", "5" }, "--connections, --hold and --trickle go with the connections scenario.")]
    [InlineData(new[] { "bench", "connections", "--connections", "10" }, "Give exactly one of --spawn")]
    public async Task BenchConnections_BadUsage_ExitsTwoWithOneSentence(string[] arguments, string expected)
    {
        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(arguments);

        Assert.True(exitCode == 2, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("connects/s", stdout, StringComparison.Ordinal);
    }

    /// <summary>Guards the open-file check: more sessions than RLIMIT_NOFILE allows are refused up front with exit code 2 and advice, instead of failing part-way with EMFILE.</summary>
    [SkippableFact]
    public async Task BenchConnections_MoreThanTheOpenFileLimit_ExitsTwoAndSuggestsUlimit()
    {
        long? limit = BenchConnections.OpenFileLimit();
        Skip.If(limit is null, "the system does not report an open-file limit");
        Skip.If(BenchConnections.FileDescriptorsNeeded(BenchConnections.MaxConnections, spawn: true) <= limit, $"the open-file limit ({limit}) would allow the run");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(
            "bench", "connections", "--spawn", "--connections", BenchConnections.MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(exitCode == 2, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("open files", stderr, StringComparison.Ordinal);
        Assert.Contains("ulimit -n", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("connects/s", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SourceAddresses_SmallRun_RotatesOverSeveralDistinctLoopbackAddresses()
    {
        IPAddress[] addresses = BenchConnections.SourceAddresses(300);

        Assert.True(addresses.Length >= 2);
        Assert.Equal(IPAddress.Parse("127.0.0.1"), addresses[0]);
        Assert.Equal(addresses.Length, new HashSet<IPAddress>(addresses).Count);
        Assert.All(addresses, address => Assert.True(IPAddress.IsLoopback(address), address.ToString()));
    }

    [Fact]
    public void SourceAddresses_MillionConnections_KeepsEachAddressWithinItsPortRange()
    {
        IPAddress[] addresses = BenchConnections.SourceAddresses(BenchConnections.MaxConnections);

        // About 28,000 ephemeral ports an address: a million sessions need at least 36 addresses.
        Assert.True(addresses.Length * 28_000 >= BenchConnections.MaxConnections, $"{addresses.Length} addresses");
        Assert.Equal(addresses.Length, new HashSet<IPAddress>(addresses).Count);
        Assert.All(addresses, address => Assert.True(IPAddress.IsLoopback(address), address.ToString()));
    }
}
