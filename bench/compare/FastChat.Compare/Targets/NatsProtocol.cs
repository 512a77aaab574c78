using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using FastChat.Compare.Raw;

namespace FastChat.Compare.Targets;

/// <summary>A server-to-client operation of the NATS text protocol.</summary>
internal enum NatsOperation
{
    /// <summary><c>INFO {json}</c>: the server's description (first thing on a connection).</summary>
    Info,

    /// <summary><c>MSG subject sid [reply-to] bytes</c> and the payload.</summary>
    Msg,

    /// <summary><c>PING</c>: answer with PONG.</summary>
    Ping,

    /// <summary><c>PONG</c>: the answer to our PING, so everything sent before it was processed.</summary>
    Pong,

    /// <summary><c>+OK</c> (verbose mode only).</summary>
    Ok,

    /// <summary><c>-ERR 'message'</c>.</summary>
    Err,
}

/// <summary>One parsed NATS operation; the spans borrow the receive buffer.</summary>
internal readonly ref struct NatsFrame
{
    /// <summary>A frame.</summary>
    public NatsFrame(NatsOperation operation, ReadOnlySpan<byte> subject, ReadOnlySpan<byte> argument, ReadOnlySpan<byte> payload)
    {
        Operation = operation;
        Subject = subject;
        Argument = argument;
        Payload = payload;
    }

    /// <summary>The operation.</summary>
    public NatsOperation Operation { get; }

    /// <summary>MSG: the subject.</summary>
    public ReadOnlySpan<byte> Subject { get; }

    /// <summary>INFO: the JSON; -ERR: the message; MSG: the subscription id.</summary>
    public ReadOnlySpan<byte> Argument { get; }

    /// <summary>MSG: the payload.</summary>
    public ReadOnlySpan<byte> Payload { get; }
}

/// <summary>
/// The client side of the NATS text protocol (https://docs.nats.io/reference/reference-protocols/nats-protocol):
/// a parser for what the server sends and writers for CONNECT, SUB, PUB, PING and PONG. Only what the comparison
/// needs: no headers (HMSG), no queue groups, no reconnect.
/// </summary>
internal static class NatsProtocol
{
    /// <summary>The longest control line accepted: the server's own default max_control_line.</summary>
    public const int MaxControlLine = 4096;

    /// <summary>
    /// Reads one operation from the front of <paramref name="input"/>; <see langword="false"/> when it holds only part of
    /// one (then <paramref name="consumed"/> is 0).
    /// </summary>
    /// <exception cref="InvalidDataException">An unknown operation, a control line over <see cref="MaxControlLine"/>, a
    /// malformed MSG line, a payload over <paramref name="maxPayload"/> or one not followed by CRLF.</exception>
    public static bool TryRead(ReadOnlySpan<byte> input, int maxPayload, out NatsFrame frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        int lineEnd = input.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            if (input.Length > MaxControlLine)
            {
                Throw($"A NATS control line is longer than {MaxControlLine} bytes.");
            }

            return false;
        }

        if (lineEnd > MaxControlLine)
        {
            Throw($"A NATS control line is longer than {MaxControlLine} bytes.");
        }

        ReadOnlySpan<byte> line = input[..lineEnd];
        int space = line.IndexOfAny((byte)' ', (byte)'\t');
        ReadOnlySpan<byte> op = space < 0 ? line : line[..space];
        ReadOnlySpan<byte> rest = space < 0 ? default : line[(space + 1)..].TrimStart(" \t"u8);
        int afterLine = lineEnd + 2;
        if (Is(op, "MSG"u8))
        {
            return TryReadMsg(input, rest, afterLine, maxPayload, out frame, out consumed);
        }

