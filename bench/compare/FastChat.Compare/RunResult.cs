using System.Text.Json;
using FastChat.Cli.Bench;
using FastChat.Compare.Workloads;

namespace FastChat.Compare;

/// <summary>One run's outcome, written as one JSON line.</summary>
internal sealed record RunResult(
    string Target,
    WorkloadSettings Settings,
    long Sent,
    long Delivered,
    long Lost,
    long Duplicates,
    long Unexpected,
    long SendFailures,
    long? Acked,
    long? AckFailures,
    double MessagesPerSecond,
    double DeliveriesPerSecond,
    LatencyHistogram Latency,
    double? ServerCpuSeconds,
    double? ServerCpuMicrosecondsPerDelivery,
    double ClientCpuSeconds,
    double SetUpSeconds,
    bool Drained,
    IReadOnlyList<string> Errors)
{
    /// <summary>Whether the run was healthy: everything delivered once, nothing unexpected, every send acknowledged.</summary>
    public bool IsHealthy => Lost == 0 && Duplicates == 0 && Unexpected == 0 && SendFailures == 0 && (AckFailures ?? 0) == 0 && Errors.Count == 0;

    /// <summary>The result as one line of JSON (latencies in microseconds).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("target", Target);
            json.WriteString("workload", Settings.Kind.ToString().ToLowerInvariant());
            json.WriteString("params", Settings.Describe());
            json.WriteNumber("pairs", Settings.Pairs);
            json.WriteNumber("group_size", Settings.GroupSize);
            json.WriteNumber("senders", Settings.Senders);
            json.WriteNumber("size", Settings.Size);
            json.WriteNumber("window", Settings.Window);
            json.WriteNumber("seconds", Settings.Duration.TotalSeconds);
            json.WriteNumber("sent", Sent);
            json.WriteNumber("delivered", Delivered);
            json.WriteNumber("lost", Lost);
            json.WriteNumber("duplicates", Duplicates);
            json.WriteNumber("unexpected", Unexpected);
            json.WriteNumber("send_failures", SendFailures);
            WriteNullable(json, "acked", Acked);
            WriteNullable(json, "ack_failures", AckFailures);
            json.WriteNumber("msgs_per_s", Math.Round(MessagesPerSecond, 1));
            json.WriteNumber("deliveries_per_s", Math.Round(DeliveriesPerSecond, 1));
            json.WriteNumber("latency_count", Latency.Count);
            json.WriteNumber("p50_us", Micros(Latency.ValueAtPercentile(50)));
            json.WriteNumber("p90_us", Micros(Latency.ValueAtPercentile(90)));
            json.WriteNumber("p99_us", Micros(Latency.ValueAtPercentile(99)));
            json.WriteNumber("p999_us", Micros(Latency.ValueAtPercentile(99.9)));
            json.WriteNumber("max_us", Micros(Latency.Max));
            WriteNullable(json, "server_cpu_s", ServerCpuSeconds is { } cpu ? Math.Round(cpu, 3) : null);
            WriteNullable(json, "server_cpu_us_per_delivery", ServerCpuMicrosecondsPerDelivery is { } per ? Math.Round(per, 3) : null);
            json.WriteNumber("client_cpu_s", Math.Round(ClientCpuSeconds, 3));
            json.WriteNumber("setup_s", Math.Round(SetUpSeconds, 2));
            json.WriteBoolean("drained", Drained);
            json.WriteBoolean("healthy", IsHealthy);
            json.WriteStartArray("errors");
            foreach (string error in Errors)
            {
                json.WriteStringValue(error);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static double Micros(long nanoseconds) => Math.Round(nanoseconds / 1000.0, 1);

    private static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
