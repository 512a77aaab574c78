using Spectre.Console;

namespace FastChat.Cli.Bench;

/// <summary>The console the bench commands print their final tables to.</summary>
internal static class BenchConsole
{
    /// <summary>
    /// Standard output, with colours and terminal width when it is a terminal; plain text 160 columns wide when it is a
    /// file or a pipe (the table is often kept with the results, and Spectre would otherwise assume 80 columns and wrap
    /// the heading line).
    /// </summary>
    public static IAnsiConsole ForResults()
    {
        bool redirected = Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        if (redirected)
        {
            console.Profile.Width = 160;
        }

        return console;
    }
}
