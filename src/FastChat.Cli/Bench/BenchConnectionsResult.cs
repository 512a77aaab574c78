using System.Globalization;
using System.Text.Json;
using FastChat.Protocol.Messages;
using Spectre.Console;

namespace FastChat.Cli.Bench;

/// <summary>What a <c>connections</c> run measured, as a table for people and JSON for tools.</summary>
/// <param name="Settings">The run's settings.</param>
/// <param name="SpawnedServers">How many chat servers the run started in this process (0 against a running cluster).</param>
/// <param name="Connected">Sessions resumed.</param>
/// <param name="Failed">Sessions that could not be opened.</param>
/// <param name="Failures">A few distinct reasons for the failures.</param>
/// <param name="SignUpTime">How long signing up every account took.</param>
/// <param name="ConnectTime">From the first connect to the last session resumed (or failed).</param>
/// <param name="SourceAddresses">The local addresses the sessions were bound to (empty when the system chose).</param>
/// <param name="Before">Memory before the first connect (after the sign-ups).</param>
/// <param name="After">Memory once every session had been idle for a few seconds.</param>
/// <param name="Trickle">The trickle's counts while holding.</param>
/// <param name="Interrupted">Whether the user stopped the run.</param>
internal sealed record BenchConnectionsResult(
    BenchSettings Settings,
    int SpawnedServers,
    int Connected,
    int Failed,
    IReadOnlyList<string> Failures,
    TimeSpan SignUpTime,
    TimeSpan ConnectTime,
    IReadOnlyList<string> SourceAddresses,
    MemorySnapshot Before,
    MemorySnapshot After,
    TrickleOutcome Trickle,
    bool Interrupted)
{
    private static readonly (string Name, double Percentile)[] Percentiles = [("p50", 50), ("p99", 99), ("p99.9", 99.9)];

    /// <summary>Whether every session opened and stayed, and every trickle message arrived exactly once.</summary>
    public bool Clean => Failed == 0 && Trickle.Lost == 0 && Trickle.Duplicates == 0 && Trickle.Failed == 0
        && Trickle.Unexpected == 0 && Trickle.Dropped == 0 && !Interrupted;

    /// <summary>Sessions resumed per second while connecting.</summary>
    public double ConnectRate => ConnectTime > TimeSpan.Zero ? Connected / ConnectTime.TotalSeconds : 0;

    /// <summary>
    /// The servers' memory growth per held session, in bytes, from their own reports (working set); <see langword="null"/>
    /// without reports on both sides or without sessions. Servers in this process all report the one process, so it
    /// counts once; servers of a running cluster count each.
    /// </summary>
    public double? ServerBytesPerConnection
    {
        get
        {
            if (Connected == 0 || Before.Servers.Count == 0 || After.Servers.Count == 0)
            {
                return null;
            }

            if (SpawnedServers > 0)
            {
                return (MaxMemory(After) - MaxMemory(Before)) / (double)Connected;
            }

            long growth = 0;
            foreach (ServerStatus after in After.Servers)
            {
                foreach (ServerStatus before in Before.Servers)
                {
                    if (before.ServerId == after.ServerId)
                    {
                        growth += after.MemoryBytes - before.MemoryBytes;
                    }
                }
            }

            return growth / (double)Connected;
        }
    }

    /// <summary>This process's working-set growth per held session.</summary>
    public double ProcessBytesPerConnection => PerConnection(After.ProcessWorkingSet - Before.ProcessWorkingSet);

    /// <summary>This process's managed-allocation growth per held session (no collection forced).</summary>
    public double ManagedBytesPerConnection => PerConnection(After.ManagedBytes - Before.ManagedBytes);

    private string Target => Settings.BalancerHost is null
        ? string.Create(CultureInfo.InvariantCulture, $"{SpawnedServers} in-process server(s)")
        : string.Create(CultureInfo.InvariantCulture, $"{Settings.BalancerHost}:{Settings.BalancerPort}");

    /// <summary>Writes the final table.</summary>
    public void WriteTable(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"fastchat bench connections: {Settings.Connections:N0} sessions, hold {Settings.Hold.TotalSeconds:0.##} s, trickle {Settings.Trickle:0.##} msg/s of {Settings.Size} B, {Target}"));
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("measure")
            .AddColumn(new TableColumn("value").RightAligned());
        AddRow(table, "connected", Count(Connected));
        AddRow(table, "failed to connect", Count(Failed));
        AddRow(table, "source addresses", Count(SourceAddresses.Count));
        AddRow(table, "sign-up time", Seconds(SignUpTime));
        AddRow(table, "connect time", Seconds(ConnectTime));
        AddRow(table, "connects/s", Number(ConnectRate, "N0"));
        AddRow(table, "server memory before", Mebibytes(SumMemory(Before)));
        AddRow(table, "server memory after", Mebibytes(SumMemory(After)));
        AddRow(table, "server bytes/connection", ServerBytesPerConnection is { } perConnection ? Number(perConnection, "N0") : "no reports");
        AddRow(table, "this process bytes/connection", Number(ProcessBytesPerConnection, "N0"));
        AddRow(table, "managed bytes/connection", Number(ManagedBytesPerConnection, "N0"));
        AddRow(table, "dropped while held", Count(Trickle.Dropped));
        AddRow(table, "trickle sent", Count(Trickle.Sent));
        AddRow(table, "trickle acked", Count(Trickle.Acked));
        AddRow(table, "trickle delivered", Count(Trickle.Delivered));
        AddRow(table, "trickle lost", Count(Trickle.Lost));
        AddRow(table, "trickle duplicates", Count(Trickle.Duplicates));
        if (Trickle.Failed != 0)
        {
            AddRow(table, "trickle failed sends", Count(Trickle.Failed));
        }

        if (Trickle.Unexpected != 0)
        {
            AddRow(table, "trickle unexpected", Count(Trickle.Unexpected));
        }

        foreach ((string name, double percentile) in Percentiles)
        {
            AddRow(table, "one-way " + name, Micros(Trickle.Latency.ValueAtPercentile(percentile)));
        }

        AddRow(table, "one-way max", Micros(Trickle.Latency.Max));
        console.Write(table);
        if (SpawnedServers > 0)
        {
            console.WriteLine("note: with --spawn the servers share this process with the generator's sessions, so the server figure includes both ends; run `fastchat serve` separately and use --balancer for the servers' own number.");
        }

        foreach (string failure in Failures)
        {
            console.WriteLine("connect failure: " + failure);
        }

        if (Interrupted)
        {
            console.MarkupLine("[yellow]interrupted:[/] the counts cover the run up to the interruption.");
        }
    }

    /// <summary>Writes every number as one JSON object (latencies in microseconds, memory in bytes).</summary>
    public async Task WriteJsonAsync(string path, CancellationToken cancellationToken)
    {
        await using FileStream file = File.Create(path);
        await using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("scenario", "connections");
        json.WriteNumber("connections", Settings.Connections);
        json.WriteNumber("holdSeconds", Settings.Hold.TotalSeconds);
        json.WriteNumber("trickleRate", Settings.Trickle);
        json.WriteNumber("size", Settings.Size);
        if (Settings.BalancerHost is null)
        {
            json.WriteNumber("servers", SpawnedServers);
        }
        else
        {
            json.WriteString("balancer", string.Create(CultureInfo.InvariantCulture, $"{Settings.BalancerHost}:{Settings.BalancerPort}"));
        }

        json.WriteNumber("connected", Connected);
        json.WriteNumber("failed", Failed);
        json.WriteStartArray("failures");
        foreach (string failure in Failures)
        {
            json.WriteStringValue(failure);
        }

        json.WriteEndArray();
        json.WriteStartArray("sourceAddresses");
        foreach (string address in SourceAddresses)
        {
            json.WriteStringValue(address);
        }

        json.WriteEndArray();
        json.WriteNumber("signUpSeconds", SignUpTime.TotalSeconds);
        json.WriteNumber("connectSeconds", ConnectTime.TotalSeconds);
        json.WriteNumber("connectsPerSecond", ConnectRate);
        json.WriteStartObject("memory");
        json.WriteBoolean("serversInThisProcess", SpawnedServers > 0);
        if (ServerBytesPerConnection is { } perConnection)
        {
            json.WriteNumber("serverBytesPerConnection", perConnection);
        }
        else
        {
            json.WriteNull("serverBytesPerConnection");
        }

        json.WriteNumber("processBytesPerConnection", ProcessBytesPerConnection);
        json.WriteNumber("managedBytesPerConnection", ManagedBytesPerConnection);
        WriteSnapshot(json, "before", Before);
        WriteSnapshot(json, "after", After);
        json.WriteEndObject();
        json.WriteStartObject("trickle");
        json.WriteNumber("sent", Trickle.Sent);
        json.WriteNumber("acked", Trickle.Acked);
        json.WriteNumber("delivered", Trickle.Delivered);
        json.WriteNumber("lost", Trickle.Lost);
        json.WriteNumber("duplicates", Trickle.Duplicates);
        json.WriteNumber("failed", Trickle.Failed);
        json.WriteNumber("unexpected", Trickle.Unexpected);
        json.WriteNumber("dropped", Trickle.Dropped);
        json.WriteNumber("holdSeconds", Trickle.HoldTime.TotalSeconds);
        json.WriteStartObject("latency");
        json.WriteString("kind", "one-way");
        json.WriteString("unit", "us");
        json.WriteNumber("count", Trickle.Latency.Count);
        foreach ((string name, double percentile) in Percentiles)
        {
            json.WriteNumber(name, Trickle.Latency.ValueAtPercentile(percentile) / 1e3);
        }

        json.WriteNumber("max", Trickle.Latency.Max / 1e3);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteBoolean("interrupted", Interrupted);
        json.WriteBoolean("clean", Clean);
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void WriteSnapshot(Utf8JsonWriter json, string name, MemorySnapshot snapshot)
    {
        json.WriteStartObject(name);
        json.WriteNumber("processWorkingSet", snapshot.ProcessWorkingSet);
        json.WriteNumber("managedBytes", snapshot.ManagedBytes);
        json.WriteNumber("gcHeapBytes", snapshot.GcHeapBytes);
        json.WriteStartArray("servers");
        foreach (ServerStatus server in snapshot.Servers)
        {
            json.WriteStartObject();
            json.WriteString("id", server.ServerId);
            json.WriteNumber("connections", server.Connections);
            json.WriteNumber("memoryBytes", server.MemoryBytes);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static long MaxMemory(MemorySnapshot snapshot)
    {
        long max = 0;
        foreach (ServerStatus server in snapshot.Servers)
        {
            max = Math.Max(max, server.MemoryBytes);
        }

        return max;
    }

    private long SumMemory(MemorySnapshot snapshot)
    {
        if (SpawnedServers > 0)
        {
            return MaxMemory(snapshot);
        }

        long sum = 0;
        foreach (ServerStatus server in snapshot.Servers)
        {
            sum += server.MemoryBytes;
        }

        return sum;
    }

    private double PerConnection(long bytes) => Connected > 0 ? bytes / (double)Connected : 0;

    private static void AddRow(Table table, string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";

    private static string Mebibytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("N1", CultureInfo.InvariantCulture) + " MiB";

    private static string Micros(long nanoseconds) => (nanoseconds / 1e3).ToString("N1", CultureInfo.InvariantCulture) + " µs";
}
