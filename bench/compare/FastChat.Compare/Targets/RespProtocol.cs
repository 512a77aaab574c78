using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using FastChat.Compare.Raw;

namespace FastChat.Compare.Targets;

/// <summary>The type of a RESP value.</summary>
internal enum RespType
{
    /// <summary><c>+text</c>.</summary>
    SimpleString,

    /// <summary><c>-text</c>.</summary>
    Error,

    /// <summary><c>:number</c>.</summary>
    Integer,

    /// <summary><c>$length</c> and the bytes (<see cref="RespValue.IsNull"/> for <c>$-1</c>).</summary>
    BulkString,

    /// <summary><c>*count</c> (or a RESP3 push, <c>&gt;count</c>) and its elements.</summary>
    Array,
}

/// <summary>One non-array RESP value; the bytes borrow the receive buffer.</summary>
internal readonly ref struct RespValue
{
    /// <summary>A value.</summary>
    public RespValue(RespType type, ReadOnlySpan<byte> bytes, long integer, bool isNull)
    {
        Type = type;
        Bytes = bytes;
        Integer = integer;
        IsNull = isNull;
    }

    /// <summary>The type.</summary>
    public RespType Type { get; }

    /// <summary>The text or bulk bytes.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>The integer (for <see cref="RespType.Integer"/>).</summary>
    public long Integer { get; }

    /// <summary>Whether it is a null bulk string.</summary>
    public bool IsNull { get; }
}

/// <summary>One reply: a plain value, or a flat array of up to <see cref="RespProtocol.MaxArrayLength"/> plain values (what pub/sub pushes are).</summary>
internal readonly ref struct RespReply
{
    /// <summary>A reply.</summary>
    public RespReply(RespValue value, int count, RespValue first, RespValue second, RespValue third, RespValue fourth)
    {
        Value = value;
        Count = count;
        First = first;
        Second = second;
        Third = third;
        Fourth = fourth;
    }

    /// <summary>The value; for an array, its type is <see cref="RespType.Array"/> and the elements follow.</summary>
    public RespValue Value { get; }

    /// <summary>For an array, how many elements.</summary>
    public int Count { get; }

    /// <summary>The first element.</summary>
    public RespValue First { get; }

    /// <summary>The second element.</summary>
    public RespValue Second { get; }

    /// <summary>The third element.</summary>
    public RespValue Third { get; }

    /// <summary>The fourth element.</summary>
    public RespValue Fourth { get; }
}

/// <summary>
/// The client side of RESP (https://redis.io/docs/latest/develop/reference/protocol-spec/) as far as pub/sub goes:
/// a parser for replies (plain values and flat arrays, which is all SUBSCRIBE and PUBLISH ever answer) and writers for
/// SUBSCRIBE and PUBLISH. Nested arrays, maps and the other RESP3 types are refused rather than half-understood.
/// </summary>
internal static class RespProtocol
{
    /// <summary>The longest line (simple string, error, integer, length) accepted.</summary>
    public const int MaxLine = 4096;

    /// <summary>The most elements an array may have here: pmessage, the longest pub/sub push, has four.</summary>
    public const int MaxArrayLength = 4;

    /// <summary>Reads one reply from the front of <paramref name="input"/>; <see langword="false"/> when it holds only part of one.</summary>
    /// <exception cref="InvalidDataException">An unknown type byte, an over-long line, a bad or out-of-range length, a
    /// nested or over-long array, or a bulk string not followed by CRLF.</exception>
    public static bool TryRead(ReadOnlySpan<byte> input, int maxBulkLength, out RespReply reply, out int consumed)
    {
        reply = default;
        consumed = 0;
        if (input.IsEmpty)
        {
            return false;
        }

        if (input[0] is not ((byte)'*' or (byte)'>'))
        {
            if (!TryReadValue(input, maxBulkLength, out RespValue single, out consumed))
            {
                return false;
            }

            reply = new RespReply(single, 0, default, default, default, default);
            return true;
        }

        if (!TryReadLine(input, out ReadOnlySpan<byte> header, out int offset))
        {
            return false;
        }

        long count = ParseLength(header[1..], MaxArrayLength, "array");
        if (count < 0)
        {
            // A null array: no elements.
            reply = new RespReply(new RespValue(RespType.Array, default, 0, isNull: true), 0, default, default, default, default);
            consumed = offset;
            return true;
        }

        RespValue first = default, second = default, third = default, fourth = default;
        for (int i = 0; i < count; i++)
        {
            if (offset < input.Length && input[offset] is (byte)'*' or (byte)'>' or (byte)'%' or (byte)'~')
            {
                Throw("A nested RESP aggregate is not something pub/sub replies contain.");
            }

            if (!TryReadValue(input[offset..], maxBulkLength, out RespValue element, out int used))
            {
                return false;
            }

            offset += used;
            switch (i)
            {
                case 0: first = element; break;
                case 1: second = element; break;
                case 2: third = element; break;
                default: fourth = element; break;
            }
        }

        reply = new RespReply(new RespValue(RespType.Array, default, count, isNull: false), (int)count, first, second, third, fourth);
        consumed = offset;
        return true;
    }

