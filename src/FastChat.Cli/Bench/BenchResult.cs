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
    LatencyHistogram Latency)
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

    private string LatencyKind => Settings.Scenario == BenchScenario.PingPong ? "round-trip" : "one-way";

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
        string target = Settings.BalancerHost is null
            ? string.Create(CultureInfo.InvariantCulture, $"{SpawnedServers} in-process server(s)")
            : string.Create(CultureInfo.InvariantCulture, $"{Settings.BalancerHost}:{Settings.BalancerPort}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fastchat bench {ScenarioName(Settings.Scenario)}: {Participants}, {Settings.Size} B, {Mode}, {target}"));
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("measure")
            .AddColumn(new TableColumn("value").RightAligned());
        AddRow(table, "sent", Count(Sent));
        AddRow(table, "acked", Count(Acked));
        if (IsGroup)
        {
            AddRow(table, "deliveries expected", Count(ExpectedDeliveries));
        }

        AddRow(table, "delivered", Count(Delivered));
        AddRow(table, "lost", Count(Lost));
        AddRow(table, "duplicates", Count(Duplicates));
        if (Failed != 0)
        {
            AddRow(table, "failed sends", Count(Failed));
        }

        if (Unexpected != 0)
        {
            AddRow(table, "unexpected", Count(Unexpected));
        }

        AddRow(table, "send time", Seconds(SendTime));
        AddRow(table, "messages/s", Number(MessagesPerSecond, "N0"));
        AddRow(table, "deliveries/s", Number(DeliveriesPerSecond, "N0"));
        AddRow(table, "MB/s", Number(MegabytesPerSecond, "N2"));
        foreach ((string name, double percentile) in Percentiles)
        {
            AddRow(table, $"{LatencyKind} {name}", Micros(Latency.ValueAtPercentile(percentile)));
        }

        AddRow(table, $"{LatencyKind} max", Micros(Latency.Max));
        AddRow(table, $"{LatencyKind} mean", Micros((long)Latency.Mean));
        console.Write(table);
        if (Stalled)
        {
            console.MarkupLine("[red]stalled:[/] nothing was delivered for " + Seconds(BenchRunner.StallTimeout) + ", so sending stopped.");
        }

        if (Interrupted)
        {
            console.MarkupLine("[yellow]interrupted:[/] the counts cover the run up to the interruption.");
        }
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
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
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

    private static string Micros(long nanoseconds) => (nanoseconds / 1e3).ToString("N1", CultureInfo.InvariantCulture) + " µs";
}
