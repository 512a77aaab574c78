using System.Diagnostics.Metrics;

namespace FastChat.Transport.Internal;

// The "FastChat.Transport" meter (readable with dotnet-counters or OpenTelemetry). Instruments are created
// once; when nobody listens, recording a measurement is a cheap no-op. Frame counters are recorded once per
// read batch or flush rather than per frame.
internal static class TransportMetrics
{
    public const string MeterName = "FastChat.Transport";

    private static readonly Meter s_meter = new(MeterName, typeof(TransportMetrics).Assembly.GetName().Version?.ToString());

    // Tag values boxed once, so recording a close never allocates.
    private static readonly KeyValuePair<string, object?>[] s_closeReasonTags = CreateCloseReasonTags();

    public static readonly Counter<long> ConnectionsOpened = s_meter.CreateCounter<long>(
        "fastchat.transport.connections.opened", "{connection}", "Connections established (accepted or connected).");

    public static readonly Counter<long> ConnectionsRejected = s_meter.CreateCounter<long>(
        "fastchat.transport.connections.rejected", "{connection}", "Connections closed on arrival because the listener was at its connection limit.");

    public static readonly Counter<long> ConnectionsClosed = s_meter.CreateCounter<long>(
        "fastchat.transport.connections.closed", "{connection}", "Connections closed, tagged with fastchat.close_reason.");

    public static readonly UpDownCounter<long> ConnectionsActive = s_meter.CreateUpDownCounter<long>(
        "fastchat.transport.connections.active", "{connection}", "Connections currently open.");

    public static readonly Counter<long> BytesReceived = s_meter.CreateCounter<long>(
        "fastchat.transport.bytes.received", "By", "Bytes received from peers (after TLS decryption).");

    public static readonly Counter<long> BytesSent = s_meter.CreateCounter<long>(
        "fastchat.transport.bytes.sent", "By", "Bytes sent to peers (before TLS encryption).");

    public static readonly Counter<long> FramesReceived = s_meter.CreateCounter<long>(
        "fastchat.transport.frames.received", "{frame}", "Frames read by framed connections.");

    public static readonly Counter<long> FramesSent = s_meter.CreateCounter<long>(
        "fastchat.transport.frames.sent", "{frame}", "Frames written and flushed by framed connections.");

    public static readonly Counter<long> TlsHandshakeFailures = s_meter.CreateCounter<long>(
        "fastchat.transport.tls.handshake_failures", "{handshake}", "TLS handshakes that failed or timed out.");

    public static void RecordClosed(CloseReason reason)
    {
        int index = (int)reason;
        if ((uint)index < (uint)s_closeReasonTags.Length)
        {
            ConnectionsClosed.Add(1, s_closeReasonTags[index]);
        }
        else
        {
            ConnectionsClosed.Add(1);
        }
    }

    private static KeyValuePair<string, object?>[] CreateCloseReasonTags()
    {
        CloseReason[] reasons = Enum.GetValues<CloseReason>();
        int max = 0;
        foreach (CloseReason reason in reasons)
        {
            max = Math.Max(max, (int)reason);
        }

        var tags = new KeyValuePair<string, object?>[max + 1];
        for (int i = 0; i < tags.Length; i++)
        {
            tags[i] = new KeyValuePair<string, object?>("fastchat.close_reason", ((CloseReason)i).ToString());
        }

        return tags;
    }
}
