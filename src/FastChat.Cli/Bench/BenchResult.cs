using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace FastChat.Cli.Bench;

/// <summary>What a bench run measured, and its two renderings: a table for people and JSON for tools.</summary>
/// <param name="Settings">The run's settings.</param>
/// <param name="SpawnedServers">How many chat servers the run started in this process (0 against a running cluster).</param>
/// <param name="Sent">Sends started (for pingpong including the echoes).</param>
/// <param name="Acked">Sends the server acknowledged.</param>
/// <param name="Delivered">First deliveries.</param>
/// <param name="ExpectedDeliveries">The first deliveries the sends call for: one per send for dm and pingpong, one per other member for group.</param>
/// <param name="Duplicates">Second and later deliveries of the same message.</param>
/// <param name="Failed">Sends that failed (refused, timed out, or never handed to the client).</param>
/// <param name="Unexpected">Received messages that were no part of the run.</param>
/// <param name="Stalled">Whether sending stopped because nothing was delivered for <see cref="BenchRunner.StallTimeout"/>.</param>
/// <param name="Interrupted">Whether the user stopped the run.</param>
/// <param name="SendTime">From the start to the last send (of a message or an echo).</param>
/// <param name="DeliveryTime">From the start to the last first delivery.</param>
/// <param name="Latency">The latencies in nanoseconds: one way for dm and group (one per delivery), round trip for pingpong.</param>
/// <param name="Timeline">The counts over time while the run measured, or <see langword="null"/> when not sampled.</param>
/// <param name="Resources">The servers' and this process's CPU and memory while the run measured, or <see langword="null"/> when not sampled.</param>
internal sealed record BenchResult(
    BenchSettings Settings,
    int SpawnedServers,
    long Sent,
    long Acked,
    long Delivered,
    long ExpectedDeliveries,
    long Duplicates,
    long Failed,
    long Unexpected,
    bool Stalled,
    bool Interrupted,
    TimeSpan SendTime,
    TimeSpan DeliveryTime,
    LatencyHistogram Latency,
    BenchTimeline? Timeline = null,
    BenchResources? Resources = null)
{
    private static readonly (string Name, double Percentile)[] Percentiles =
    [
        ("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9),
    ];

    /// <summary>Deliveries called for that never came (for group: per member, each message once to every other member).</summary>
    public long Lost => ExpectedDeliveries - Delivered;

    /// <summary>Whether every message arrived exactly once and nothing else did.</summary>
    public bool Clean => Lost == 0 && Duplicates == 0 && Failed == 0 && Unexpected == 0 && !Stalled && !Interrupted;

    public double MessagesPerSecond => PerSecond(Sent, SendTime);

    public double DeliveriesPerSecond => PerSecond(Delivered, DeliveryTime);

    /// <summary>Body megabytes (10^6 bytes) delivered per second.</summary>
    public double MegabytesPerSecond => PerSecond(Delivered * (double)Settings.Size / 1e6, DeliveryTime);

    private bool IsGroup => Settings.Scenario == BenchScenario.Group;

    /// <summary>The line above the table: scenario, participants, size, loop and target.</summary>
    public string Heading
    {
        get
        {
            string target = Settings.BalancerHost is null
                ? string.Create(CultureInfo.InvariantCulture, $"{SpawnedServers} in-process server(s)")
                : string.Create(CultureInfo.InvariantCulture, $"{Settings.BalancerHost}:{Settings.BalancerPort}");
            return string.Create(CultureInfo.InvariantCulture, $"fastchat bench {ScenarioName(Settings.Scenario)}: {Participants}, {Settings.Size} B, {Mode}, {target}");
        }
    }

    /// <summary>What the latencies measure: <c>one-way</c> or <c>round-trip</c>.</summary>
    public string LatencyKind => Settings.Scenario == BenchScenario.PingPong ? "round-trip" : "one-way";

    private string Participants => IsGroup
        ? string.Create(CultureInfo.InvariantCulture, $"{Settings.GroupSize} members, {Settings.GroupSenders} sender(s)")
        : string.Create(CultureInfo.InvariantCulture, $"{Settings.Pairs} pair(s)");

    private string Mode => Settings.Rate is { } rate
        ? string.Create(CultureInfo.InvariantCulture, $"open loop, {rate:0.##} msg/s")
        : string.Create(CultureInfo.InvariantCulture, $"closed loop, window {Settings.Window}");

    /// <summary>Writes the final table.</summary>
    public void WriteTable(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        console.WriteLine(Heading);
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("measure")
            .AddColumn(new TableColumn("value").RightAligned());
        foreach ((string name, string value) in SummaryRows())
        {
            AddRow(table, name, value);
        }

        console.Write(table);
        if (Stalled)
        {
            console.MarkupLine("[red]stalled:[/] nothing was delivered for " + Seconds(BenchRunner.StallTimeout) + ", so sending stopped.");
        }

        if (Interrupted)
        {
            console.MarkupLine("[yellow]interrupted:[/] the counts cover the run up to the interruption.");
        }

        foreach (string note in ResourceNotes())
        {
            console.WriteLine(note);
        }
    }

    /// <summary>The summary as (measure, value) rows, formatted as the table shows them (the HTML report shows the same).</summary>
    public List<(string Name, string Value)> SummaryRows()
    {
        var rows = new List<(string Name, string Value)>
        {
            ("sent", Count(Sent)),
            ("acked", Count(Acked)),
        };
        if (IsGroup)
        {
            rows.Add(("deliveries expected", Count(ExpectedDeliveries)));
        }

        rows.Add(("delivered", Count(Delivered)));
        rows.Add(("lost", Count(Lost)));
        rows.Add(("duplicates", Count(Duplicates)));
        if (Failed != 0)
        {
            rows.Add(("failed sends", Count(Failed)));
        }

        if (Unexpected != 0)
        {
            rows.Add(("unexpected", Count(Unexpected)));
        }

        rows.Add(("send time", Seconds(SendTime)));
        rows.Add(("messages/s", Number(MessagesPerSecond, "N0")));
        rows.Add(("deliveries/s", Number(DeliveriesPerSecond, "N0")));
        rows.Add(("MB/s", Number(MegabytesPerSecond, "N2")));
        foreach ((string name, double percentile) in Percentiles)
        {
            rows.Add(($"{LatencyKind} {name}", Micros(Latency.ValueAtPercentile(percentile))));
        }

        rows.Add(($"{LatencyKind} max", Micros(Latency.Max)));
        rows.Add(($"{LatencyKind} mean", Micros((long)Latency.Mean)));
        if (Resources is { } resources)
        {
            AddResourceRows(rows, resources);
        }

        return rows;
    }

    /// <summary>The footnotes to the resource rows: where the servers ran, and why figures are missing.</summary>
    public List<string> ResourceNotes()
    {
        var notes = new List<string>(2);
        if (Resources is { ServersInProcess: true })
        {
            notes.Add("* The servers ran in this process (--spawn): their CPU and memory include the load generator's, and so does server CPU per delivery.");
        }

        if (Resources?.Problem is { } problem)
        {
            notes.Add(problem);
        }

        return notes;
    }

    private void AddResourceRows(List<(string Name, string Value)> rows, BenchResources resources)
    {
        string mark = resources.ServersInProcess ? " *" : string.Empty;
        foreach (ServerUsage server in resources.Servers)
        {
            rows.Add(($"server {server.ServerId} CPU mean / max{mark}", Percent(server.MeanCpu) + " / " + Percent(server.MaxCpu)));
            rows.Add(($"server {server.ServerId} peak memory{mark}", Mebibytes(server.PeakMemoryBytes)));
        }

        if (resources.Servers.Count != 0 || resources.ServersInProcess)
        {
            rows.Add(($"servers CPU mean / max{mark}", Percent(resources.MeanTotalCpu) + " / " + Percent(resources.MaxTotalCpu)));
            rows.Add(($"servers CPU time{mark}", Seconds(resources.ServerCpuTime)));
        }

        if (resources.ServerCpuMicrosecondsPerDelivery(Delivered) is { } perDelivery)
        {
            rows.Add(($"server CPU per delivery{mark}", Number(perDelivery, "N2") + " µs"));
        }

        rows.Add(("bench process CPU time", Seconds(resources.BenchCpuTime) + " (" + Percent(resources.BenchCpu) + " of the machine)"));
    }

    /// <summary>Writes every number as one JSON object (latencies in microseconds).</summary>
    public async Task WriteJsonAsync(string path, CancellationToken cancellationToken)
    {
        await using FileStream file = File.Create(path);
        await using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("scenario", ScenarioName(Settings.Scenario));
        json.WriteString("mode", Settings.OpenLoop ? "open" : "closed");
        if (IsGroup)
        {
            json.WriteNumber("groupSize", Settings.GroupSize);
            json.WriteNumber("senders", Settings.GroupSenders);
        }
        else
        {
            json.WriteNumber("pairs", Settings.Pairs);
        }

        json.WriteNumber("size", Settings.Size);
        if (Settings.OpenLoop)
        {
            json.WriteNumber("rate", Settings.Rate!.Value);
        }
        else
        {
            json.WriteNumber("window", Settings.Window);
        }

        if (Settings.BalancerHost is null)
        {
            json.WriteNumber("servers", SpawnedServers);
        }
        else
        {
            json.WriteString("balancer", string.Create(CultureInfo.InvariantCulture, $"{Settings.BalancerHost}:{Settings.BalancerPort}"));
        }

        json.WriteNumber("sent", Sent);
        json.WriteNumber("acked", Acked);
        json.WriteNumber("expectedDeliveries", ExpectedDeliveries);
        json.WriteNumber("delivered", Delivered);
        json.WriteNumber("lost", Lost);
        json.WriteNumber("duplicates", Duplicates);
        json.WriteNumber("failed", Failed);
        json.WriteNumber("unexpected", Unexpected);
        json.WriteBoolean("stalled", Stalled);
        json.WriteBoolean("interrupted", Interrupted);
        json.WriteNumber("sendSeconds", SendTime.TotalSeconds);
        json.WriteNumber("deliverySeconds", DeliveryTime.TotalSeconds);
        json.WriteNumber("messagesPerSecond", MessagesPerSecond);
        json.WriteNumber("deliveriesPerSecond", DeliveriesPerSecond);
        json.WriteNumber("megabytesPerSecond", MegabytesPerSecond);
        json.WriteStartObject("latency");
        json.WriteString("kind", LatencyKind);
        json.WriteString("unit", "us");
        json.WriteNumber("count", Latency.Count);
        json.WriteNumber("min", Latency.Min / 1e3);
        json.WriteNumber("mean", Latency.Mean / 1e3);
        foreach ((string name, double percentile) in Percentiles)
        {
            json.WriteNumber(name, Latency.ValueAtPercentile(percentile) / 1e3);
        }

        json.WriteNumber("max", Latency.Max / 1e3);
        json.WriteEndObject();
        if (Resources is { } resources)
        {
            WriteResources(json, resources);
        }

        if (Timeline is { } timeline)
        {
            WriteTimeline(json, timeline);
        }

        json.WriteEndObject();
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The servers' and the bench process's CPU and memory; CPU as a percentage of the whole machine.</summary>
    private void WriteResources(Utf8JsonWriter json, BenchResources resources)
    {
        json.WriteBoolean("serversInProcess", resources.ServersInProcess);
        if (resources.ServerCpuMicrosecondsPerDelivery(Delivered) is { } perDelivery)
        {
            json.WriteNumber("serverCpuPerDeliveryUs", perDelivery);
        }
        else
        {
            json.WriteNull("serverCpuPerDeliveryUs");
        }

        json.WriteStartObject("resources");
        json.WriteNumber("seconds", resources.Elapsed.TotalSeconds);
        json.WriteNumber("processorCount", resources.ProcessorCount);
        json.WriteNumber("serverCpuMeanPercent", resources.MeanTotalCpu * 100);
        json.WriteNumber("serverCpuMaxPercent", resources.MaxTotalCpu * 100);
        json.WriteNumber("serverCpuSeconds", resources.ServerCpuTime.TotalSeconds);
        json.WriteNumber("benchCpuSeconds", resources.BenchCpuTime.TotalSeconds);
        json.WriteNumber("benchCpuMeanPercent", resources.BenchCpu * 100);
        if (resources.Problem is { } problem)
        {
            json.WriteString("problem", problem);
        }

        json.WriteStartArray("servers");
        foreach (ServerUsage server in resources.Servers)
        {
            json.WriteStartObject();
            json.WriteString("id", server.ServerId);
            json.WriteNumber("reports", server.Reports);
            json.WriteNumber("cpuMeanPercent", server.MeanCpu * 100);
            json.WriteNumber("cpuMaxPercent", server.MaxCpu * 100);
            json.WriteNumber("peakMemoryBytes", server.PeakMemoryBytes);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The cumulative counts over time; throughput is the difference between consecutive samples.</summary>
    private static void WriteTimeline(Utf8JsonWriter json, BenchTimeline timeline)
    {
        json.WriteStartObject("timeline");
        json.WriteNumber("intervalSeconds", timeline.Interval.TotalSeconds);
        json.WriteStartArray("samples");
        foreach (BenchTimelineSample sample in timeline.Samples)
        {
            json.WriteStartObject();
            json.WriteNumber("seconds", Math.Round(sample.Seconds, 4));
            json.WriteNumber("sent", sample.Sent);
            json.WriteNumber("delivered", sample.Delivered);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The scenario's command-line name.</summary>
    public static string ScenarioName(BenchScenario scenario) => scenario switch
    {
        BenchScenario.Dm => "dm",
        BenchScenario.PingPong => "pingpong",
        _ => "group",
    };

    private static double PerSecond(double amount, TimeSpan time) => time > TimeSpan.Zero ? amount / time.TotalSeconds : 0;

    private static void AddRow(Table table, string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";

    private static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Mebibytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("N1", CultureInfo.InvariantCulture) + " MiB";

    private static string Micros(long nanoseconds) => (nanoseconds / 1e3).ToString("N1", CultureInfo.InvariantCulture) + " µs";
}
