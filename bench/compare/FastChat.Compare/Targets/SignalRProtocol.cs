using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using FastChat.Compare.Raw;

namespace FastChat.Compare.Targets;

/// <summary>The hub message types of the SignalR JSON protocol this client meets.</summary>
internal enum HubMessageType
{
    /// <summary>Not a hub message: the handshake response.</summary>
    None = 0,

    /// <summary>A call of a client method (target and arguments).</summary>
    Invocation = 1,

    /// <summary>One item of a stream.</summary>
    StreamItem = 2,

    /// <summary>The result (or error) of an invocation that carried an id.</summary>
    Completion = 3,

    /// <summary>A streaming call.</summary>
    StreamInvocation = 4,

    /// <summary>Stop a stream.</summary>
    CancelInvocation = 5,

    /// <summary>Keep-alive.</summary>
    Ping = 6,

    /// <summary>The server is closing the connection (with an error, perhaps).</summary>
    Close = 7,
}

/// <summary>One parsed hub message; <see cref="Payload"/> lives in the caller's scratch buffer until the next parse.</summary>
internal readonly ref struct HubMessage
{
    /// <summary>A message.</summary>
    public HubMessage(HubMessageType type, bool isMessageTarget, string? target, string? invocationId, string? error, ReadOnlySpan<byte> payload, bool hasPayload)
    {
        Type = type;
        IsMessageTarget = isMessageTarget;
        Target = target;
        InvocationId = invocationId;
        Error = error;
        Payload = payload;
        HasPayload = hasPayload;
    }

    /// <summary>The type.</summary>
    public HubMessageType Type { get; }

    /// <summary>Whether an invocation calls <see cref="SignalRProtocol.MessageTarget"/> (the relayed payloads).</summary>
    public bool IsMessageTarget { get; }

    /// <summary>An invocation's target when it is another method (never allocated for the payload messages).</summary>
    public string? Target { get; }

    /// <summary>A completion's invocation id.</summary>
    public string? InvocationId { get; }

    /// <summary>A completion's or close message's error.</summary>
    public string? Error { get; }

    /// <summary>The first argument, base64-decoded, when it was a string.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Whether <see cref="Payload"/> was present.</summary>
    public bool HasPayload { get; }
}

/// <summary>
/// The client side of the SignalR JSON hub protocol
/// (https://github.com/dotnet/aspnetcore/blob/main/src/SignalR/docs/specs/HubProtocol.md): records ended by 0x1E, the
/// handshake, the invocations the comparison sends (Subscribe with an id, Publish without) and the parse of what the
/// hub sends back. Payloads travel as base64 strings, JSON having no bytes.
/// </summary>
internal static class SignalRProtocol
{
    /// <summary>Ends every record.</summary>
    public const byte RecordSeparator = 0x1e;

    /// <summary>The client method the relay hub calls with each payload.</summary>
    public const string MessageTarget = "m";

    /// <summary>The largest record accepted: a 1 MiB payload as base64 (escaped, at worst) plus the envelope.</summary>
    public const int DefaultMaxRecord = 4 * 1024 * 1024;

    /// <summary>The handshake request: JSON protocol, version 1.</summary>
    public static ReadOnlySpan<byte> Handshake => "{\"protocol\":\"json\",\"version\":1}\u001e"u8;

    /// <summary>The ping message, sent back for each of the server's pings so it never times the connection out.</summary>
    public static ReadOnlySpan<byte> Ping => "{\"type\":6}\u001e"u8;

    /// <summary>Finds the first whole record in <paramref name="input"/>; <see langword="false"/> when none is complete yet.</summary>
    /// <exception cref="InvalidDataException">More than <paramref name="maxRecord"/> bytes without a separator.</exception>
    public static bool TryReadRecord(ReadOnlySpan<byte> input, int maxRecord, out ReadOnlySpan<byte> record, out int consumed)
    {
        int end = input.IndexOf(RecordSeparator);
        if (end < 0 || end > maxRecord)
        {
            if (input.Length > maxRecord)
            {
                Throw($"A SignalR record is longer than {maxRecord} bytes.");
            }

            record = default;
            consumed = 0;
            return false;
        }

        record = input[..end];
        consumed = end + 1;
        return true;
    }

    /// <summary>Reads the handshake response: <see langword="null"/> for success, else the server's error.</summary>
    /// <exception cref="InvalidDataException">The record is not a JSON object.</exception>
    public static string? ParseHandshakeResponse(ReadOnlySpan<byte> record)
    {
        try
        {
            var reader = new Utf8JsonReader(record);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                Throw("The SignalR handshake response is not a JSON object.");
            }

            string? error = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isError = reader.ValueTextEquals("error"u8);
                reader.Read();
                if (isError)
                {
                    error = reader.TokenType == JsonTokenType.String ? reader.GetString() : "(not a string)";
                }
                else
                {
                    reader.Skip();
                }
            }

