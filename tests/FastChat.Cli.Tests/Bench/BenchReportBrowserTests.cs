using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace FastChat.Cli.Tests.Bench;

/// <summary>
/// The <c>--report</c> page checked as a person would see it: a real <c>fastchat bench</c> writes it, then headless
/// Chromium (Debian's <c>chromium</c>) renders it — its DOM after rendering, and a screenshot. Skipped, never passed,
/// when Chromium is not installed.
/// </summary>
public sealed partial class BenchReportBrowserTests
{
    private static readonly TimeSpan BrowserTimeout = TimeSpan.FromSeconds(60);

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [SkippableFact]
    public async Task BenchReport_RenderedInHeadlessChromium_ShowsBothPlotsWithData()
    {
        string? chromium = FindChromium();
        Skip.If(chromium is null, "chromium is not installed (apt-get install chromium): the report's rendering cannot be checked");

        using var folder = new TestFolder();
        string report = folder.Combine("report.html");
        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync("bench", "dm", "--spawn", "--pairs", "2", "--rate", "2000", "--messages", "3000", "--report", report);
        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        string url = new Uri(report).AbsoluteUri;

        // The DOM as Chromium built it from the file: the plots are there and their series have points.
        (int domExit, string dom, string domErrors) = await RunChromiumAsync(chromium!, folder.Combine("profile-dom"), "--dump-dom", url);
        Assert.True(domExit == 0, $"chromium exited with {domExit}\n{domErrors}");
        foreach (string id in new[] { "latency-plot", "throughput-plot" })
        {
            string svg = SvgElement(dom, id);
            string[] series = SeriesPoints(svg);
            Assert.True(series.Length >= 1, $"svg#{id} has no polyline.series:\n{svg}");
            Assert.All(series, points =>
            {
                int count = points.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
                Assert.True(count >= 2, $"svg#{id}: a series has {count} point(s)");
            });
            Assert.Contains("<text", svg, StringComparison.Ordinal);
        }

        // And the pixels: a page that rendered its tables and two plots is far from a blank (one-colour) PNG, which
        // compresses to a few hundred bytes at this size.
        string screenshot = folder.Combine("report.png");
        (int shotExit, _, string shotErrors) = await RunChromiumAsync(chromium!, folder.Combine("profile-shot"), "--window-size=1000,2400", "--screenshot=" + screenshot, url);
        Assert.True(shotExit == 0, $"chromium exited with {shotExit}\n{shotErrors}");
        byte[] png = await File.ReadAllBytesAsync(screenshot);
        Assert.Equal(PngSignature, png.Take(PngSignature.Length).ToArray());
        Assert.True(png.Length > 30 * 1024, $"the screenshot is only {png.Length} bytes");
    }

    /// <summary>Chromium on the PATH under its Debian name (or the names other distributions use), or null.</summary>
    private static string? FindChromium()
    {
        string[] folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in new[] { "chromium", "chromium-browser" })
        {
            foreach (string candidate in folders)
            {
                string path = Path.Combine(candidate, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    /// <summary>Runs headless Chromium once with a fresh profile; killed (with its helpers) if it outlives the timeout.</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunChromiumAsync(string chromium, string profile, params string[] arguments)
    {
        var info = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // --no-sandbox: the tests may run as root (containers, CI), where Chromium refuses its sandbox.
        foreach (string argument in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--user-data-dir=" + profile })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(BrowserTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout.WaitAsync(BrowserTimeout), await stderr.WaitAsync(BrowserTimeout));
    }

    private static string SvgElement(string dom, string id)
    {
        Match match = Regex.Match(dom, "<svg[^>]*\\bid=\"" + Regex.Escape(id) + "\"[\\s\\S]*?</svg>");
        Assert.True(match.Success, $"the rendered DOM has no svg#{id}:\n{dom[..Math.Min(dom.Length, 2000)]}");
        return match.Value;
    }

    /// <summary>The points attribute of every polyline whose class list holds "series".</summary>
    private static string[] SeriesPoints(string svg) =>
        PolylineTag().Matches(svg)
            .Select(tag => tag.Value)
            .Where(tag => ClassAttribute().Match(tag) is { Success: true } cls && cls.Groups[1].Value.Split(' ').Contains("series"))
            .Select(tag => PointsAttribute().Match(tag) is { Success: true } points ? points.Groups[1].Value : string.Empty)
            .ToArray();

    [GeneratedRegex("<polyline\\b[^>]*>")]
    private static partial Regex PolylineTag();

    [GeneratedRegex("\\bclass=\"([^\"]*)\"")]
    private static partial Regex ClassAttribute();

    [GeneratedRegex("\\bpoints=\"([^\"]*)\"")]
    private static partial Regex PointsAttribute();
}
