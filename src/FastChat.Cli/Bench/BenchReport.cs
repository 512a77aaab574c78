using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace FastChat.Cli.Bench;

/// <summary>
/// <c>--report FILE.html</c>: one self-contained HTML page per run — the settings, the summary the table shows, a
/// latency-percentile plot and a throughput-over-time plot — with inline CSS and inline SVG, so it opens anywhere
/// (and can be mailed or archived) without scripts or anything fetched.
/// </summary>
/// <remarks>
/// Every string is HTML-escaped (server ids come from the network) and every number is written in the invariant
/// culture. The plots carry ids (<see cref="LatencyPlotId"/>, <see cref="ThroughputPlotId"/>) and their data polylines
/// the class <see cref="SeriesClass"/>, so that tools (and tests) can find them.
/// </remarks>
internal static class BenchReport
{
    /// <summary>The id of the latency-percentile plot's <c>svg</c> element.</summary>
    public const string LatencyPlotId = "latency-plot";

    /// <summary>The id of the throughput-over-time plot's <c>svg</c> element.</summary>
    public const string ThroughputPlotId = "throughput-plot";

    /// <summary>The class of every data polyline.</summary>
    public const string SeriesClass = "series";

    // The plot's size in SVG user units (pixels at 100%), and the margins that hold the tick labels and axis titles.
    private const double Width = 760;
    private const double Height = 360;
    private const double Left = 80;
    private const double Right = 24;
    private const double Top = 36;
    private const double Bottom = 56;