            return error;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("The SignalR handshake response is not valid JSON: " + ex.Message, ex);
        }
    }

    /// <summary>
    /// Parses one hub message; a string first argument is decoded from base64 into <paramref name="scratch"/>, which
    /// must be at least as long as <paramref name="record"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">Not JSON, not an object, no numeric type, or a first argument that is not valid base64.</exception>
    public static HubMessage Parse(ReadOnlySpan<byte> record, Span<byte> scratch)
    {
        try
        {
            return ParseCore(record, scratch);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("A SignalR message is not valid JSON: " + ex.Message, ex);
        }
        catch (InvalidOperationException ex)
        {
            // Utf8JsonReader's Get* on a token of another type.
            throw new InvalidDataException("A SignalR message has a field of the wrong type: " + ex.Message, ex);
        }
    }

    /// <summary>Writes <c>Subscribe(topic)</c> with an invocation id, so that its completion confirms it.</summary>
    /// <exception cref="IOException">The sender can no longer send.</exception>
    public static void WriteSubscribe(BatchingSender sender, int invocationId, ReadOnlySpan<byte> topic)
    {
        Span<byte> span = sender.Begin(80 + topic.Length);
        int written = 0;
        try
        {
            Append(span, ref written, "{\"type\":1,\"invocationId\":\""u8);
            Utf8Formatter.TryFormat(invocationId, span[written..], out int digits);
            written += digits;
            Append(span, ref written, "\",\"target\":\"Subscribe\",\"arguments\":[\""u8);
            Append(span, ref written, topic);
            Append(span, ref written, "\"]}\u001e"u8);
        }
        finally
        {
            sender.Commit(written);
        }
    }

    /// <summary>Writes <c>Publish(topic, base64(payload))</c> as a non-blocking invocation (no id, no completion).</summary>
    /// <exception cref="IOException">The sender can no longer send.</exception>
    public static void WritePublish(BatchingSender sender, ReadOnlySpan<byte> topic, ReadOnlySpan<byte> payload)
    {
        Span<byte> span = sender.Begin(PublishSize(topic.Length, payload.Length));
        int written = 0;
        try
        {
            written = FormatPublish(span, topic, payload);
        }
        finally
        {
            sender.Commit(written);
        }
    }

    /// <summary>The room <see cref="FormatPublish"/> needs.</summary>
    public static int PublishSize(int topicLength, int payloadLength) => 64 + topicLength + Base64.GetMaxEncodedToUtf8Length(payloadLength);

    /// <summary>Formats the Publish invocation into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int FormatPublish(Span<byte> destination, ReadOnlySpan<byte> topic, ReadOnlySpan<byte> payload)
    {
        int written = 0;
        Append(destination, ref written, "{\"type\":1,\"target\":\"Publish\",\"arguments\":[\""u8);
        Append(destination, ref written, topic);
        Append(destination, ref written, "\",\""u8);
        Base64.EncodeToUtf8(payload, destination[written..], out _, out int encoded);
        written += encoded;
        Append(destination, ref written, "\"]}\u001e"u8);
        return written;
    }

    /// <summary>Whether <paramref name="topic"/> can go into JSON as it is (the workloads' names always can).</summary>
    public static bool IsPlainTopic(ReadOnlySpan<byte> topic) =>
        !topic.IsEmpty && topic.IndexOfAnyExcept(PlainTopicBytes) < 0;

    private static readonly SearchValues<byte> PlainTopicBytes =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"u8);

    private static void Append(Span<byte> destination, ref int written, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination[written..]);
        written += bytes.Length;
    }

    private static HubMessage ParseCore(ReadOnlySpan<byte> record, Span<byte> scratch)
    {
        var reader = new Utf8JsonReader(record);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            Throw("A SignalR message is not a JSON object.");
        }

        int type = -1;
        bool isMessageTarget = false;
        string? target = null, invocationId = null, error = null;
        int payloadLength = 0;
        bool hasPayload = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("target"u8))
            {
                reader.Read();
                isMessageTarget = reader.ValueTextEquals(MessageTarget);
                target = isMessageTarget ? null : reader.GetString();
            }
            else if (reader.ValueTextEquals("invocationId"u8))
            {
                reader.Read();
                invocationId = reader.GetString();
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                error = reader.GetString();
            }
            else if (reader.ValueTextEquals("arguments"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    Throw("A SignalR message's arguments are not an array.");
                }

                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    // CopyString unescapes (System.Text.Json escapes '+' in base64, for one), then decode in place.
                    int length = reader.CopyString(scratch);
                    if (Base64.DecodeFromUtf8InPlace(scratch[..length], out payloadLength) != OperationStatus.Done)
                    {
                        Throw("A SignalR message's payload is not valid base64.");
                    }

                    hasPayload = true;
                }

                while (reader.TokenType != JsonTokenType.EndArray)
                {
                    reader.Skip();
                    reader.Read();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject)
        {
            Throw("A SignalR message is not a flat JSON object.");
        }

        if (type < 0)
        {
            Throw("A SignalR message has no type.");
        }

        return new HubMessage((HubMessageType)type, isMessageTarget, target, invocationId, error, scratch[..payloadLength], hasPayload);
    }

    [DoesNotReturn]
    private static void Throw(string message) => throw new InvalidDataException(message);
}
