using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace FastChat.Protocol.Messages;

/// <summary>
/// A 16-byte message (or file) id, chosen by the sending client. On the wire it is a MessagePack bin of
/// exactly 16 bytes.
/// </summary>
/// <remarks>
/// A plain value: equality, hashing and formatting into a caller's buffer allocate nothing. The text form is
/// 32 lowercase hexadecimal digits, the bytes in wire order.
/// </remarks>
public readonly struct MessageId : IEquatable<MessageId>, ISpanFormattable, ISpanParsable<MessageId>
{
    /// <summary>The size of an id in bytes.</summary>
    public const int Size = 16;

    /// <summary>The length of the text form in characters.</summary>
    public const int FormattedLength = Size * 2;

    // The 16 bytes as two big-endian halves, so that comparing and hashing are two 64-bit operations.
    private readonly ulong _high;
    private readonly ulong _low;

    /// <summary>Creates an id from its 16 bytes.</summary>
    /// <param name="bytes">Exactly <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not 16 bytes long.</exception>
    public MessageId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A message id is {Size} bytes; got {bytes.Length}.", nameof(bytes));
        }

        _high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _low = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
    }

    private MessageId(ulong high, ulong low)
    {
        _high = high;
        _low = low;
    }

    /// <summary>The all-zero id (also <c>default</c>).</summary>
    public static MessageId Empty => default;

    /// <summary>Whether this is the all-zero id.</summary>
    public bool IsEmpty => (_high | _low) == 0;

    /// <summary>Creates a new random id from a cryptographically secure generator.</summary>
    public static MessageId NewId()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        return new MessageId(bytes);
    }

    /// <summary>Compares two ids for equality.</summary>
    public static bool operator ==(MessageId left, MessageId right) => left.Equals(right);

    /// <summary>Compares two ids for inequality.</summary>
    public static bool operator !=(MessageId left, MessageId right) => !left.Equals(right);

    /// <summary>Writes the 16 bytes into <paramref name="destination"/>.</summary>
    /// <returns><see langword="false"/> if <paramref name="destination"/> is shorter than 16 bytes.</returns>
    public bool TryWriteBytes(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
        return true;
    }

    /// <summary>Returns the 16 bytes in a new array.</summary>
    public byte[] ToByteArray()
    {
        byte[] bytes = new byte[Size];
        TryWriteBytes(bytes);
        return bytes;
    }

    /// <inheritdoc/>
    public bool Equals(MessageId other) => _high == other._high && _low == other._low;

    /// <inheritdoc/>
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is MessageId other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_high, _low);

    /// <summary>Returns the id as 32 lowercase hexadecimal digits.</summary>
    public override string ToString() =>
        string.Create(FormattedLength, this, static (chars, id) => id.TryFormat(chars, out _));

    /// <summary>Returns the id as 32 lowercase hexadecimal digits; <paramref name="format"/> and <paramref name="formatProvider"/> are ignored.</summary>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>Writes the id as 32 lowercase hexadecimal digits.</summary>
    /// <returns><see langword="false"/> if <paramref name="destination"/> is shorter than 32 characters.</returns>
    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        if (destination.Length < FormattedLength)
        {
            charsWritten = 0;
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        TryWriteBytes(bytes);
        bool formatted = Convert.TryToHexStringLower(bytes, destination, out charsWritten);
        return formatted;
    }

    /// <summary>Writes the id as 32 lowercase hexadecimal digits; <paramref name="format"/> and <paramref name="provider"/> are ignored.</summary>
    /// <returns><see langword="false"/> if <paramref name="destination"/> is shorter than 32 characters.</returns>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    /// <summary>Parses 32 hexadecimal digits (either case).</summary>
    /// <exception cref="FormatException"><paramref name="text"/> is not 32 hexadecimal digits.</exception>
    public static MessageId Parse(ReadOnlySpan<char> text)
    {
        if (!TryParse(text, out MessageId id))
        {
            throw new FormatException($"A message id is {FormattedLength} hexadecimal digits.");
        }

        return id;
    }

    /// <summary>Parses 32 hexadecimal digits (either case).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException"><paramref name="text"/> is not 32 hexadecimal digits.</exception>
    public static MessageId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(text.AsSpan());
    }

    /// <summary>Parses 32 hexadecimal digits (either case); <paramref name="provider"/> is ignored.</summary>
    /// <exception cref="FormatException"><paramref name="s"/> is not 32 hexadecimal digits.</exception>
    public static MessageId Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    /// <summary>Parses 32 hexadecimal digits (either case); <paramref name="provider"/> is ignored.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="s"/> is <see langword="null"/>.</exception>
    /// <exception cref="FormatException"><paramref name="s"/> is not 32 hexadecimal digits.</exception>
    public static MessageId Parse(string s, IFormatProvider? provider) => Parse(s);

    /// <summary>Tries to parse 32 hexadecimal digits (either case).</summary>
    /// <returns><see langword="false"/> if <paramref name="text"/> is not exactly 32 hexadecimal digits.</returns>
    public static bool TryParse(ReadOnlySpan<char> text, out MessageId id)
    {
        Span<byte> bytes = stackalloc byte[Size];
        if (text.Length != FormattedLength
            || Convert.FromHexString(text, bytes, out _, out int bytesWritten) != System.Buffers.OperationStatus.Done
            || bytesWritten != Size)
        {
            id = default;
            return false;
        }

        id = new MessageId(bytes);
        return true;
    }

    /// <summary>Tries to parse 32 hexadecimal digits (either case).</summary>
    /// <returns><see langword="false"/> if <paramref name="text"/> is <see langword="null"/> or not exactly 32 hexadecimal digits.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out MessageId id) => TryParse(text.AsSpan(), out id);

    /// <summary>Tries to parse 32 hexadecimal digits (either case); <paramref name="provider"/> is ignored.</summary>
    /// <returns><see langword="false"/> if <paramref name="s"/> is not exactly 32 hexadecimal digits.</returns>
    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out MessageId result) => TryParse(s, out result);

    /// <summary>Tries to parse 32 hexadecimal digits (either case); <paramref name="provider"/> is ignored.</summary>
    /// <returns><see langword="false"/> if <paramref name="s"/> is <see langword="null"/> or not exactly 32 hexadecimal digits.</returns>
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out MessageId result) => TryParse(s.AsSpan(), out result);
}
