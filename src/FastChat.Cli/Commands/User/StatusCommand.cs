using System.CommandLine;
using System.Globalization;
using FastChat.Protocol.Messages;
using Spectre.Console;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// <c>fastchat status [--balancer HOST:PORT]</c>: the chat servers as the balancer sees them — endpoint, whether their
/// heartbeats are current, connections, CPU and memory at the last report, and how old that report is. It asks with a
/// <c>ClusterStatusRequest</c> on a plain connection: no account needed.
/// </summary>
internal static class StatusCommand
{
    private const int RedirectedWidth = 240;

    public static Command Create()
    {
        Option<(string Host, int Port)?> balancer = UserCommandOptions.CreateBalancer();
        balancer.Description = $"The balancer to ask, as HOST:PORT (default {UserCommandOptions.DefaultBalancerHost}:{UserCommandOptions.DefaultBalancerPort}).";
        Option<bool> json = UserCommandOptions.CreateJson();
        var command = new Command(
            "status",
            "Show the cluster as the balancer sees it: each chat server's endpoint, liveness, connections, CPU, memory and the age of its last load report.")
        {
            balancer,
            json,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            (string host, int port) = parse.GetValue(balancer) ?? (UserCommandOptions.DefaultBalancerHost, UserCommandOptions.DefaultBalancerPort);
            var output = new Output(parse.GetValue(json));
            try
            {
                IReadOnlyList<ServerStatus> servers = await QueryAsync(host, port, cancellationToken).ConfigureAwait(false);
                Print(output, servers, DateTime.UtcNow);
                return ExitCodes.Success;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                output.Error("interrupted.");
                return ExitCodes.Failure;
            }
            catch (ClusterStatusException ex)
            {
                output.Error(ex.Message);
                return ExitCodes.Failure;
            }
        });

        return command;
    }

    private static async Task<IReadOnlyList<ServerStatus>> QueryAsync(string host, int port, CancellationToken cancellationToken)
    {
        await using ClusterStatusQuery query = await ClusterStatusQuery.ConnectAsync(host, port, "fastchat-status", cancellationToken).ConfigureAwait(false);
        return await query.QueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Print(Output output, IReadOnlyList<ServerStatus> servers, DateTime now)
    {
        if (output.IsJson)
        {
            foreach (ServerStatus server in servers)
            {
                double age = Math.Max(0, (now - server.LastReportAt).TotalSeconds);
                output.Write(
                    "server",
                    json =>
                    {
                        json.WriteString("id", server.ServerId);
                        json.WriteString("endpoint", Endpoint(server));
                        json.WriteBoolean("live", server.Live);
                        json.WriteNumber("connections", server.Connections);
                        json.WriteNumber("cpu", Math.Round(server.Cpu * 100, 1));
                        json.WriteNumber("memoryBytes", server.MemoryBytes);
                        json.WriteString("lastReport", Output.Time(server.LastReportAt));
                        json.WriteNumber("lastReportAgeSeconds", Math.Round(age, 1));
                    },
                    string.Empty);
            }

            return;
        }

        if (servers.Count == 0)
        {
            output.Text("the balancer knows no chat servers");
            return;
        }

        var table = new Table()
            .AddColumn("server")
            .AddColumn("endpoint")
            .AddColumn("live")
            .AddColumn(new TableColumn("connections").RightAligned())
            .AddColumn(new TableColumn("cpu %").RightAligned())
            .AddColumn(new TableColumn("memory MiB").RightAligned())
            .AddColumn(new TableColumn("last report").RightAligned());
        int live = 0;
        foreach (ServerStatus server in servers)
        {
            live += server.Live ? 1 : 0;
            double age = Math.Max(0, (now - server.LastReportAt).TotalSeconds);
            table.AddRow(
                Cell(server.ServerId),
                Cell(Endpoint(server)),
                Cell(server.Live ? "yes" : "no"),
                Cell(Output.Number(server.Connections)),
                Cell((server.Cpu * 100).ToString("0.0", CultureInfo.InvariantCulture)),
                Cell((server.MemoryBytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture)),
                Cell(age.ToString("0.0", CultureInfo.InvariantCulture) + " s ago"));
        }

        // Spectre writes to stdout through the same writer as everything else, without colours when redirected.
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
        {
            // A pipe or a file has no width; Spectre would assume 80 columns and wrap endpoints mid-word, which no
            // script (or grep) wants. The table only takes the width its cells need.
            console.Profile.Width = RedirectedWidth;
        }

        console.Write(table);
        output.Text($"{Output.Number(servers.Count)} servers, {Output.Number(live)} live");
    }

    // Text, not markup: a server id is data and may hold '[' or ']'.
    private static Text Cell(string text) => new(text);

    private static string Endpoint(ServerStatus server) => UserCommandOptions.Describe((server.Host, server.Port));
}
