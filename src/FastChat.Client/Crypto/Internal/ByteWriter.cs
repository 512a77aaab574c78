using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto.Internal;

/// <summary>
/// Writes the big-endian fields of FastChat's crypto formats (transcripts, associated data, payloads) into a span the
/// caller sized with <see cref="StringSize"/> and the fixed field sizes.
/// </summary>
/// <remarks>
/// A string is always written as <c>str(x)</c>: a 2-byte big-endian byte count, then the UTF-8 bytes. The prefix
/// keeps concatenations unambiguous ("ab" + "c" never encodes like "a" + "bc").
/// </remarks>
internal ref struct ByteWriter
{
    /// <summary>Strict UTF-8: a string with a lone surrogate cannot be encoded (protocol names never have one).</summary>
    public static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Span<byte> _buffer;
    private int _position;

    public ByteWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    /// <summary>How many bytes were written.</summary>
    public readonly int Position => _position;

    /// <summary>The bytes written so far.</summary>
    public readonly Span<byte> Written => _buffer[.._position];

    /// <summary>The encoded size of <c>str(value)</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is not valid UTF-16 or is over 65 535 UTF-8 bytes.</exception>
    public static int StringSize(string value, string paramName)
    {
        int count;
        try
        {
            count = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException($"The {paramName} is not valid Unicode text.", paramName, ex);
        }

        if (count > ushort.MaxValue)
        {
            throw new ArgumentException($"The {paramName} is {count} UTF-8 bytes; at most {ushort.MaxValue} fit a length prefix.", paramName);
        }

        return sizeof(ushort) + count;
    }

    /// <summary>The encoded size of <c>str(label)</c> for an ASCII label.</summary>
    public static int LabelSize(ReadOnlySpan<byte> label) => sizeof(ushort) + label.Length;

    /// <summary>Converts a time to the UTC ticks that formats carry: a local time is converted, an unspecified one is taken as UTC (as the wire protocol does).</summary>
    public static long ToUtcTicks(DateTime time) => time.Kind == DateTimeKind.Local ? time.ToUniversalTime().Ticks : time.Ticks;

    public void WriteByte(byte value) => _buffer[_position++] = value;

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += sizeof(ushort);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer[_position..], value);
        _position += sizeof(int);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += sizeof(uint);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer[_position..], value);
        _position += sizeof(long);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    public void WriteMessageId(MessageId id)
    {
        bool written = id.TryWriteBytes(_buffer[_position..]);
        Debug.Assert(written, "The caller sized the buffer.");
        _position += MessageId.Size;
    }

    /// <summary>Writes <c>str(label)</c> for an ASCII label.</summary>
    public void WriteLabel(ReadOnlySpan<byte> label)
    {
        WriteUInt16((ushort)label.Length);
        WriteBytes(label);
    }

    /// <summary>Writes <c>str(value)</c>; the caller measured it with <see cref="StringSize"/>.</summary>
    public void WriteString(string value)
    {
        int count = StrictUtf8.GetBytes(value, _buffer[(_position + sizeof(ushort))..]);
        WriteUInt16((ushort)count);
        _position += count;
    }
}