        NatsOperation operation = op switch
        {
            _ when Is(op, "PING"u8) => NatsOperation.Ping,
            _ when Is(op, "PONG"u8) => NatsOperation.Pong,
            _ when Is(op, "+OK"u8) => NatsOperation.Ok,
            _ when Is(op, "-ERR"u8) => NatsOperation.Err,
            _ when Is(op, "INFO"u8) => NatsOperation.Info,
            _ => ThrowUnknown(op),
        };
        frame = new NatsFrame(operation, default, rest, default);
        consumed = afterLine;
        return true;
    }

    /// <summary>Writes <c>CONNECT</c> (quiet: no +OK, and our own publishes are not echoed) followed by a PING whose PONG confirms it.</summary>
    /// <exception cref="IOException">The sender can no longer send.</exception>
    public static void WriteConnect(BatchingSender sender) =>
        sender.Write("CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false,\"lang\":\"csharp\",\"version\":\"0.1\",\"protocol\":1}\r\nPING\r\n"u8);

    /// <summary>Writes <c>SUB subject sid</c> followed by a PING: its PONG says the subscription is in place.</summary>
    /// <exception cref="IOException">The sender can no longer send.</exception>
    public static void WriteSubscribe(BatchingSender sender, ReadOnlySpan<byte> subject, int sid)
    {
        Span<byte> span = sender.Begin(4 + subject.Length + 1 + 11 + 2 + 6);
        int written = 0;
        try
        {
            "SUB "u8.CopyTo(span);
            written = 4;
            subject.CopyTo(span[written..]);
            written += subject.Length;
            span[written++] = (byte)' ';
            Utf8Formatter.TryFormat(sid, span[written..], out int digits);
            written += digits;
            "\r\nPING\r\n"u8.CopyTo(span[written..]);
            written += 8;
        }
        finally
        {
            sender.Commit(written);
        }
    }

    /// <summary>Writes <c>PUB subject bytes</c> and the payload.</summary>
    /// <exception cref="IOException">The sender can no longer send.</exception>
    public static void WritePublish(BatchingSender sender, ReadOnlySpan<byte> subject, ReadOnlySpan<byte> payload)
    {
        Span<byte> span = sender.Begin(4 + subject.Length + 1 + 11 + 2 + payload.Length + 2);
        int written = 0;
        try
        {
            written = FormatPublish(span, subject, payload);
        }
        finally
        {
            sender.Commit(written);
        }
    }

    /// <summary>Formats <c>PUB subject bytes\r\npayload\r\n</c> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int FormatPublish(Span<byte> destination, ReadOnlySpan<byte> subject, ReadOnlySpan<byte> payload)
    {
        "PUB "u8.CopyTo(destination);
        int written = 4;
        subject.CopyTo(destination[written..]);
        written += subject.Length;
        destination[written++] = (byte)' ';
        Utf8Formatter.TryFormat(payload.Length, destination[written..], out int digits);
        written += digits;
        "\r\n"u8.CopyTo(destination[written..]);
        written += 2;
        payload.CopyTo(destination[written..]);
        written += payload.Length;
        "\r\n"u8.CopyTo(destination[written..]);
        return written + 2;
    }

    private static bool TryReadMsg(ReadOnlySpan<byte> input, ReadOnlySpan<byte> arguments, int afterLine, int maxPayload, out NatsFrame frame, out int consumed)
    {
        frame = default;
        consumed = 0;

        // MSG <subject> <sid> [reply-to] <#bytes>: three or four fields, the last the payload size.
        Span<Range> fields = stackalloc Range[5];
        int count = Split(arguments, fields);
        if (count is not (3 or 4))
        {
            Throw($"A NATS MSG line has {count} fields, not 3 or 4: '{Encoding.ASCII.GetString(arguments)}'.");
        }

        ReadOnlySpan<byte> size = arguments[fields[count - 1]];
        long length = -1;
        if (size.Length is 0 or > 10 || size.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0
            || !Utf8Parser.TryParse(size, out length, out _) || length > maxPayload)
        {
            // Checked before waiting for the payload: a hostile size must not make the reader buffer gigabytes.
            Throw($"A NATS MSG payload size must be a number of bytes from 0 to {maxPayload}, not '{Encoding.ASCII.GetString(size)}'.");
        }

        long end = afterLine + length + 2;
        if (input.Length < end)
        {
            return false;
        }

        if (input[(int)(end - 2)] != (byte)'\r' || input[(int)(end - 1)] != (byte)'\n')
        {
            Throw("A NATS MSG payload is not followed by CRLF: its size does not match its bytes.");
        }

        frame = new NatsFrame(NatsOperation.Msg, arguments[fields[0]], arguments[fields[1]], input.Slice(afterLine, (int)length));
        consumed = (int)end;
        return true;
    }

    /// <summary>Splits on runs of spaces and tabs; returns the field count (up to the room in <paramref name="fields"/>, plus one if there are more).</summary>
    private static int Split(ReadOnlySpan<byte> text, Span<Range> fields)
    {
        int count = 0;
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && text[i] is (byte)' ' or (byte)'\t')
            {
                i++;
            }

            if (i == text.Length)
            {
                break;
            }

            int start = i;
            while (i < text.Length && text[i] is not ((byte)' ' or (byte)'\t'))
            {
                i++;
            }

            if (count == fields.Length)
            {
                return count + 1;
            }

            fields[count++] = new Range(start, i);
        }

        return count;
    }

    /// <summary>Operation names are case-insensitive.</summary>
    private static bool Is(ReadOnlySpan<byte> op, ReadOnlySpan<byte> name) => Ascii.EqualsIgnoreCase(op, name);

    [DoesNotReturn]
    private static NatsOperation ThrowUnknown(ReadOnlySpan<byte> op) =>
        throw new InvalidDataException($"Unknown NATS operation '{Encoding.ASCII.GetString(op[..Math.Min(op.Length, 32)])}'.");

    [DoesNotReturn]
    private static void Throw(string message) => throw new InvalidDataException(message);
}
