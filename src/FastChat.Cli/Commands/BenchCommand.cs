using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using FastChat.Cli.Bench;
using FastChat.Cli.Commands.User;
using Spectre.Console;

namespace FastChat.Cli.Commands;

/// <summary>
/// <c>fastchat bench dm|pingpong|group (--spawn [--servers N] | --balancer HOST:PORT)</c>: an end-to-end load run over
/// the client library (pairs of users, or one group of <c>--group-size</c> members of which <c>--senders</c> send), closed loop (<c>--window</c>) or open loop (<c>--rate</c>), bounded by <c>--messages</c> and/or
/// <c>--duration</c>, reported as a table and optionally as JSON. Loopback only: it is a measuring tool, not a load
/// generator to point at someone else's service. Exits 0 when every message arrived exactly once (for group: at every
/// other member), 1 otherwise.
/// </summary>
internal static class BenchCommand
{
    private const int MaxPairs = 1000;
    private const int MaxWindow = 100_000;
    private const int MaxServers = 16;
    private const double MaxRate = 10_000_000;
    private const double MaxDurationSeconds = 86_400;

    public static Command Create()
    {
        var scenario = new Argument<string>("scenario")
        {
            Description = "dm: each sender sends direct messages to its receiver (one-way latency). pingpong: each receiver echoes every message back (round-trip latency; the counts include the echoes). group: --senders members of one group of --group-size send group messages, every other member receives each (one-way latency per delivery).",
        };
        scenario.AcceptOnlyFromAmong("dm", "pingpong", "group");

        var spawn = new Option<bool>("--spawn") { Description = "Start a cluster in this process (SQLite in a temporary folder, deleted afterwards; everything on 127.0.0.1)." };
        var servers = new Option<int>("--servers")
        {
            Description = $"With --spawn: how many chat servers (1-{MaxServers}); users are assigned round-robin, so with 2 or more a pair's messages cross servers.",
            HelpName = "N",
            DefaultValueFactory = _ => 2,
        };
        Range(servers, 1, MaxServers);
        var balancer = new Option<(string Host, int Port)?>("--balancer")
        {
            Description = "The balancer of a running cluster, as HOST:PORT on this machine (127.0.0.1, ::1 or localhost).",
            HelpName = "HOST:PORT",
            CustomParser = EndPointArgument.Parse,
        };
        balancer.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<(string Host, int Port)?>() is { } endPoint && !IsLoopback(endPoint.Host))
            {
                result.AddError($"--balancer must be a loopback address (127.0.0.1, ::1 or localhost), not '{endPoint.Host}': fastchat bench only measures a cluster on this machine.");
            }
        });

        var pairs = new Option<int>("--pairs") { Description = $"dm and pingpong: how many sender/receiver pairs, each user a client of its own (1-{MaxPairs}).", HelpName = "P", DefaultValueFactory = _ => 4 };
        Range(pairs, 1, MaxPairs);
        var groupSize = new Option<int?>("--group-size")
        {
            Description = $"group: how many members the group has, each a client of its own, spread over the servers by the balancer (2-{BenchSettings.MaxGroupSize}).",
            HelpName = "G",
        };
        var senders = new Option<int?>("--senders") { Description = "group: how many of the members send (1 to the group size; default 1).", HelpName = "S" };
        var size = new Option<int>("--size") { Description = $"The body size in bytes, random and opaque ({BenchSettings.HeaderSize}-{BenchSettings.MaxSize}; the first 16 carry the send time and a sequence number).", HelpName = "BYTES", DefaultValueFactory = _ => 256 };
        Range(size, BenchSettings.HeaderSize, BenchSettings.MaxSize);
        var window = new Option<int>("--window") { Description = $"Closed loop: how many messages per pair (or group sender) may be in flight, sent but not yet received by every recipient (1-{MaxWindow}).", HelpName = "N", DefaultValueFactory = _ => 64 };
        Range(window, 1, MaxWindow);
        var rate = new Option<double?>("--rate")
        {
            Description = "Open loop instead: send this many messages per second over all pairs (or group senders), on a fixed schedule; latency counts from each message's scheduled time, so a slow cluster cannot hide its delays.",
            HelpName = "MSGS_PER_S",
        };
        rate.Validators.Add(result =>
        {
            double? value = result.GetValueOrDefault<double?>();
            if (value is not { } r || !double.IsFinite(r) || r <= 0 || r > MaxRate)
            {
                result.AddError($"--rate must be a number of messages per second above 0 and at most {MaxRate:0}, not {Text(value)}.");
            }
        });
        var messages = new Option<long?>("--messages")
        {
            Description = $"How many messages to send in all (default {BenchSettings.DefaultMessages:0} unless --duration is given).",
            HelpName = "N",
        };
        messages.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long?>() is not ( >= 1 and <= 1_000_000_000))
            {
                result.AddError($"--messages must be between 1 and 1000000000, not {result.GetValueOrDefault<long?>()}.");
            }
        });
        var duration = new Option<double?>("--duration") { Description = "Stop sending after this many seconds (whichever of --messages and --duration comes first).", HelpName = "S" };
        duration.Validators.Add(result =>
        {
            double? value = result.GetValueOrDefault<double?>();
            if (value is not { } d || !double.IsFinite(d) || d <= 0 || d > MaxDurationSeconds)
            {
                result.AddError($"--duration must be a number of seconds above 0 and at most {MaxDurationSeconds:0}, not {Text(value)}.");
            }
        });
        var json = new Option<string>("--json") { Description = "Also write every number to this file as JSON (latencies in microseconds).", HelpName = "FILE" };

        var command = new Command(
            "bench",
            "Measure the cluster end to end: throughput and latency percentiles of direct messages between pairs of users (or of group messages to every member of a group), and a check that every message arrived exactly once. Exits 0 when none was lost or duplicated, 1 otherwise.")
        {
            scenario, spawn, servers, balancer, pairs, groupSize, senders, size, window, rate, messages, duration, json,
        };
        command.Validators.Add(result =>
        {
            bool spawning = result.GetResult(spawn) is { Implicit: false } && result.GetValue(spawn);
            bool targeting = result.GetResult(balancer) is { Implicit: false };
            if (spawning == targeting)
            {
                result.AddError("Give exactly one of --spawn (start a cluster here) and --balancer HOST:PORT (use a running one).");
            }
            else if (!spawning && result.GetResult(servers) is { Implicit: false })
            {
                result.AddError("--servers goes with --spawn: a running cluster already has its servers.");
            }
            else if (result.GetResult(window) is { Implicit: false } && result.GetResult(rate) is { Implicit: false })
            {
                result.AddError("Give --window (closed loop) or --rate (open loop), not both.");
            }
            else if (result.GetValue(scenario) == "group")
            {
                ValidateGroup(result, pairs, groupSize, senders);
            }
            else if (result.GetResult(groupSize) is { Implicit: false } || result.GetResult(senders) is { Implicit: false })
            {
                result.AddError("--group-size and --senders go with the group scenario: dm and pingpong use --pairs.");
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            double? seconds = parse.GetValue(duration);
            (string Host, int Port)? target = parse.GetValue(balancer);
            BenchScenario kind = parse.GetValue(scenario) switch
            {
                "dm" => BenchScenario.Dm,
                "pingpong" => BenchScenario.PingPong,
                _ => BenchScenario.Group,
            };
            bool isGroup = kind == BenchScenario.Group;
            var settings = new BenchSettings(
                kind,
                parse.GetValue(pairs),
                parse.GetValue(size),
                parse.GetValue(window),
                parse.GetValue(rate),
                parse.GetValue(messages) ?? (seconds is null ? BenchSettings.DefaultMessages : null),
                seconds is { } s ? TimeSpan.FromSeconds(s) : null,
                parse.GetValue(servers),
                target?.Host,
                target?.Port ?? 0,
                isGroup ? parse.GetValue(groupSize) ?? 0 : 0,
                isGroup ? parse.GetValue(senders) ?? 1 : 0);
            return await RunAsync(settings, parse.GetValue(json), cancellationToken).ConfigureAwait(false);
        });

        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, string? jsonPath, CancellationToken cancellationToken)
    {
        string where = settings.BalancerHost is null ? "the in-process cluster" : $"{settings.BalancerHost}:{settings.BalancerPort}";
        BenchResult result;
        try
        {
            await using BenchCluster cluster = settings.BalancerHost is null
                ? await BenchCluster.SpawnAsync(
                    settings.Servers,
                    BenchRunner.MaxFrameSizeFor(settings.Size),
                    settings.Scenario == BenchScenario.Group ? settings.GroupSize + 1 : null,
                    cancellationToken).ConfigureAwait(false)
                : BenchCluster.Existing(settings.BalancerHost, settings.BalancerPort);
            result = await new BenchRunner(settings, cluster).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("fastchat: bench interrupted before it started measuring.").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ExitCodes.TryDescribe(ex, where, out int exitCode, out string message))
        {
            await Console.Error.WriteLineAsync("fastchat: " + message).ConfigureAwait(false);
            return exitCode;
        }

        // Plain text when the output is a file or a pipe: the table is often kept with the results.
        bool redirected = Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        if (redirected)
        {
            // Spectre assumes 80 columns without a terminal, which would wrap the heading line.
            console.Profile.Width = 160;
        }

        result.WriteTable(console);
        if (jsonPath is not null)
        {
            try
            {
                await result.WriteJsonAsync(jsonPath, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"fastchat: cannot write {jsonPath}: {ExitCodes.Sentence(ex.Message)}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        }

        if (result.Clean)
        {
            return ExitCodes.Success;
        }

        await Console.Error.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"fastchat: bench run not clean: {result.Lost} lost, {result.Duplicates} duplicated, {result.Failed} failed, {result.Unexpected} unexpected{(result.Stalled ? ", stalled" : string.Empty)}{(result.Interrupted ? ", interrupted" : string.Empty)}.")).ConfigureAwait(false);
        return ExitCodes.Failure;
    }

    /// <summary>The group scenario's own rules, each broken one reported as one sentence.</summary>
    private static void ValidateGroup(CommandResult result, Option<int> pairs, Option<int?> groupSize, Option<int?> senders)
    {
        if (result.GetResult(pairs) is { Implicit: false })
        {
            result.AddError("--pairs goes with dm and pingpong: the group scenario uses --group-size and --senders.");
            return;
        }

        if (result.GetValue(groupSize) is not { } members)
        {
            result.AddError($"The group scenario needs --group-size G, the number of members (2-{BenchSettings.MaxGroupSize}).");
            return;
        }

        if (members is < 2 or > BenchSettings.MaxGroupSize)
        {
            result.AddError($"--group-size must be between 2 and {BenchSettings.MaxGroupSize}, not {members}.");
            return;
        }

        int sending = result.GetValue(senders) ?? 1;
        if (sending < 1 || sending > members)
        {
            result.AddError($"--senders must be between 1 and the group size ({members}), not {sending}.");
        }
    }

    private static void Range(Option<int> option, int min, int max) => option.Validators.Add(result =>
    {
        int value = result.GetValueOrDefault<int>();
        if (value < min || value > max)
        {
            result.AddError($"{result.Option.Name} must be between {min} and {max}, not {value}.");
        }
    });

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out IPAddress? address) && IPAddress.IsLoopback(address));

    private static string Text(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "nothing";
}
