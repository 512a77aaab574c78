using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Threading.Channels;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;
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

    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(10);

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
            string target = UserCommandOptions.Describe((host, port));
            try
            {
                IReadOnlyList<ServerStatus> servers = await QueryAsync(host, port, target, cancellationToken).ConfigureAwait(false);
                Print(output, servers, DateTime.UtcNow);
                return ExitCodes.Success;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                output.Error("interrupted.");
                return ExitCodes.Failure;
            }
            catch (StatusException ex)
            {
                output.Error(ex.Message);
                return ExitCodes.Failure;
            }
        });

        return command;
    }

    private static async Task<IReadOnlyList<ServerStatus>> QueryAsync(string host, int port, string target, CancellationToken cancellationToken)
    {
        FastChatConnection connection;
        try
        {
            connection = await FastChatConnector.ConnectAsync(host, port, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FastChatException or System.Net.Sockets.SocketException)
        {
            throw new StatusException($"cannot reach the balancer at {target}: {ex.GetBaseException().Message.TrimEnd('.')}.");
        }

        await using var framed = new FramedConnection(connection);
        var replies = new ReplyHandler();
        Task reading = replies.RunAsync(framed, cancellationToken);
        try
        {
            Send(framed, 1, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Client, Features = [], Agent = "fastchat-status" });
            Send(framed, 2, default(ClusterStatusRequest));
            while (true)
            {
                Reply reply = await replies.NextAsync(cancellationToken).ConfigureAwait(false);
                switch (reply.Opcode)
                {
                    case Opcode.ClusterStatus:
                        return reply.Servers;
                    case Opcode.Error:
                        throw new StatusException($"the balancer at {target} refused the status request: {ExitCodes.Sentence(reply.ErrorMessage)}");
                    default:
                        // Its Hello, and anything else it may say first.
                        continue;
                }
            }
        }
        catch (TimeoutException)
        {
            throw new StatusException($"the balancer at {target} did not answer within {s_replyTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");
        }
        catch (ChannelClosedException)
        {
            throw new StatusException($"the balancer at {target} closed the connection ({framed.CloseReason}); is it a FastChat balancer?");
        }
        finally
        {
            await framed.CloseAsync().ConfigureAwait(false);
            await reading.WaitAsync(s_replyTimeout, CancellationToken.None).ConfigureAwait(false);
        }
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

    private static void Send<T>(FramedConnection connection, uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        connection.TryWriteMessage(requestId, in message);
        connection.TryFlush();
    }

    private readonly record struct Reply(Opcode Opcode, IReadOnlyList<ServerStatus> Servers, string ErrorMessage);

    /// <summary>A failure of the status query, already phrased as the sentence to print.</summary>
    private sealed class StatusException(string message) : Exception(message);

    // Decodes replies on the read loop; ServerStatus holds strings and numbers only, so nothing borrows the payload.
    private sealed class ReplyHandler : IFrameHandler
    {
        private readonly Channel<Reply> _replies = Channel.CreateUnbounded<Reply>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

        public async ValueTask<Reply> NextAsync(CancellationToken cancellationToken) =>
            await _replies.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(s_replyTimeout, cancellationToken).ConfigureAwait(false);

        public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
        {
            var reader = new MessagePackReader(payload);
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            Reply reply = header.Opcode switch
            {
                Opcode.ClusterStatus => new Reply(Opcode.ClusterStatus, MessageSerializer.ReadBody<ClusterStatus>(ref reader, header).Servers, string.Empty),
                Opcode.Error => new Reply(Opcode.Error, [], MessageSerializer.ReadBody<Error>(ref reader, header).Message),
                _ => new Reply(header.Opcode, [], string.Empty),
            };
            _replies.Writer.TryWrite(reply);
            return default;
        }

        /// <summary>Runs the read loop; once it ends, waiting for a reply fails at once instead of timing out.</summary>
        public async Task RunAsync(FramedConnection connection, CancellationToken cancellationToken)
        {
            try
            {
                await connection.RunAsync(this, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _replies.Writer.TryComplete();
            }
        }
    }
}
