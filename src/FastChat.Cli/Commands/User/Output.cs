using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// What the user commands print: human-readable lines, or with <c>--json</c> one JSON object per line on stdout, each
/// with an <c>"event"</c> field. Errors and warnings go to stderr as sentences prefixed "fastchat: " in both modes.
/// Numbers and times never depend on the machine's culture; times are ISO-8601 UTC.
/// </summary>
internal sealed class Output
{
    // Scripts read this output, not browsers: readable UTF-8 beats escaping every non-ASCII letter of a message.
    private static readonly JsonWriterOptions s_jsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Lock _gate = new();

    public Output(bool json)
        : this(json, Console.Out, Console.Error)
    {
    }

    public Output(bool json, TextWriter standardOutput, TextWriter standardError)
    {
        IsJson = json;
        _out = standardOutput;
        _error = standardError;
    }

    public bool IsJson { get; }

    /// <summary>Prints one result: <paramref name="text"/> in text mode, or <c>{"event":eventName, ...}</c> in JSON mode.</summary>
    public void Write(string eventName, Action<Utf8JsonWriter> fields, string text)
    {
        lock (_gate)
        {
            if (IsJson)
            {
                _out.WriteLine(ToJson(eventName, fields));
            }
            else
            {
                _out.WriteLine(text);
            }
        }
    }

    /// <summary>Prints a line in text mode only (headings, "no messages").</summary>
    public void Text(string text)
    {
        if (!IsJson)
        {
            lock (_gate)
            {
                _out.WriteLine(text);
            }
        }
    }

    /// <summary>
    /// Something the user must notice but that does not fail the command (a rejected message, a changed key): a sentence
    /// on stderr always, and also a JSON object on stdout in JSON mode, so a script reading stdout alone sees it too.
    /// </summary>
    public void Warning(string eventName, Action<Utf8JsonWriter> fields, string sentence)
    {
        lock (_gate)
        {
            _error.WriteLine("fastchat: " + sentence);
            if (IsJson)
            {
                _out.WriteLine(ToJson(eventName, fields));
            }
        }
    }

    /// <summary>Reports a failure: one sentence on stderr.</summary>
    public void Error(string sentence)
    {
        lock (_gate)
        {
            _error.WriteLine("fastchat: " + sentence);
        }
    }

    /// <summary>An instant as ISO-8601 UTC with milliseconds, e.g. <c>2026-03-01T12:00:00.000Z</c>.</summary>
    public static string Time(DateTime time)
    {
        DateTime utc = time.Kind switch
        {
            DateTimeKind.Local => time.ToUniversalTime(),

            // The protocol and the history hand out UTC; an unspecified kind is UTC that lost its label.
            DateTimeKind.Unspecified => DateTime.SpecifyKind(time, DateTimeKind.Utc),
            _ => time,
        };
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>A whole number in the invariant culture.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private string ToJson(string eventName, Action<Utf8JsonWriter> fields)
    {
        _buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_buffer, s_jsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("event", eventName);
            fields(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(_buffer.WrittenSpan);
    }
}
