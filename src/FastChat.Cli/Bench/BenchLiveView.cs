using System.Globalization;
using Spectre.Console;

namespace FastChat.Cli.Bench;

/// <summary>The run's counts at one poll, as the live display shows them.</summary>
/// <param name="Elapsed">Time since sending started.</param>
/// <param name="Progress">The counts.</param>
/// <param name="Draining">Whether sending has ended and the run waits for the last deliveries.</param>
internal sealed record BenchLiveStatus(TimeSpan Elapsed, BenchProgress Progress, bool Draining);

/// <summary>
/// The live display of a running bench on an interactive terminal: a small table (phase, elapsed, sent, delivered,
/// current rates) redrawn <see cref="RefreshesPerSecond"/> times a second from <see cref="BenchRunner.Current"/>, and
/// cleared when the run ends so that the final table stands alone.
/// </summary>
internal static class BenchLiveView
{
    /// <summary>How often the display is redrawn: often enough to look live, rarely enough to cost nothing.</summary>
    public const int RefreshesPerSecond = 4;

    private static readonly TimeSpan s_refreshInterval = TimeSpan.FromSeconds(1.0 / RefreshesPerSecond);

    /// <summary>Whether a live display belongs on this console: an interactive terminal, not a file or a pipe, and not turned off.</summary>
    /// <param name="console">The console the display would draw on.</param>
    /// <param name="turnedOff">Whether <c>--no-progress</c> was given.</param>
    public static bool IsWanted(IAnsiConsole console, bool turnedOff)
    {
        ArgumentNullException.ThrowIfNull(console);
        return !turnedOff && !Console.IsOutputRedirected && console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;
    }

    /// <summary>Runs <paramref name="runner"/> under a live display on <paramref name="console"/> and returns its result.</summary>
    /// <param name="console">The interactive console.</param>
    /// <param name="runner">The runner to run and watch.</param>
    /// <param name="cancellationToken">Stops the run early.</param>
    /// <exception cref="FastChat.Client.ChatException">As <see cref="BenchRunner.RunAsync"/>.</exception>
    /// <exception cref="FastChat.Client.ChatConnectionException">As <see cref="BenchRunner.RunAsync"/>.</exception>
    public static async Task<BenchResult> RunAsync(IAnsiConsole console, BenchRunner runner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(runner);
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("phase")
            .AddColumn(new TableColumn("elapsed").RightAligned())
            .AddColumn(new TableColumn("sent").RightAligned())
            .AddColumn(new TableColumn("delivered").RightAligned())
            .AddColumn(new TableColumn("sent/s").RightAligned())
            .AddColumn(new TableColumn("delivered/s").RightAligned());
        table.AddRow("signing up", "-", "-", "-", "-", "-");
        return await console.Live(table)
            .AutoClear(true)
            .Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(async context =>
            {
                Task<BenchResult> run = runner.RunAsync(cancellationToken);
                BenchLiveStatus? previous = null;
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(s_refreshInterval, CancellationToken.None)).ConfigureAwait(false);
                    BenchLiveStatus? now = runner.Current;
                    if (now is not null && !ReferenceEquals(now, previous))
                    {
                        Update(table, now, previous);
                        previous = now;
                        context.Refresh();
                    }
                }

                return await run.ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    /// <summary>Rewrites the table's one row; the rates are over the time since the previous redraw.</summary>
    private static void Update(Table table, BenchLiveStatus now, BenchLiveStatus? previous)
    {
        double sentRate = 0, deliveredRate = 0;
        if (previous is not null && now.Elapsed > previous.Elapsed)
        {
            double seconds = (now.Elapsed - previous.Elapsed).TotalSeconds;
            sentRate = (now.Progress.Sent - previous.Progress.Sent) / seconds;
            deliveredRate = (now.Progress.Delivered - previous.Progress.Delivered) / seconds;
        }

        table.UpdateCell(0, 0, now.Draining ? "draining" : "sending");
        table.UpdateCell(0, 1, now.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s");
        table.UpdateCell(0, 2, Count(now.Progress.Sent));
        table.UpdateCell(0, 3, Count(now.Progress.Delivered) + "/" + Count(now.Progress.Expected));
        table.UpdateCell(0, 4, sentRate.ToString("N0", CultureInfo.InvariantCulture));
        table.UpdateCell(0, 5, deliveredRate.ToString("N0", CultureInfo.InvariantCulture));
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
