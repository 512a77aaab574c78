using FastChat.Cli.Bench;
using Spectre.Console;

namespace FastChat.Cli.Tests.Bench;

/// <summary>The live progress display, drawn on a console that claims to be an interactive terminal.</summary>
public sealed class BenchLiveViewTests
{
    [Fact]
    public async Task RunAsync_InteractiveConsole_DrawsProgressAndReturnsTheResult()
    {
        var output = new StringWriter();
        IAnsiConsole console = Console(output, interactive: true);
        var settings = new BenchSettings(BenchScenario.Dm, Pairs: 1, Size: 64, Window: 16, Rate: 2000, Messages: 1500, Duration: null, Servers: 1, BalancerHost: null, BalancerPort: 0);
        await using BenchCluster cluster = await BenchCluster.SpawnAsync(1, BenchRunner.MaxFrameSizeFor(settings.Size), null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var runner = new BenchRunner(settings, cluster);

        BenchResult result = await BenchLiveView.RunAsync(console, runner, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Clean, $"{result.Lost} lost, {result.Failed} failed");
        Assert.Equal(1500, result.Delivered);
        string drawn = output.ToString();
        Assert.Contains("delivered/s", drawn, StringComparison.Ordinal);
        Assert.Contains("sending", drawn, StringComparison.Ordinal);

        // Redrawn in place: the cursor moves up over the previous frame.
        Assert.Contains("\u001b[", drawn, StringComparison.Ordinal);
        Assert.NotNull(runner.Current);
        Assert.Equal(1500, runner.Current!.Progress.Delivered);
    }

    [Fact]
    public void IsWanted_TurnedOffOrNotInteractive_IsFalse()
    {
        Assert.False(BenchLiveView.IsWanted(Console(new StringWriter(), interactive: true), turnedOff: true));
        Assert.False(BenchLiveView.IsWanted(Console(new StringWriter(), interactive: false), turnedOff: false));
    }

    private static IAnsiConsole Console(TextWriter output, bool interactive) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.Yes,
        ColorSystem = ColorSystemSupport.NoColors,
        Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        Out = new AnsiConsoleOutput(output),
    });
}
