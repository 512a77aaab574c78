using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FastChat.Compare;

/// <summary>
/// Turns the JSON lines of an interleaved run into markdown: per workload and target the median of the rounds, the
/// spread ((max - min) / median), FastChat's ratio to every other target, latencies, server CPU per delivery, loss and
/// the issue's targets met or not. Rounds are only ever compared inside one file: one interleaved run.
/// </summary>
internal static class CompareReport
{
    private static readonly string[] TargetOrder = ["fastchat", "fastchat-sdk", "nats", "redis", "signalr", "raw"];

    /// <summary>The markdown for <paramref name="lines"/> (one JSON object per line; blank lines skipped).</summary>
    /// <exception cref="InvalidDataException">A line is not a result object.</exception>
    public static string Render(IEnumerable<string> lines)
    {
        var runs = new List<Run>();
        foreach (string line in lines)
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                runs.Add(Run.Parse(line));
            }
        }

        var workloads = new List<string>();
        var targets = new List<string>();
        foreach (Run run in runs)
        {
            if (!workloads.Contains(run.Params))
            {
                workloads.Add(run.Params);
            }

            if (!targets.Contains(run.Target))
            {
                targets.Add(run.Target);
            }
        }

        targets.Sort((a, b) => Rank(a).CompareTo(Rank(b)));
        var text = new StringBuilder();
        var others = targets.FindAll(t => t != "fastchat");
        bool hasFastChat = targets.Contains("fastchat");

        text.AppendLine("Deliveries per second (median of rounds; spread = (max - min) / median), and FastChat's ratio to each:").AppendLine();
        text.Append("| workload |");
        foreach (string target in targets)
        {
            text.Append(CultureInfo.InvariantCulture, $" {target} |");
        }

        if (hasFastChat)
        {
            foreach (string other in others)
            {
                text.Append(CultureInfo.InvariantCulture, $" fastchat ÷ {other} |");
            }
        }

        text.AppendLine();
        text.Append("|---|").Append(Repeat("---:|", targets.Count + (hasFastChat ? others.Count : 0))).AppendLine();
        foreach (string workload in workloads)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {workload} |");
            foreach (string target in targets)
            {
                Summary? summary = Summarize(runs, workload, target);
                text.Append(summary is { } s ? $" {Rate(s.Deliveries)} (±{(s.Spread * 100).ToString("0", CultureInfo.InvariantCulture)}%){(s.Healthy ? string.Empty : " ⚠")} |" : " – |");
            }

            if (hasFastChat)
            {
                Summary? fastchat = Summarize(runs, workload, "fastchat");
                foreach (string other in others)
                {
                    Summary? peer = Summarize(runs, workload, other);
                    text.Append(fastchat is { } f && peer is { Deliveries: > 0 } p ? $" {f.Deliveries / p.Deliveries:0.00}× |" : " – |");
                }
            }

            text.AppendLine();
        }

        text.AppendLine().AppendLine("Latency p50 / p99 in µs (one way for dm and group, round trip for pingpong; medians of rounds):").AppendLine();
        AppendTable(text, runs, workloads, targets, s => $"{s.P50:0} / {s.P99:0}");
        text.AppendLine().AppendLine("Server CPU per delivery in µs (user + system time of the server process over the measured window):").AppendLine();
        AppendTable(text, runs, workloads, targets, s => s.CpuPerDelivery is { } cpu ? cpu.ToString("0.00", CultureInfo.InvariantCulture) : "–");
        text.AppendLine().AppendLine("Rounds, and what went wrong over all of them (lost = expected deliveries that never came):").AppendLine();
        AppendTable(text, runs, workloads, targets, s => s.Problems);

        if (hasFastChat)
        {
            text.AppendLine().AppendLine("The issue's targets (this run):").AppendLine();
            Goal(text, runs, "dm P=16 64B", "nats", 1.2, "FastChat deliveries/s ≥ 1.2× NATS");
            Goal(text, runs, "dm P=16 64B", "raw", 0.7, "FastChat deliveries/s ≥ 0.7× raw");
            Goal(text, runs, "dm P=256 64B", "nats", 1.0, "FastChat deliveries/s ≥ 1.0× NATS");
            Goal(text, runs, "group G=100 ", "nats", 1.5, "FastChat deliveries/s ≥ 1.5× NATS");
            Goal(text, runs, "group G=1000 ", "nats", 1.0, "FastChat deliveries/s ≥ 1.0× NATS");
            PingGoal(text, runs);
            AheadGoal(text, runs, workloads, "signalr");
            AheadGoal(text, runs, workloads, "redis");
        }

        return text.ToString();
    }

    private static int Rank(string target)
    {
        int at = Array.IndexOf(TargetOrder, target);
        return at < 0 ? TargetOrder.Length : at;
    }

    private static string Repeat(string text, int count) => new StringBuilder().Insert(0, text, count).ToString();

    private static string Rate(double perSecond) => perSecond switch
    {
        >= 1e6 => (perSecond / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + " M",
        >= 1e3 => (perSecond / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + " k",
        _ => perSecond.ToString("0", CultureInfo.InvariantCulture),
    };

    private static void AppendTable(StringBuilder text, List<Run> runs, List<string> workloads, List<string> targets, Func<Summary, string> cell)
    {
        text.Append("| workload |");
        foreach (string target in targets)
        {
            text.Append(CultureInfo.InvariantCulture, $" {target} |");
        }

        text.AppendLine().Append("|---|").Append(Repeat("---:|", targets.Count)).AppendLine();
        foreach (string workload in workloads)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {workload} |");
            foreach (string target in targets)
            {
                text.Append(Summarize(runs, workload, target) is { } s ? $" {cell(s)} |" : " – |");
            }

            text.AppendLine();
        }
    }

    private static void Goal(StringBuilder text, List<Run> runs, string workloadPrefix, string other, double ratio, string description)
    {
        string? workload = runs.Find(r => r.Params.StartsWith(workloadPrefix, StringComparison.Ordinal))?.Params;
        if (workload is null || Summarize(runs, workload, "fastchat") is not { } f || Summarize(runs, workload, other) is not { Deliveries: > 0 } o)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {workloadPrefix.Trim()}: {description}: not measured in this run");
            return;
        }

        double actual = f.Deliveries / o.Deliveries;
        text.AppendLine(CultureInfo.InvariantCulture, $"- {workload}: {description}: {actual:0.00}× — {(actual >= ratio ? "met" : "not met")}");
    }

    private static void PingGoal(StringBuilder text, List<Run> runs)
    {
        string? workload = runs.Find(r => r.Params.StartsWith("pingpong", StringComparison.Ordinal))?.Params;
        if (workload is null || Summarize(runs, workload, "fastchat") is not { } f)
        {
            text.AppendLine("- pingpong: FastChat p50 ≤ NATS p50 and p99 ≤ 1 ms: not measured in this run");
            return;
        }

        string p50 = Summarize(runs, workload, "nats") is { } n
            ? $"p50 {f.P50:0} µs vs NATS {n.P50:0} µs — {(f.P50 <= n.P50 ? "met" : "not met")}"
            : "p50 vs NATS: NATS not measured";
        text.AppendLine(CultureInfo.InvariantCulture, $"- {workload}: {p50}; p99 {f.P99:0} µs ≤ 1000 µs — {(f.P99 <= 1000 ? "met" : "not met")}");
    }

    private static void AheadGoal(StringBuilder text, List<Run> runs, List<string> workloads, string other)
    {
        int ahead = 0, measured = 0;
        var behind = new List<string>();
        foreach (string workload in workloads)
        {
            if (Summarize(runs, workload, "fastchat") is not { } f || Summarize(runs, workload, other) is not { } o)
            {
                continue;
            }

            measured++;
            bool better = workload.StartsWith("pingpong", StringComparison.Ordinal) ? f.P50 <= o.P50 : f.Deliveries >= o.Deliveries;
            if (better)
            {
                ahead++;
            }
            else
            {
                behind.Add(workload);
            }
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"- ahead of {other} everywhere: {ahead} of {measured} workloads{(behind.Count > 0 ? " (behind in: " + string.Join("; ", behind) + ")" : string.Empty)} — {(measured > 0 && ahead == measured ? "met" : "not met")}");
    }

    private static Summary? Summarize(List<Run> runs, string workload, string target)
    {
        var matching = runs.FindAll(r => r.Params == workload && r.Target == target);
        if (matching.Count == 0)
        {
            return null;
        }

        double[] deliveries = [.. matching.ConvertAll(r => r.Deliveries)];
        double median = Median(deliveries);
        double spread = median > 0 ? (deliveries.Max() - deliveries.Min()) / median : 0;
        var cpu = matching.FindAll(r => r.CpuPerDelivery is not null).ConvertAll(r => r.CpuPerDelivery!.Value);
        long lost = 0, duplicates = 0, unexpected = 0, failed = 0;
        foreach (Run run in matching)
        {
            lost += run.Lost;
            duplicates += run.Duplicates;
            unexpected += run.Unexpected;
            failed += run.Healthy ? 0 : 1;
        }

        string problems = $"{matching.Count} round{(matching.Count == 1 ? string.Empty : "s")}" + (failed == 0 ? ", all healthy" : $", {failed} unhealthy: lost {lost}, duplicates {duplicates}, unexpected {unexpected}");
        return new Summary(
            median,
            spread,
            Median([.. matching.ConvertAll(r => r.P50)]),
            Median([.. matching.ConvertAll(r => r.P99)]),
            cpu.Count > 0 ? Median([.. cpu]) : null,
            failed == 0,
            problems);
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private readonly record struct Summary(double Deliveries, double Spread, double P50, double P99, double? CpuPerDelivery, bool Healthy, string Problems);

    private sealed record Run(string Target, string Params, double Deliveries, double P50, double P99, double? CpuPerDelivery, long Lost, long Duplicates, long Unexpected, bool Healthy)
    {
        public static Run Parse(string line)
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                JsonElement root = document.RootElement;
                JsonElement cpu = root.GetProperty("server_cpu_us_per_delivery");
                return new Run(
                    root.GetProperty("target").GetString()!,
                    root.GetProperty("params").GetString()!,
                    root.GetProperty("deliveries_per_s").GetDouble(),
                    root.GetProperty("p50_us").GetDouble(),
                    root.GetProperty("p99_us").GetDouble(),
                    cpu.ValueKind == JsonValueKind.Number ? cpu.GetDouble() : null,
                    root.GetProperty("lost").GetInt64(),
                    root.GetProperty("duplicates").GetInt64(),
                    root.GetProperty("unexpected").GetInt64(),
                    root.GetProperty("healthy").GetBoolean());
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"Not a fastchat-compare result line: {line[..Math.Min(line.Length, 80)]}", ex);
            }
        }
    }
}
