using System.Text.Json;

namespace FastChat.Cli.Tests.Bench;

/// <summary>
/// <c>fastchat bench</c> as a real process: the throughput timeline, the servers' CPU and memory and the HTML report
/// that come with every run, and the <c>--report</c> option's validation.
/// </summary>
public sealed class BenchMeasurementTests
{
    [Fact]
    public async Task BenchDm_SpawnedWithJsonAndReport_RecordsTimelineAndResources()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("dm.json");
        string report = folder.Combine("dm.html");

        // An open loop well below what the machine carries: a fixed 1.5 s of sending, long enough for several timeline
        // samples and load reports, without overloading a shared 2-core machine.
        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(
            "bench", "dm", "--spawn", "--servers", "2", "--pairs", "2", "--rate", "3000", "--messages", "4500", "--json", json, "--report", report, "--no-progress");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        using JsonDocument document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = document.RootElement;
        long sent = root.GetProperty("sent").GetInt64();
        long delivered = root.GetProperty("delivered").GetInt64();
        Assert.Equal(4500, sent);
        Assert.Equal(4500, delivered);

        // The timeline: cumulative counts from the start to the final totals, about four samples a second.
        JsonElement timeline = root.GetProperty("timeline");
        Assert.Equal(0.25, timeline.GetProperty("intervalSeconds").GetDouble());
        JsonElement[] samples = timeline.GetProperty("samples").EnumerateArray().ToArray();
        Assert.True(samples.Length >= 5, $"{samples.Length} samples");
        Assert.True(samples[0].GetProperty("seconds").GetDouble() < 0.1);
        Assert.Equal(sent, samples[^1].GetProperty("sent").GetInt64());
        Assert.Equal(delivered, samples[^1].GetProperty("delivered").GetInt64());
        for (int i = 1; i < samples.Length; i++)
        {
            Assert.True(samples[i].GetProperty("seconds").GetDouble() > samples[i - 1].GetProperty("seconds").GetDouble());
            Assert.True(samples[i].GetProperty("delivered").GetInt64() >= samples[i - 1].GetProperty("delivered").GetInt64());
        }

        // The servers ran in this process, and reported their CPU and memory to the balancer while the run measured.
        Assert.True(root.GetProperty("serversInProcess").GetBoolean());
        Assert.True(root.GetProperty("serverCpuPerDeliveryUs").GetDouble() > 0);
        JsonElement resources = root.GetProperty("resources");
        Assert.True(resources.GetProperty("serverCpuSeconds").GetDouble() > 0);
        Assert.True(resources.GetProperty("benchCpuSeconds").GetDouble() > 0);
        Assert.InRange(resources.GetProperty("serverCpuMeanPercent").GetDouble(), 0.01, 100);
        Assert.False(resources.TryGetProperty("problem", out _));
        JsonElement[] servers = resources.GetProperty("servers").EnumerateArray().ToArray();
        Assert.Equal(["s1", "s2"], servers.Select(server => server.GetProperty("id").GetString()));
        Assert.All(servers, server =>
        {
            Assert.True(server.GetProperty("reports").GetInt32() >= 1);
            Assert.True(server.GetProperty("peakMemoryBytes").GetInt64() > 1024 * 1024);
            Assert.InRange(server.GetProperty("cpuMaxPercent").GetDouble(), server.GetProperty("cpuMeanPercent").GetDouble(), 100);
        });

        // The table shows the same, with the footnote about the servers sharing the process.
        Assert.Contains("server s1 CPU mean / max *", stdout, StringComparison.Ordinal);
        Assert.Contains("server s2 peak memory *", stdout, StringComparison.Ordinal);
        Assert.Contains("server CPU per delivery *", stdout, StringComparison.Ordinal);
        Assert.Contains("bench process CPU time", stdout, StringComparison.Ordinal);
        Assert.Contains("* The servers ran in this process (--spawn)", stdout, StringComparison.Ordinal);

        // Redirected output gets no live display: nothing but the heading, the table and the footnote.
        Assert.DoesNotContain("sending", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", stdout, StringComparison.Ordinal);

        string html = await File.ReadAllTextAsync(report);
        Assert.Contains("<svg id=\"latency-plot\"", html, StringComparison.Ordinal);
        Assert.Contains("<svg id=\"throughput-plot\"", html, StringComparison.Ordinal);
        Assert.Equal([report], Directory.GetFiles(folder.Path, "*.html"));
    }

    [Fact]
    public async Task BenchGroup_SpawnedWithJson_RecordsTimelineOfDeliveries()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("group.json");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "group", "--spawn", "--servers", "1", "--group-size", "4", "--messages", "300", "--json", json);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        using JsonDocument document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = document.RootElement;
        JsonElement[] samples = root.GetProperty("timeline").GetProperty("samples").EnumerateArray().ToArray();
        Assert.True(samples.Length >= 2, $"{samples.Length} samples");
        Assert.Equal(300, samples[^1].GetProperty("sent").GetInt64());
        Assert.Equal(300 * 3, samples[^1].GetProperty("delivered").GetInt64());
        Assert.True(root.GetProperty("serversInProcess").GetBoolean());
        Assert.True(root.GetProperty("resources").GetProperty("benchCpuSeconds").GetDouble() > 0);
    }

    /// <summary>Guards --report: a file in a folder that does not exist is a usage error before the run, not a lost run after it.</summary>
    [Fact]
    public async Task Bench_ReportInMissingFolder_ExitsTwoBeforeRunning()
    {
        using var folder = new TestFolder();
        string missing = folder.Combine("no-such-folder", "report.html");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "dm", "--spawn", "--messages", "10", "--report", missing);

        Assert.True(exitCode == 2, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("--report: the folder '" + folder.Combine("no-such-folder") + "' does not exist.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("delivered", stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(missing));
    }

    /// <summary>Guards --report: a folder is not a file to write, and saying so beats a failure after the run.</summary>
    [Fact]
    public async Task Bench_ReportIsAFolder_ExitsTwoBeforeRunning()
    {
        using var folder = new TestFolder();

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "dm", "--spawn", "--messages", "10", "--report", folder.Path);

        Assert.True(exitCode == 2, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("is a folder; give a file name.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("delivered", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchHelp_Options_DocumentReportAndNoProgress()
    {
        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "--help");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("--report <FILE.html>", stdout, StringComparison.Ordinal);
        Assert.Contains("latency-percentile plot", stdout, StringComparison.Ordinal);
        Assert.Contains("--no-progress", stdout, StringComparison.Ordinal);
    }
}