    /// <summary>Writes <c>SUBSCRIBE channel</c>.</summary>
    /// <exception cref="IOException">The sender can no longer send.</exception>
    public static void WriteSubscribe(BatchingSender sender, ReadOnlySpan<byte> channel)
    {
        Span<byte> span = sender.Begin(32 + channel.Length);
        int written = 0;
        try
        {
            written = WriteArrayHeader(span, 2);
            written += WriteBulk(span[written..], "SUBSCRIBE"u8);
            written += WriteBulk(span[written..], channel);
        }
        finally
        {
            sender.Commit(written);
        }
    }

    /// <summary>Writes <c>PUBLISH channel payload</c>.</summary>
    /// <exception cref="IOException">The sender can no longer send.</exception>
    public static void WritePublish(BatchingSender sender, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        Span<byte> span = sender.Begin(48 + channel.Length + payload.Length);
        int written = 0;
        try
        {
            written = FormatPublish(span, channel, payload);
        }
        finally
        {
            sender.Commit(written);
        }
    }

    /// <summary>Formats <c>PUBLISH channel payload</c> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int FormatPublish(Span<byte> destination, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        int written = WriteArrayHeader(destination, 3);
        written += WriteBulk(destination[written..], "PUBLISH"u8);
        written += WriteBulk(destination[written..], channel);
        written += WriteBulk(destination[written..], payload);
        return written;
    }

    private static int WriteArrayHeader(Span<byte> destination, int count)
    {
        destination[0] = (byte)'*';
        Utf8Formatter.TryFormat(count, destination[1..], out int digits);
        "\r\n"u8.CopyTo(destination[(1 + digits)..]);
        return 1 + digits + 2;
    }

    private static int WriteBulk(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        destination[0] = (byte)'$';
        Utf8Formatter.TryFormat(bytes.Length, destination[1..], out int digits);
        int written = 1 + digits;
        "\r\n"u8.CopyTo(destination[written..]);
        written += 2;
        bytes.CopyTo(destination[written..]);
        written += bytes.Length;
        "\r\n"u8.CopyTo(destination[written..]);
        return written + 2;
    }

    private static bool TryReadValue(ReadOnlySpan<byte> input, int maxBulkLength, out RespValue value, out int consumed)
    {
        value = default;
        consumed = 0;
        if (!TryReadLine(input, out ReadOnlySpan<byte> line, out int afterLine))
        {
            return false;
        }

        ReadOnlySpan<byte> text = line[1..];
        switch (line[0])
        {
            case (byte)'+':
                value = new RespValue(RespType.SimpleString, text, 0, isNull: false);
                break;
            case (byte)'-':
                value = new RespValue(RespType.Error, text, 0, isNull: false);
                break;
            case (byte)':':
                if (!Utf8Parser.TryParse(text, out long integer, out int used) || used != text.Length)
                {
                    Throw($"A RESP integer must be a number, not '{Show(text)}'.");
                }

                value = new RespValue(RespType.Integer, default, integer, isNull: false);
                break;
            case (byte)'$':
                long length = ParseLength(text, maxBulkLength, "bulk string");
                if (length < 0)
                {
                    value = new RespValue(RespType.BulkString, default, 0, isNull: true);
                    break;
                }

                long end = afterLine + length + 2;
                if (input.Length < end)
                {
                    return false;
                }

                if (input[(int)(end - 2)] != (byte)'\r' || input[(int)(end - 1)] != (byte)'\n')
                {
                    Throw("A RESP bulk string is not followed by CRLF: its length does not match its bytes.");
                }

                value = new RespValue(RespType.BulkString, input.Slice(afterLine, (int)length), 0, isNull: false);
                afterLine = (int)end;
                break;
            default:
                Throw($"Unknown RESP type byte 0x{line[0]:x2}.");
                break;
        }

        consumed = afterLine;
        return true;
    }

    private static bool TryReadLine(ReadOnlySpan<byte> input, out ReadOnlySpan<byte> line, out int afterLine)
    {
        int end = input.IndexOf("\r\n"u8);
        if (end < 0 || end > MaxLine)
        {
            if (input.Length > MaxLine + 1 || end > MaxLine)
            {
                Throw($"A RESP line is longer than {MaxLine} bytes.");
            }

            line = default;
            afterLine = 0;
            return false;
        }

        if (end == 0)
        {
            Throw("A RESP line is empty: it has no type byte.");
        }

        line = input[..end];
        afterLine = end + 2;
        return true;
    }

    /// <summary>A length from -1 (null) to <paramref name="max"/>, checked before anything waits for that many bytes.</summary>
    private static long ParseLength(ReadOnlySpan<byte> text, long max, string what)
    {
        if (!Utf8Parser.TryParse(text, out long length, out int used) || used != text.Length || length < -1 || length > max)
        {
            Throw($"A RESP {what} length must be from -1 to {max}, not '{Show(text)}'.");
        }

        return length;
    }

    private static string Show(ReadOnlySpan<byte> text) => Encoding.ASCII.GetString(text[..Math.Min(text.Length, 32)]);

    [DoesNotReturn]
    private static void Throw(string message) => throw new InvalidDataException(message);
}
