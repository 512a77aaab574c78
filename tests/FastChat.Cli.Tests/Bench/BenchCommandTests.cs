using System.Text.Json;

namespace FastChat.Cli.Tests.Bench;

/// <summary><c>fastchat bench</c> as a real process against the cluster it spawns in itself.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public async Task BenchDm_SpawnedCluster_DeliversEveryMessageExactlyOnce()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("dm.json");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "dm", "--spawn", "--pairs", "2", "--messages", "2000", "--json", json);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("delivered", stdout, StringComparison.Ordinal);
        using JsonDocument result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = result.RootElement;
        Assert.Equal("dm", root.GetProperty("scenario").GetString());
        Assert.Equal("closed", root.GetProperty("mode").GetString());
        Assert.Equal(2000, root.GetProperty("sent").GetInt64());
        Assert.Equal(2000, root.GetProperty("acked").GetInt64());
        Assert.Equal(2000, root.GetProperty("delivered").GetInt64());
        Assert.Equal(0, root.GetProperty("lost").GetInt64());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt64());
        Assert.True(root.GetProperty("deliveriesPerSecond").GetDouble() > 0);
        AssertLatencies(root.GetProperty("latency"), expectedCount: 2000);
    }

    [Fact]
    public async Task BenchPingPong_SpawnedCluster_EchoesEveryMessage()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("pingpong.json");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "pingpong", "--spawn", "--servers", "1", "--pairs", "1", "--messages", "500", "--window", "8", "--json", json);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        using JsonDocument result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = result.RootElement;
        Assert.Equal(1, root.GetProperty("servers").GetInt32());

        // Every ping and every echo.
        Assert.Equal(1000, root.GetProperty("sent").GetInt64());
        Assert.Equal(1000, root.GetProperty("delivered").GetInt64());
        Assert.Equal(0, root.GetProperty("lost").GetInt64());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt64());
        Assert.Equal("round-trip", root.GetProperty("latency").GetProperty("kind").GetString());
        AssertLatencies(root.GetProperty("latency"), expectedCount: 500);
    }

    [Fact]
    public async Task BenchOpenLoop_RateAndDuration_StopsByItselfOnSchedule()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("open.json");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "dm", "--spawn", "--pairs", "2", "--rate", "2000", "--duration", "2", "--json", json);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        using JsonDocument result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = result.RootElement;
        Assert.Equal("open", root.GetProperty("mode").GetString());
        Assert.Equal(2000, root.GetProperty("rate").GetDouble());

        // 2000/s for 2 s is 4000 scheduled sends; a sender that the end of the duration catches waiting may stop a
        // message or two short, never over.
        long sent = root.GetProperty("sent").GetInt64();
        Assert.InRange(sent, 3900, 4000);
        Assert.Equal(sent, root.GetProperty("delivered").GetInt64());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt64());
        AssertLatencies(root.GetProperty("latency"), expectedCount: sent);
    }

    [Fact]
    public async Task BenchGroup_SpawnedCluster_DeliversEveryMessageToEveryOtherMemberOnce()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("group.json");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "group", "--spawn", "--group-size", "10", "--senders", "2", "--messages", "500", "--json", json);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("10 members, 2 sender(s)", stdout, StringComparison.Ordinal);
        using JsonDocument result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = result.RootElement;
        Assert.Equal("group", root.GetProperty("scenario").GetString());
        Assert.Equal(10, root.GetProperty("groupSize").GetInt32());
        Assert.Equal(2, root.GetProperty("senders").GetInt32());
        Assert.Equal(500, root.GetProperty("sent").GetInt64());
        Assert.Equal(500, root.GetProperty("acked").GetInt64());

        // Each message reaches the 9 members other than its sender.
        Assert.Equal(500 * 9, root.GetProperty("expectedDeliveries").GetInt64());
        Assert.Equal(500 * 9, root.GetProperty("delivered").GetInt64());
        Assert.Equal(0, root.GetProperty("lost").GetInt64());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, root.GetProperty("unexpected").GetInt64());
        Assert.True(root.GetProperty("messagesPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("deliveriesPerSecond").GetDouble() > 0);
        Assert.Equal("one-way", root.GetProperty("latency").GetProperty("kind").GetString());
        AssertLatencies(root.GetProperty("latency"), expectedCount: 500 * 9);
    }

    /// <summary>Guards the group scenario's command line: a group size or sender count out of range is refused with exit code 2 and one sentence, before any cluster starts.</summary>
    [Theory]
    [InlineData(new[] { "bench", "group", "--spawn" }, "The group scenario needs --group-size")]
    [InlineData(new[] { "bench", "group", "--spawn", "--group-size", "1" }, "--group-size must be between 2 and 1000, not 1.")]
    [InlineData(new[] { "bench", "group", "--spawn", "--group-size", "1001" }, "--group-size must be between 2 and 1000, not 1001.")]
    [InlineData(new[] { "bench", "group", "--spawn", "--group-size", "10", "--senders", "0" }, "--senders must be between 1 and the group size (10), not 0.")]
    [InlineData(new[] { "bench", "group", "--spawn", "--group-size", "10", "--senders", "11" }, "--senders must be between 1 and the group size (10), not 11.")]
    [InlineData(new[] { "bench", "group", "--spawn", "--group-size", "10", "--pairs", "2" }, "--pairs goes with dm and pingpong")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--group-size", "10" }, "--group-size and --senders go with the group scenario")]
    public async Task BenchGroup_BadGroupSizeOrSenders_ExitsTwoWithOneSentence(string[] arguments, string expected)
    {
        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(arguments);

        Assert.True(exitCode == 2, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n'), line => line.StartsWith("fastchat: ", StringComparison.Ordinal));
        Assert.DoesNotContain("delivered", stdout, StringComparison.Ordinal);
    }

    /// <summary>Guards the command line: each bad value is refused with exit code 2 and one sentence, before any cluster starts.</summary>
    [Theory]
    [InlineData(new[] { "bench", "dm", "--spawn", "--pairs", "0" }, "--pairs must be between 1 and")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--size", "15" }, "--size must be between 16 and 1048576, not 15")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--size", "1048577" }, "--size must be between 16 and 1048576")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--window", "0" }, "--window must be between 1 and")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--rate", "0" }, "--rate must be a number of messages per second above 0")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--rate", "-5" }, "--rate must be a number of messages per second above 0")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--duration", "0" }, "--duration must be a number of seconds above 0")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--messages", "0" }, "--messages must be between 1 and")]
    [InlineData(new[] { "bench", "dm" }, "Give exactly one of --spawn")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--balancer", "127.0.0.1:7700" }, "Give exactly one of --spawn")]
    [InlineData(new[] { "bench", "dm", "--balancer", "10.1.2.3:7700" }, "--balancer must be a loopback address")]
    [InlineData(new[] { "bench", "dm", "--balancer", "127.0.0.1:7700", "--servers", "3" }, "--servers goes with --spawn")]
    [InlineData(new[] { "bench", "dm", "--spawn", "--window", "8", "--rate", "100" }, "not both")]
    [InlineData(new[] { "bench", "group", "--spawn" }, "group")]
    public async Task Bench_BadUsage_ExitsTwoAndSaysWhatIsWrong(string[] arguments, string expected)
    {
        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(arguments);

        Assert.True(exitCode == 2, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("delivered", stdout, StringComparison.Ordinal);
    }

    private static void AssertLatencies(JsonElement latency, long expectedCount)
    {
        Assert.Equal(expectedCount, latency.GetProperty("count").GetInt64());
        double previous = 0;
        foreach (string name in new[] { "min", "p50", "p90", "p99", "p99.9", "max" })
        {
            double value = latency.GetProperty(name).GetDouble();
            Assert.True(value > 0, $"{name} is {value}");
            Assert.True(value >= previous, $"{name} ({value} µs) is below the one before ({previous} µs)");
            previous = value;
        }
    }
}
