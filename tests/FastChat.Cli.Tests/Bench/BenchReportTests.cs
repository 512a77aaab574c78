using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using FastChat.Cli.Bench;

namespace FastChat.Cli.Tests.Bench;

/// <summary>The HTML report (<c>--report</c>) rendered from a result built in memory.</summary>
public sealed class BenchReportTests
{
    private static readonly DateTimeOffset FinishedAt = new(2026, 11, 22, 4, 30, 15, TimeSpan.Zero);

    [Fact]
    public void Render_WithLatenciesAndTimeline_PlotsEveryPointOfTheData()
    {
        BenchResult result = Result(serverId: "s1");

        string html = BenchReport.Render(result, FinishedAt);

        XElement latency = Svg(html, BenchReport.LatencyPlotId);
        XElement[] latencySeries = Series(latency);
        Assert.Single(latencySeries);
        Assert.Equal(result.Latency.PercentileDistribution().Length, Points(latencySeries[0]).Length);

        // Two series (sent/s and delivered/s), each a step line: two points per interval between samples.
        XElement throughput = Svg(html, BenchReport.ThroughputPlotId);
        XElement[] throughputSeries = Series(throughput);
        Assert.Equal(2, throughputSeries.Length);
        int expected = 2 * (result.Timeline!.Samples.Count - 1);
        Assert.All(throughputSeries, series => Assert.Equal(expected, Points(series).Length));
        Assert.Contains(throughputSeries, series => ((string?)series.Attribute("class"))!.Contains("delivered", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_LatencyPlot_PutsPercentilesOnANinesAxisWithLabels()
    {
        string html = BenchReport.Render(Result(serverId: "s1"), FinishedAt);

        XElement latency = Svg(html, BenchReport.LatencyPlotId);
        string[] labels = latency.Descendants(Svg("text")).Select(text => text.Value).ToArray();
        Assert.Contains("0%", labels);
        Assert.Contains("90%", labels);
        Assert.Contains("99%", labels);
        Assert.Contains("99.9%", labels);

        // The polyline rises from left to right: x grows with the percentile, and SVG's y grows downwards as latency rises.
        (double X, double Y)[] points = Points(Series(latency)[0]);
        for (int i = 1; i < points.Length; i++)
        {
            Assert.True(points[i].X >= points[i - 1].X, $"x falls at point {i}");
            Assert.True(points[i].Y <= points[i - 1].Y, $"latency falls at point {i}");
        }

        Assert.True(points[^1].X > points[0].X);
        Assert.True(points[^1].Y < points[0].Y);
    }

    [Theory]
    [InlineData(0, 4, 0)]
    [InlineData(90, 4, 1)]
    [InlineData(99, 4, 2)]
    [InlineData(99.9, 4, 3)]
    [InlineData(100, 3.5, 3.5)]
    [InlineData(99.99, 3.5, 3.5)]
    public void Nines_Percentile_MapsToItsNumberOfNines(double percentile, double lastNines, double expected)
    {
        Assert.Equal(expected, BenchReport.Nines(percentile, lastNines), precision: 9);
    }

    /// <summary>Guards the escaping: a server id comes from the network and must never become markup or script.</summary>
    [Fact]
    public void Render_HostileServerId_IsEscapedEverywhere()
    {
        const string hostile = "<script>alert('x')</script><img src=x onerror=\"y\">&amp;";

        string html = BenchReport.Render(Result(serverId: hostile), FinishedAt);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=&quot;y&quot;&gt;&amp;amp;", html, StringComparison.Ordinal);
    }

    /// <summary>Guards self-containment: the page must show its plots with nothing fetched and no script run.</summary>
    [Fact]
    public void Render_Page_NeedsNoScriptsOrExternalResources()
    {
        string html = BenchReport.Render(Result(serverId: "s1"), FinishedAt);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<style>", html, StringComparison.Ordinal);
    }

    /// <summary>Guards the number format: a comma-decimal culture must not leak into SVG coordinates or the summary.</summary>
    [Fact]
    public void Render_UnderACommaDecimalCulture_WritesInvariantNumbers()
    {
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        comma.NumberFormat.NumberGroupSeparator = ".";
        comma.NumberFormat.PercentDecimalSeparator = ",";
        CultureInfo before = CultureInfo.CurrentCulture;
        string html;
        try
        {
            CultureInfo.CurrentCulture = comma;
            html = BenchReport.Render(Result(serverId: "s1"), FinishedAt);
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }

        // Points() parses each "x,y" with the invariant culture and fails on a third part.
        foreach (string id in new[] { BenchReport.LatencyPlotId, BenchReport.ThroughputPlotId })
        {
            Assert.All(Series(Svg(html, id)), series => Assert.NotEmpty(Points(series)));
        }

        Assert.Contains("<td class=\"value\">5,000</td>", html, StringComparison.Ordinal);
        Assert.Contains("2.500 s", html, StringComparison.Ordinal);
        Assert.Contains("12.5% / 40.0%", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NothingMeasured_StillDrawsBothPlotsAndSaysSo()
    {
        BenchSettings settings = Settings();
        var empty = new BenchResult(settings, 1, 0, 0, 0, 0, 0, 0, 0, Stalled: true, Interrupted: false, TimeSpan.Zero, TimeSpan.Zero, new LatencyHistogram());

        string html = BenchReport.Render(empty, FinishedAt);

        Assert.Empty(Series(Svg(html, BenchReport.LatencyPlotId)));
        Assert.Empty(Series(Svg(html, BenchReport.ThroughputPlotId)));
        Assert.Contains("no latencies were recorded", html, StringComparison.Ordinal);
        Assert.Contains("no timeline was recorded", html, StringComparison.Ordinal);
        Assert.Contains("Not clean", html, StringComparison.Ordinal);
        Assert.Contains("Stalled", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_SummaryAndSettings_MatchTheTable()
    {
        BenchResult result = Result(serverId: "s1");

        string html = BenchReport.Render(result, FinishedAt);

        foreach ((string name, string value) in result.SummaryRows())
        {
            Assert.Contains($"<th scope=\"row\">{System.Net.WebUtility.HtmlEncode(name)}</th><td class=\"value\">{System.Net.WebUtility.HtmlEncode(value)}</td>", html, StringComparison.Ordinal);
        }

        Assert.Contains("server CPU per delivery", html, StringComparison.Ordinal);
        Assert.Contains("2026-11-22 04:30:15 UTC", html, StringComparison.Ordinal);
        Assert.Contains("closed, window 64", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_ExistingFile_ReplacesItAndLeavesNoTemporaryFile()
    {
        using var folder = new TestFolder();
        string path = folder.Combine("report.html");
        await File.WriteAllTextAsync(path, "old");

        await BenchReport.WriteAsync(Result(serverId: "s1"), path, FinishedAt, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        string written = await File.ReadAllTextAsync(path);
        Assert.StartsWith("<!DOCTYPE html>", written, StringComparison.Ordinal);
        Assert.Equal([path], Directory.GetFiles(folder.Path));
    }

    /// <summary>A dm result: 5000 latencies spread over 0.2-40 ms, a 2.5 s timeline, and two servers' resources.</summary>
    internal static BenchResult Result(string serverId)
    {
        var latency = new LatencyHistogram();
        var random = new Random(5);
        for (int i = 0; i < 5000; i++)
        {
            latency.Record(200_000 + (long)(Math.Pow(random.NextDouble(), 4) * 40_000_000));
        }

        var timeline = new BenchTimeline();
        for (int step = 0; step <= 10; step++)
        {
            timeline.Observe(TimeSpan.FromSeconds(step * 0.25), step * 500, Math.Max(0, (step * 500) - 30));
        }

        timeline.Complete(TimeSpan.FromSeconds(2.6), 5000, 5000);
        var resources = new BenchResources(
            [new ServerUsage(serverId, 3, 0.125, 0.4, 120L * 1024 * 1024), new ServerUsage("s2", 3, 0.1, 0.2, 100L * 1024 * 1024)],
            ServersInProcess: false,
            TimeSpan.FromSeconds(2.6),
            ProcessorCount: 4,
            MeanTotalCpu: 0.225,
            MaxTotalCpu: 0.6,
            ServerCpuTime: TimeSpan.FromSeconds(0.225 * 4 * 2.6),
            BenchCpuTime: TimeSpan.FromSeconds(1.5),
            Problem: null);
        return new BenchResult(
            Settings(), 0, 5000, 5000, 5000, 5000, 0, 0, 0, Stalled: false, Interrupted: false, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(2.6), latency, timeline, resources);
    }

    private static BenchSettings Settings() =>
        new(BenchScenario.Dm, Pairs: 2, Size: 256, Window: 64, Rate: null, Messages: 5000, Duration: null, Servers: 0, BalancerHost: "127.0.0.1", BalancerPort: 7700);

    /// <summary>The <c>svg</c> element with <paramref name="id"/>, parsed as XML (inline SVG in this report is well-formed XML).</summary>
    internal static XElement Svg(string html, string id)
    {
        Match match = Regex.Match(html, "<svg id=\"" + Regex.Escape(id) + "\"[\\s\\S]*?</svg>");
        Assert.True(match.Success, $"no svg#{id}");
        return XElement.Parse(match.Value);
    }

    private static XName Svg(string localName) => XName.Get(localName, "http://www.w3.org/2000/svg");

    private static XElement[] Series(XElement svg) =>
        svg.Descendants(Svg("polyline")).Where(p => ((string?)p.Attribute("class") ?? string.Empty).Split(' ').Contains(BenchReport.SeriesClass)).ToArray();

    private static (double X, double Y)[] Points(XElement polyline)
    {
        string points = (string?)polyline.Attribute("points") ?? string.Empty;
        return points.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(point =>
            {
                string[] parts = point.Split(',');
                Assert.Equal(2, parts.Length);
                return (double.Parse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture), double.Parse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture));
            })
            .ToArray();
    }
}
