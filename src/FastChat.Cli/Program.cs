using System.CommandLine;
using System.Runtime.InteropServices;
using FastChat.Cli.Commands;
using FastChat.Cli.Commands.User;

namespace FastChat.Cli;

/// <summary>The <c>fastchat</c> command.</summary>
public static class Program
{
    /// <summary>Exit code for a command line that does not parse or validate.</summary>
    public const int ExitBadUsage = 2;

    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("FastChat: an end-to-end-encrypted chat relay on a zero-copy MessagePack transport.")
        {
            ServeCommand.Create(),
            BalancerCommand.Create(),
            ServerCommand.Create(),
            PingCommand.Create(),
            SignupCommand.Create(),
            DmCommand.Create(),
            GroupCommand.Create(),
            InboxCommand.Create(),
            HistoryCommand.Create(),
            StatusCommand.Create(),
            Commands.Chat.ChatCommand.Create(),
            BenchCommand.Create(),
        };

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine would print usage and exit 1; FastChat keeps 1 for run-time failures and says
            // plainly what is wrong with the command line instead.
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync("fastchat: " + error.Message).ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Run 'fastchat --help' for usage.").ConfigureAwait(false);
            return ExitBadUsage;
        }

        // Ctrl-C (SIGINT), SIGTERM (systemd's stop) and SIGQUIT cancel the running command, which then stops
        // gracefully and returns its own exit code; System.CommandLine's own handling would exit mid-way.
        using var stopping = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);
        var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null };
        return await parse.InvokeAsync(configuration, stopping.Token).ConfigureAwait(false);
    }
}
