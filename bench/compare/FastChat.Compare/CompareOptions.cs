using System.Globalization;
using System.Net;
using FastChat.Compare.Targets;
using FastChat.Compare.Workloads;

namespace FastChat.Compare;

/// <summary>The command line of <c>fastchat-compare</c>, parsed and checked.</summary>
internal sealed class CompareOptions
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        usage: fastchat-compare --target fastchat|fastchat-sdk|nats|redis|signalr|raw --endpoint HOST:PORT
                                --workload dm|group|pingpong [options]
          --pairs P          dm, pingpong: sender/receiver pairs (default 16; pingpong 1)
          --group-size G     group: receivers (default 100)
          --senders S        group: senders (default 4)
          --size B           body bytes, at least 20 (default 64)
          --window W         messages in flight per pair or sender (default 64; group 16; pingpong always 1)
          --seconds T        measured window (default 3)
          --warmup T         sending before the window, not counted (default 1)
          --server-pid LIST  comma-separated pids whose CPU time is read from /proc (the server's)
          --clock-ticks N    /proc clock ticks per second (default 100, getconf CLK_TCK)
        fastchat-compare report RESULTS.jsonl   (markdown tables of an interleaved run)
        Prints one JSON line; exit code 0 when the run was healthy (nothing lost, duplicated or refused), 3 when not.
        """;

    /// <summary>The target's name.</summary>
    public required string Target { get; init; }

    /// <summary>The host of the endpoint.</summary>
    public required string Host { get; init; }

    /// <summary>The port of the endpoint.</summary>
    public required int Port { get; init; }

    /// <summary>The workload.</summary>
    public required WorkloadSettings Workload { get; init; }

    /// <summary>Server pids for CPU time.</summary>
    public required IReadOnlyList<int> ServerPids { get; init; }

    /// <summary>/proc clock ticks per second.</summary>
    public int ClockTicks { get; init; } = 100;

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <exception cref="ArgumentException">An unknown option, a missing value, or a value out of range (the message says which).</exception>
    public static CompareOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected --option value, got '{name}'.");
            }

            values[name[2..]] = args[++i];
        }

        string target = Take(values, "target") ?? throw new ArgumentException("--target is required.");
        if (target is not ("fastchat" or "fastchat-sdk" or "nats" or "redis" or "signalr" or "raw"))
        {
            throw new ArgumentException($"--target must be fastchat, fastchat-sdk, nats, redis, signalr or raw, not '{target}'.");
        }

        string endpoint = Take(values, "endpoint") ?? throw new ArgumentException("--endpoint HOST:PORT is required.");
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException($"--endpoint must be HOST:PORT, not '{endpoint}'.");
        }

        string workloadName = Take(values, "workload") ?? throw new ArgumentException("--workload is required.");
        WorkloadKind kind = workloadName switch
        {
            "dm" => WorkloadKind.Dm,
            "group" => WorkloadKind.Group,
            "pingpong" => WorkloadKind.PingPong,
            _ => throw new ArgumentException($"--workload must be dm, group or pingpong, not '{workloadName}'."),
        };

        int pairs = Int(values, "pairs", kind == WorkloadKind.PingPong ? 1 : 16, 1, 10_000);
        int groupSize = Int(values, "group-size", 100, 1, 100_000);
        int senders = Int(values, "senders", 4, 1, 1000);
        int size = Int(values, "size", 64, MessageBody.HeaderSize, 1024 * 1024);
        int window = Int(values, "window", kind == WorkloadKind.Group ? 16 : 64, 1, 100_000);
        double seconds = Double(values, "seconds", 3, 0.1, 3600);
        double warmup = Double(values, "warmup", 1, 0, 600);
        string? pidList = Take(values, "server-pid");
        int clockTicks = Int(values, "clock-ticks", 100, 1, 1_000_000);
        if (values.Count > 0)
        {
            throw new ArgumentException($"Unknown option --{values.Keys.First()}.");
        }

        var pids = new List<int>();
        if (!string.IsNullOrEmpty(pidList))
        {
            foreach (string pid in pidList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                pids.Add(int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
                    ? value
                    : throw new ArgumentException($"--server-pid takes comma-separated process ids, not '{pidList}'."));
            }
        }

        var settings = new WorkloadSettings(
            kind,
            kind == WorkloadKind.Group ? 0 : pairs,
            kind == WorkloadKind.Group ? groupSize : 0,
            kind == WorkloadKind.Group ? senders : 0,
            size,
            kind == WorkloadKind.PingPong ? 1 : window,
            TimeSpan.FromSeconds(warmup),
            TimeSpan.FromSeconds(seconds));
        return new CompareOptions
        {
            Target = target,
            Host = endpoint[..colon],
            Port = port,
            Workload = settings,
            ServerPids = pids,
            ClockTicks = clockTicks,
        };
    }

    /// <summary>Makes the target the options name.</summary>
    /// <exception cref="ArgumentException">The host is not an IP address (the socket targets take addresses).</exception>
    public ITarget CreateTarget()
    {
        if (Target == "fastchat")
        {
            return new FastChatWireTarget(Host, Port, Workload.Size);
        }

        if (Target == "fastchat-sdk")
        {
            return new FastChatTarget(Host, Port, Workload.Window, Workload.Size);
        }

        if (Target == "signalr")
        {
            return new SignalRTarget(new Uri($"ws://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/hub"));
        }

        if (!IPAddress.TryParse(Host, out IPAddress? address))
        {
            throw new ArgumentException($"--endpoint for {Target} takes an IP address, not '{Host}'.");
        }

        var endPoint = new IPEndPoint(address, Port);
        return Target switch
        {
            "nats" => new NatsTarget(endPoint),
            "redis" => new RedisTarget(endPoint),
            _ => new RawTarget(endPoint),
        };
    }

    private static string? Take(Dictionary<string, string> values, string name) =>
        values.Remove(name, out string? value) ? value : null;

    private static int Int(Dictionary<string, string> values, string name, int fallback, int min, int max)
    {
        if (Take(values, name) is not { } text)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"--{name} must be a whole number from {min} to {max}, not '{text}'.");
    }

    private static double Double(Dictionary<string, string> values, string name, double fallback, double min, double max)
    {
        if (Take(values, name) is not { } text)
        {
            return fallback;
        }

        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"--{name} must be a number from {min} to {max}, not '{text}'.");
    }
}
