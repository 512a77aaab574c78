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
/// <c>--duration</c>, shown live on a terminal, reported as a table (with the servers' CPU and peak memory) and optionally as
/// JSON and as a self-contained HTML page with plots (<c>--report</c>). Loopback only: it is a measuring tool, not a load
/// generator to point at someone else's service. Exits 0 when every message arrived exactly once (for group: at every
/// other member), 1 otherwise. <c>--e2e</c> encrypts every body as real clients do. <c>fastchat bench connections
/// --connections N</c> instead holds N signed-in sessions and reports the servers' memory per connection
/// (<see cref="BenchConnections"/>).
/// </summary>
internal static class BenchCommand
{
    private const int MaxPairs = 1000;
    private const int MaxWindow = 100_000;
    private const int MaxServers = 16;
    private const double MaxRate = 10_000_000;
    private const double MaxDurationSeconds = 86_400;
    private const double MaxTrickle = 1_000_000;
    private const double DefaultHoldSeconds = 10;
    private const double DefaultTrickle = 10;

    public static Command Create()
    {
        var scenario = new Argument<string>("scenario")
        {
            Description = "dm: each sender sends direct messages to its receiver (one-way latency). pingpong: each receiver echoes every message back (round-trip latency; the counts include the echoes). group: --senders members of one group of --group-size send group messages, every other member receives each (one-way latency per delivery). connections: open --connections signed-in sessions, hold them for --hold seconds with a --trickle of direct messages, and report the servers' memory per connection.",
        };
        scenario.AcceptOnlyFromAmong("dm", "pingpong", "group", "connections");

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
        var window = new Option<int>("--window") { Description = $"Closed loop: how many messages per pair (or group sender) may be in flight: sent, and not yet both received by every recipient and acknowledged by the server (1-{MaxWindow}).", HelpName = "N", DefaultValueFactory = _ => 64 };
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
        var connections = new Option<int?>("--connections")
        {
            Description = $"connections: how many concurrent sessions to open and hold, each a signed-in account of its own, bound to rotating source addresses 127.0.0.1, 127.0.0.2, ... (1-{BenchConnections.MaxConnections}; limited in practice by the open-file limit).",
            HelpName = "N",
        };
        var hold = new Option<double?>("--hold") { Description = "connections: how many seconds to hold the sessions once connected (default 10).", HelpName = "SECONDS" };
        hold.Validators.Add(result =>
        {
            double? value = result.GetValueOrDefault<double?>();
            if (value is not { } h || !double.IsFinite(h) || h < 0 || h > MaxDurationSeconds)
            {
                result.AddError($"--hold must be a number of seconds from 0 to {MaxDurationSeconds:0}, not {Text(value)}.");
            }
        });
        var trickle = new Option<double?>("--trickle")
        {
            Description = "connections: direct messages per second between random held sessions while holding (default 10; 0 for none); latency counts from each message's scheduled time.",
            HelpName = "MSGS_PER_S",
        };
        trickle.Validators.Add(result =>
        {
            double? value = result.GetValueOrDefault<double?>();
            if (value is not { } t || !double.IsFinite(t) || t < 0 || t > MaxTrickle)
            {
                result.AddError($"--trickle must be a number of messages per second from 0 to {MaxTrickle:0}, not {Text(value)}.");
            }
        });
        var endToEnd = new Option<bool>("--e2e")
        {
            Description = "dm, pingpong and group: encrypt every body end to end as real clients do (per-message ECDH, HKDF, AES-GCM and an ECDSA signature; group: a group key wrapped for each member), and verify and decrypt on receipt, so the cost shows. --size is then the plaintext size. Without it bodies are opaque random bytes.",
        };
        var json = new Option<string>("--json") { Description = "Also write every number to this file as JSON (latencies in microseconds).", HelpName = "FILE" };
        var report = new Option<string>("--report")
        {
            Description = "Also write one self-contained HTML page to this file: the settings, the summary, a latency-percentile plot and a throughput-over-time plot (inline SVG; no scripts, nothing fetched).",
            HelpName = "FILE.html",
        };
        OutputFile(report);
        var noProgress = new Option<bool>("--no-progress") { Description = "Do not show the live progress display (it is shown only on an interactive terminal anyway)." };

        var command = new Command(
            "bench",
            "Measure the cluster end to end: throughput and latency percentiles of direct messages between pairs of users (or of group messages to every member of a group), and a check that every message arrived exactly once. Exits 0 when none was lost or duplicated, 1 otherwise.")
        {
            scenario, spawn, servers, balancer, pairs, groupSize, senders, size, window, rate, messages, duration, json,
        };
        command.Options.Add(report);
        command.Options.Add(noProgress);
        command.Options.Add(connections);
        command.Options.Add(hold);
        command.Options.Add(trickle);
        command.Options.Add(endToEnd);
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
            else if (result.GetValue(scenario) == "connections")
            {
                ValidateConnections(result, connections, endToEnd, [pairs, groupSize, senders, window, rate, messages, duration]);
            }
            else if (result.GetResult(connections) is { Implicit: false } || result.GetResult(hold) is { Implicit: false } || result.GetResult(trickle) is { Implicit: false })
            {
                result.AddError("--connections, --hold and --trickle go with the connections scenario.");
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
                "connections" => BenchScenario.Connections,
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
                isGroup ? parse.GetValue(senders) ?? 1 : 0,
                Connections: kind == BenchScenario.Connections ? parse.GetValue(connections) ?? 0 : 0,
                Hold: TimeSpan.FromSeconds(parse.GetValue(hold) ?? DefaultHoldSeconds),
                Trickle: parse.GetValue(trickle) ?? DefaultTrickle,
                EndToEnd: parse.GetValue(endToEnd));
            if (kind == BenchScenario.Connections)
            {
                return await BenchConnectionsCommand.ExecuteAsync(settings, parse.GetValue(json), cancellationToken).ConfigureAwait(false);
            }

            return await RunAsync(settings, parse.GetValue(json), parse.GetValue(report), parse.GetValue(noProgress), cancellationToken).ConfigureAwait(false);
        });

        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, string? jsonPath, string? reportPath, bool noProgress, CancellationToken cancellationToken)
    {
        string where = settings.BalancerHost is null ? "the in-process cluster" : $"{settings.BalancerHost}:{settings.BalancerPort}";
        BenchResult result;
        try
        {
            await using BenchCluster cluster = settings.BalancerHost is null
                ? await BenchCluster.SpawnAsync(
                    settings.Servers,
                    BenchRunner.MaxFrameSizeFor(settings.BodySize),
                    settings.Scenario == BenchScenario.Group ? settings.GroupSize + 1 : null,
                    cancellationToken).ConfigureAwait(false)
                : BenchCluster.Existing(settings.BalancerHost, settings.BalancerPort);
            var runner = new BenchRunner(settings, cluster);
            result = BenchLiveView.IsWanted(AnsiConsole.Console, noProgress)
                ? await BenchLiveView.RunAsync(AnsiConsole.Console, runner, cancellationToken).ConfigureAwait(false)
                : await runner.RunAsync(cancellationToken).ConfigureAwait(false);
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

        IAnsiConsole console = BenchConsole.ForResults();

        result.WriteTable(console);
        console.WriteLine("end-to-end encrypted: " + (settings.EndToEnd ? "yes (sealed per message, verified and opened by every receiver)" : "no (opaque random bodies)"));
        if (jsonPath is not null)
        {
            try
            {
                await result.WriteJsonAsync(jsonPath, CancellationToken.None).ConfigureAwait(false);
                await BenchE2e.MarkJsonAsync(jsonPath, settings.EndToEnd, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"fastchat: cannot write {jsonPath}: {ExitCodes.Sentence(ex.Message)}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        }

        if (reportPath is not null)
        {
            try
            {
                await BenchReport.WriteAsync(result, reportPath, DateTimeOffset.UtcNow, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"fastchat: cannot write {reportPath}: {ExitCodes.Sentence(ex.Message)}").ConfigureAwait(false);
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

    /// <summary>The connections scenario's own rules, each broken one reported as one sentence.</summary>
    private static void ValidateConnections(CommandResult result, Option<int?> connections, Option<bool> endToEnd, Option[] notApplicable)
    {
        foreach (Option option in notApplicable)
        {
            if (result.GetResult(option) is { Implicit: false })
            {
                result.AddError($"{option.Name} does not go with the connections scenario: it uses --connections, --hold, --trickle and --size.");
                return;
            }
        }

        if (result.GetResult(endToEnd) is { Implicit: false })
        {
            result.AddError("--e2e goes with dm, pingpong and group: the connections scenario measures held sessions, not encryption.");
            return;
        }

        if (result.GetValue(connections) is not { } count)
        {
            result.AddError($"The connections scenario needs --connections N, the number of sessions to hold (1-{BenchConnections.MaxConnections}).");
            return;
        }

        if (count is < 1 or > BenchConnections.MaxConnections)
        {
            result.AddError($"--connections must be between 1 and {BenchConnections.MaxConnections}, not {count}.");
        }
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

    /// <summary>An output file's folder must exist: a typo is then a usage error before the run, not a lost run after it.</summary>
    private static void OutputFile(Option<string> option) => option.Validators.Add(result =>
    {
        string? path = result.GetValueOrDefault<string?>();
        if (string.IsNullOrWhiteSpace(path))
        {
            result.AddError($"{result.Option.Name} needs a file name.");
            return;
        }

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
        {
            result.AddError($"{result.Option.Name}: the folder '{folder}' does not exist.");
        }
        else if (Directory.Exists(path))
        {
            result.AddError($"{result.Option.Name} '{path}' is a folder; give a file name.");
        }
    });

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