    private const string LatencyColour = "#1f5fa8";
    private const string SentColour = "#c2571a";
    private const string DeliveredColour = "#1f5fa8";

    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1b1b1b; background: #fff; }
        h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
        table { border-collapse: collapse; margin: .5rem 0; }
        th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; }
        td.value { text-align: right; font-variant-numeric: tabular-nums; }
        .clean { color: #176b2c; font-weight: 600; } .unclean { color: #a51d1d; font-weight: 600; }
        .note { color: #555; }
        svg { display: block; background: #fafafa; border: 1px solid #ddd; margin: .5rem 0; }
        svg .grid { stroke: #e2e2e2; stroke-width: 1; }
        svg .axis { stroke: #444; stroke-width: 1; }
        svg text { font-size: 12px; fill: #333; }
        svg .title { font-size: 13px; font-weight: 600; }
        """;

    /// <summary>Writes the report to <paramref name="path"/> atomically: a temporary file in the same folder, then a rename.</summary>
    /// <param name="result">The run.</param>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="generatedAt">When the run ended, shown in the report.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="IOException">The file could not be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder or file is not writable.</exception>
    public static async Task WriteAsync(BenchResult result, string path, DateTimeOffset generatedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        string temporary = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp"));
        try
        {
            await File.WriteAllTextAsync(temporary, Render(result, generatedAt), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), cancellationToken).ConfigureAwait(false);
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            // Never leave a half-written temporary file behind; the original (if any) is untouched.
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>The whole page.</summary>
    /// <param name="result">The run.</param>
    /// <param name="generatedAt">When the run ended, shown in the report.</param>
    public static string Render(BenchResult result, DateTimeOffset generatedAt)
    {
        ArgumentNullException.ThrowIfNull(result);
        var html = new StringBuilder(64 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
            .Append(Escape(result.Heading))
            .Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n<h1>")
            .Append(Escape(result.Heading)).Append("</h1>\n");
        html.Append(result.Clean
            ? "<p class=\"clean\">Clean: every message arrived exactly once.</p>\n"
            : "<p class=\"unclean\">Not clean: messages were lost, duplicated or failed, or the run stalled or was interrupted.</p>\n");

        html.Append("<h2>Settings</h2>\n");
        AppendTable(html, Settings(result, generatedAt));

        html.Append("<h2>Summary</h2>\n");
        AppendTable(html, result.SummaryRows());
        foreach (string note in Notes(result))
        {
            html.Append("<p class=\"note\">").Append(Escape(note)).Append("</p>\n");
        }

        html.Append("<h2>Latency by percentile</h2>\n");
        AppendLatencyPlot(html, result);
        html.Append("<h2>Throughput over time</h2>\n");
        AppendThroughputPlot(html, result.Timeline);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>
    /// Where the percentile <paramref name="percentile"/> lies on the "nines" axis: 0 for 0%, 1 for 90%, 2 for 99%, 3 for
    /// 99.9%…; 100% (the maximum) is placed at <paramref name="lastNines"/>, where the last rank of the data lies.
    /// </summary>
    internal static double Nines(double percentile, double lastNines)
    {
        double remaining = 1 - (percentile / 100);
        return remaining <= 0 ? lastNines : Math.Min(lastNines, -Math.Log10(remaining));
    }

    /// <summary>A "nice" axis step (1, 2 or 5 times a power of ten) that divides <paramref name="max"/> into at most about <paramref name="ticks"/> parts.</summary>
    internal static double NiceStep(double max, int ticks)
    {
        if (!(max > 0) || !double.IsFinite(max))
        {
            return 1;
        }

        double raw = max / ticks;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double normalized = raw / magnitude;
        double nice = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10;
        return nice * magnitude;
    }

    private static List<(string Name, string Value)> Settings(BenchResult result, DateTimeOffset generatedAt)
    {
        BenchSettings settings = result.Settings;
        var rows = new List<(string Name, string Value)>
        {
            ("scenario", BenchResult.ScenarioName(settings.Scenario)),
        };
        if (settings.Scenario == BenchScenario.Group)
        {
            rows.Add(("group size", Integer(settings.GroupSize)));
            rows.Add(("senders", Integer(settings.GroupSenders)));
        }
        else
        {
            rows.Add(("pairs", Integer(settings.Pairs)));
        }

        rows.Add(("body size", Integer(settings.Size) + " B"));
        rows.Add(("loop", settings.Rate is { } rate
            ? "open, " + rate.ToString("0.##", CultureInfo.InvariantCulture) + " messages/s"
            : "closed, window " + Integer(settings.Window)));
        rows.Add(("messages", settings.Messages is { } messages ? messages.ToString("N0", CultureInfo.InvariantCulture) : "unbounded"));
        rows.Add(("duration", settings.Duration is { } duration ? duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s" : "unbounded"));
        rows.Add(("cluster", settings.BalancerHost is null
            ? Integer(result.SpawnedServers) + " server(s) in this process"
            : string.Create(CultureInfo.InvariantCulture, $"balancer {settings.BalancerHost}:{settings.BalancerPort}")));
        rows.Add(("machine", string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} logical processors, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}")));
        rows.Add(("finished", generatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC"));
        return rows;
    }

    private static List<string> Notes(BenchResult result)
    {
        List<string> notes = result.ResourceNotes();
        if (result.Stalled)
        {
            notes.Add("Stalled: nothing was delivered for " + BenchRunner.StallTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + " s, so sending stopped.");
        }

        if (result.Interrupted)
        {
            notes.Add("Interrupted: the counts cover the run up to the interruption.");
        }

        return notes;
    }

    private static void AppendTable(StringBuilder html, List<(string Name, string Value)> rows)
    {
        html.Append("<table>\n");
        foreach ((string name, string value) in rows)
        {
            html.Append("<tr><th scope=\"row\">").Append(Escape(name)).Append("</th><td class=\"value\">").Append(Escape(value)).Append("</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    /// <summary>Latency (ms, linear) against percentile on a "nines" axis, one point per occupied histogram bucket.</summary>
    private static void AppendLatencyPlot(StringBuilder html, BenchResult result)
    {
        (double Percentile, long Value)[] points = result.Latency.PercentileDistribution();

        // The last rank lies at log10(count) nines (e.g. the 1000th of 1000 values at 99.9%); show at least up to 99%.
        double lastNines = Math.Log10(Math.Max(1, result.Latency.Count));
        double xMax = Math.Max(2, Math.Ceiling(lastNines - 1e-9));
        double yMax = Math.Max(result.Latency.Max / 1e6, 0.001);
        double yStep = NiceStep(yMax, 6);
        yMax = Math.Ceiling(yMax / yStep) * yStep;

        string kind = result.LatencyKind;
        OpenSvg(html, LatencyPlotId, $"{kind} latency by percentile");
        for (int nines = 0; nines <= (int)xMax; nines++)
        {
            double x = X(nines, xMax);
            VerticalGrid(html, x);
            Label(html, x, Height - Bottom + 18, "middle", NinesLabel(nines));
        }

        AppendYAxis(html, yMax, yStep, "ms");
        AxisTitles(html, "percentile", $"{kind} latency (ms)");
        if (points.Length == 0)
        {
            NoData(html, "no latencies were recorded");
        }
        else
        {
            html.Append("<polyline class=\"").Append(SeriesClass).Append(" latency\" fill=\"none\" stroke=\"").Append(LatencyColour)
                .Append("\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
            for (int i = 0; i < points.Length; i++)
            {
                double x = X(Nines(points[i].Percentile, lastNines), xMax);
                double y = Y(points[i].Value / 1e6, yMax);
                AppendPoint(html, i, x, y);
            }

            html.Append("\"/>\n");
        }

        html.Append("</svg>\n");
    }

    /// <summary>Sends and first deliveries per second against seconds since the start, as steps between timeline samples.</summary>
    private static void AppendThroughputPlot(StringBuilder html, BenchTimeline? timeline)
    {
        BenchThroughputStep[] steps = timeline?.Steps() ?? [];
        double xMax = steps.Length == 0 ? 1 : Math.Max(steps[^1].To, 1e-3);
        double yMax = 1;
        foreach (BenchThroughputStep step in steps)
        {
            yMax = Math.Max(yMax, Math.Max(step.SentPerSecond, step.DeliveredPerSecond));
        }

        double xStep = NiceStep(xMax, 8);
        double yStep = NiceStep(yMax, 6);
        yMax = Math.Ceiling(yMax / yStep) * yStep;
        OpenSvg(html, ThroughputPlotId, "throughput over time");
        for (double t = 0; t <= xMax + (xStep * 1e-9); t += xStep)
        {
            double x = X(t, xMax);
            VerticalGrid(html, x);
            Label(html, x, Height - Bottom + 18, "middle", Format(t));
        }

        AppendYAxis(html, yMax, yStep, string.Empty);
        AxisTitles(html, "seconds since the start", "per second");
        if (steps.Length == 0)
        {
            NoData(html, "no timeline was recorded");
        }
        else
        {
            AppendSteps(html, steps, xMax, yMax, sent: true);
            AppendSteps(html, steps, xMax, yMax, sent: false);

            // The legend, above the plot area, where it cannot hide data.
            Legend(html, Left, Top - 12, SentColour, "sent/s", dashed: true);
            Legend(html, Left + 120, Top - 12, DeliveredColour, "delivered/s", dashed: false);
        }

        html.Append("</svg>\n");
    }

    /// <summary>One series as a step line: each interval's rate held from its start to its end (two points per step).</summary>
    private static void AppendSteps(StringBuilder html, BenchThroughputStep[] steps, double xMax, double yMax, bool sent)
    {
        html.Append("<polyline class=\"").Append(SeriesClass).Append(sent ? " sent" : " delivered").Append("\" fill=\"none\" stroke=\"")
            .Append(sent ? SentColour : DeliveredColour).Append(sent ? "\" stroke-dasharray=\"6 3" : string.Empty)
            .Append("\" stroke-width=\"2\" points=\"");
        int index = 0;
        foreach (BenchThroughputStep step in steps)
        {
            double y = Y(sent ? step.SentPerSecond : step.DeliveredPerSecond, yMax);
            AppendPoint(html, index++, X(step.From, xMax), y);
            AppendPoint(html, index++, X(step.To, xMax), y);
        }

        html.Append("\"/>\n");
    }

    private static void OpenSvg(StringBuilder html, string id, string title)
    {
        html.Append(CultureInfo.InvariantCulture, $"<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\">\n");
        html.Append("<title>").Append(Escape(title)).Append("</title>\n");
        html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"#fff\" stroke=\"#444\"/>\n");
    }

    private static void AppendYAxis(StringBuilder html, double yMax, double yStep, string unit)
    {
        for (double v = 0; v <= yMax + (yStep * 1e-9); v += yStep)
        {
            double y = Y(v, yMax);
            html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" y1=\"{Format(y)}\" x2=\"{Width - Right}\" y2=\"{Format(y)}\"/>\n");
            string label = Math.Round(v, 3).ToString("#,0.###", CultureInfo.InvariantCulture);
            Label(html, Left - 6, y + 4, "end", unit.Length == 0 ? label : label + " " + unit);
        }
    }

    private static void AxisTitles(StringBuilder html, string x, string y)
    {
        Label(html, Left + ((Width - Left - Right) / 2), Height - 12, "middle", x, "title");
        double middle = Top + ((Height - Top - Bottom) / 2);
        html.Append(CultureInfo.InvariantCulture, $"<text class=\"title\" x=\"16\" y=\"{Format(middle)}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {Format(middle)})\">")
            .Append(Escape(y)).Append("</text>\n");
    }

    private static void VerticalGrid(StringBuilder html, double x) =>
        html.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Format(x)}\" y1=\"{Top}\" x2=\"{Format(x)}\" y2=\"{Height - Bottom}\"/>\n");

    private static void Label(StringBuilder html, double x, double y, string anchor, string text, string cssClass = "tick") =>
        html.Append(CultureInfo.InvariantCulture, $"<text class=\"{cssClass}\" x=\"{Format(x)}\" y=\"{Format(y)}\" text-anchor=\"{anchor}\">")
            .Append(Escape(text)).Append("</text>\n");

    private static void Legend(StringBuilder html, double x, double y, string colour, string text, bool dashed)
    {
        html.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Format(x)}\" y1=\"{Format(y - 4)}\" x2=\"{Format(x + 24)}\" y2=\"{Format(y - 4)}\" stroke=\"{colour}\" stroke-width=\"2\"{(dashed ? " stroke-dasharray=\"6 3\"" : string.Empty)}/>\n");
        Label(html, x + 30, y, "start", text);
    }

    private static void NoData(StringBuilder html, string text) =>
        Label(html, Left + ((Width - Left - Right) / 2), Top + ((Height - Top - Bottom) / 2), "middle", text, "title");

    private static void AppendPoint(StringBuilder html, int index, double x, double y)
    {
        if (index != 0)
        {
            html.Append(' ');
        }

        html.Append(Format(x)).Append(',').Append(Format(y));
    }

    private static double X(double value, double max) => Left + (value / max * (Width - Left - Right));

    private static double Y(double value, double max) => Height - Bottom - (Math.Clamp(value / max, 0, 1) * (Height - Top - Bottom));

    /// <summary>The label of a whole number of nines: 0%, 90%, 99%, 99.9%, 99.99%…</summary>
    private static string NinesLabel(int nines) => nines switch
    {
        0 => "0%",
        1 => "90%",
        2 => "99%",
        _ => "99." + new string('9', nines - 2) + "%",
    };

    private static string Format(double value) => Math.Round(value, 3).ToString("0.###", CultureInfo.InvariantCulture);

    private static string Integer(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
