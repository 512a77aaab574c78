using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using FastChat.Protocol.MessagePack.Internal;

namespace FastChat.Protocol.MessagePack;

/// <summary>
/// Reads MessagePack (<see href="https://github.com/msgpack/msgpack/blob/master/spec.md">spec.md</see>) from a
/// <see cref="ReadOnlySequence{T}"/>, token by token, without allocating (except for <see cref="ReadString"/>,
/// whose result is a new string). The API mirrors MessagePack-CSharp's <c>MessagePackReader</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Input is untrusted.</b> Anything wrong with it (truncation, a code of the wrong family, the never-used
/// code <c>0xc1</c>, a length or count larger than the bytes that remain, an integer that does not fit the
/// requested type, nesting deeper than <see cref="MaxDepth"/>) raises <see cref="MessagePackSerializationException"/>
/// and nothing else. Its message names what was expected and what was found. After an exception the reader's
/// position is unspecified; the input is to be discarded.
/// </para>
/// <para>
/// <b>Integers.</b> The integer reads accept every integer encoding (positive and negative fixint, uint 8/16/32/64,
/// int 8/16/32/64) whose <em>value</em> fits the requested type, however wide the encoding; a value that does not
/// fit raises <see cref="MessagePackSerializationException"/>. Float encodings are deliberately <b>not</b> accepted
/// by the integer reads: converting 1.5 to an integer would silently change the value, and FastChat's messages
/// never encode integers as floats, so a float where an integer belongs is a protocol violation.
/// <see cref="ReadSingle"/> accepts float32 and integers; <see cref="ReadDouble"/> accepts float32, float64 and
/// integers.
/// </para>
/// <para>
/// <b>Segments.</b> Multi-segment input works everywhere. Tokens are decoded straight from the current segment
/// when they lie within it; a token that straddles segments is copied (that token alone: at most 9 bytes, 12 for a
/// timestamp's payload) to the
/// stack. Payloads (<see cref="ReadBytes"/>, <see cref="ReadStringSequence"/>, <see cref="ReadExtensionFormat"/>,
/// <see cref="ReadRaw()"/>) are slices of the input, never copies, and live exactly as long as the input.
/// </para>
/// </remarks>
[SkipLocalsInit]
public ref struct MessagePackReader
{
    /// <summary>The default <see cref="MaxDepth"/>.</summary>
    /// <remarks>
    /// FastChat's deepest message nests three levels; 64 leaves ample room for extensions and trailing fields
    /// while keeping the depth stack of <see cref="Skip"/> within 512 bytes of the call stack. MessagePack-CSharp's
    /// untrusted-data default (500) serves arbitrary object graphs, which FastChat does not have.
    /// </remarks>
    public const int DefaultMaxDepth = 64;

    private SequenceReader<byte> _reader;
    private int _maxDepth;

    /// <summary>Creates a reader over a (possibly multi-segment) sequence.</summary>
    /// <param name="sequence">The MessagePack data.</param>
    public MessagePackReader(ReadOnlySequence<byte> sequence)
    {
        _reader = new SequenceReader<byte>(sequence);
        _maxDepth = DefaultMaxDepth;
    }

    /// <summary>Creates a reader over contiguous memory.</summary>
    /// <param name="memory">The MessagePack data.</param>
    public MessagePackReader(ReadOnlyMemory<byte> memory)
        : this(new ReadOnlySequence<byte>(memory))
    {
    }

    /// <summary>
    /// The deepest nesting of arrays and maps that <see cref="Skip"/>, <see cref="TrySkip"/> and
    /// <see cref="ReadRaw()"/> accept; a top-level array is at depth 1. Defaults to <see cref="DefaultMaxDepth"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is negative.</exception>
    public int MaxDepth
    {
        readonly get => _maxDepth;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxDepth = value;
        }
    }

    /// <summary>The whole sequence being read, from its start (not only what remains).</summary>
    public readonly ReadOnlySequence<byte> Sequence => _reader.Sequence;

    /// <summary>The position of the next byte to read.</summary>
    public readonly SequencePosition Position => _reader.Position;

    /// <summary>The number of bytes read so far.</summary>
    public readonly long Consumed => _reader.Consumed;

    /// <summary>Whether every byte has been read.</summary>
    public readonly bool End => _reader.End;

    /// <summary>The number of bytes not yet read.</summary>
    public long Remaining => _reader.Remaining;

    /// <summary>The code of the next token, without reading it.</summary>
    /// <exception cref="MessagePackSerializationException">There is no more data.</exception>
    public byte NextCode
    {
        get
        {
            if (!_reader.TryPeek(out byte code))
            {
                MessagePackThrowHelper.ThrowEndOfData("the next msgpack code");
            }

            return code;
        }
    }

    /// <summary>The family of the next token, without reading it.</summary>
    /// <exception cref="MessagePackSerializationException">There is no more data.</exception>
    public MessagePackType NextMessagePackType => MessagePackCode.ToMessagePackType(NextCode);

    /// <summary>Whether the next token is nil.</summary>
    /// <exception cref="MessagePackSerializationException">There is no more data.</exception>
    public bool IsNil => NextCode == MessagePackCode.Nil;

    /// <summary>A copy of this reader at the same position; reading it leaves this one where it is.</summary>
    /// <returns>The copy.</returns>
    public readonly MessagePackReader CreatePeekReader() => this;

    /// <summary>A reader over other data with this reader's settings (<see cref="MaxDepth"/>).</summary>
    /// <param name="sequence">The data the new reader reads.</param>
    /// <returns>The new reader, at the start of <paramref name="sequence"/>.</returns>
    public readonly MessagePackReader Clone(ReadOnlySequence<byte> sequence) => new(sequence) { _maxDepth = _maxDepth };

    /// <summary>Reads nil if it is next.</summary>
    /// <returns><see langword="true"/> if nil was read; <see langword="false"/> (nothing read) if another token is next.</returns>
    /// <exception cref="MessagePackSerializationException">There is no more data.</exception>
    public bool TryReadNil()
    {
        if (NextCode == MessagePackCode.Nil)
        {
            _reader.Advance(1);
            return true;
        }

        return false;
    }

    /// <summary>Reads nil.</summary>
    /// <exception cref="MessagePackSerializationException">The next token is not nil, or there is no more data.</exception>
    public void ReadNil()
    {
        byte code = NextCode;
        if (code != MessagePackCode.Nil)
        {
            MessagePackThrowHelper.ThrowUnexpectedCode(code, "nil");
        }

        _reader.Advance(1);
    }

    /// <summary>Reads true or false.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">The next token is not a boolean, or the data ends.</exception>
    public bool ReadBoolean() => ReadToken<BooleanDecoder, bool>();

    /// <summary>Reads an integer of any encoding whose value fits a <see cref="byte"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an integer (floats included), its value does not fit, or the data ends.
    /// </exception>
    public byte ReadByte()
    {
        IntegerToken token = ReadToken<IntegerDecoder, IntegerToken>();
        if (token.Negative || token.Bits > byte.MaxValue)
        {
            MessagePackThrowHelper.ThrowIntegerOverflow(token.Code, token.Bits, token.Negative, nameof(Byte));
        }

        return (byte)token.Bits;
    }

    /// <summary>Reads an integer of any encoding whose value fits an <see cref="sbyte"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an integer (floats included), its value does not fit, or the data ends.
    /// </exception>
    public sbyte ReadSByte()
    {
        IntegerToken token = ReadToken<IntegerDecoder, IntegerToken>();
        if (token.Negative ? (long)token.Bits < sbyte.MinValue : token.Bits > (ulong)sbyte.MaxValue)
        {
            MessagePackThrowHelper.ThrowIntegerOverflow(token.Code, token.Bits, token.Negative, nameof(SByte));
        }

        return (sbyte)token.Bits;
    }

    /// <summary>Reads an integer of any encoding whose value fits a <see cref="short"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an integer (floats included), its value does not fit, or the data ends.
    /// </exception>
    public short ReadInt16()
    {
        IntegerToken token = ReadToken<IntegerDecoder, IntegerToken>();
        if (token.Negative ? (long)token.Bits < short.MinValue : token.Bits > (ulong)short.MaxValue)
        {
            MessagePackThrowHelper.ThrowIntegerOverflow(token.Code, token.Bits, token.Negative, nameof(Int16));
        }

        return (short)token.Bits;
    }

    /// <summary>Reads an integer of any encoding whose value fits an <see cref="int"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an integer (floats included), its value does not fit, or the data ends.
    /// </exception>
    public int ReadInt32()
    {
        IntegerToken token = ReadToken<IntegerDecoder, IntegerToken>();
        if (token.Negative ? (long)token.Bits < int.MinValue : token.Bits > int.MaxValue)
        {
            MessagePackThrowHelper.ThrowIntegerOverflow(token.Code, token.Bits, token.Negative, nameof(Int32));
        }

        return (int)token.Bits;
    }

    /// <summary>Reads an integer of any encoding whose value fits a <see cref="long"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an integer (floats included), it is a uint 64 above <see cref="long.MaxValue"/>, or the data ends.
    /// </exception>
    public long ReadInt64()
    {
        IntegerToken token = ReadToken<IntegerDecoder, IntegerToken>();
        if (!token.Negative && token.Bits > long.MaxValue)
        {
            MessagePackThrowHelper.ThrowIntegerOverflow(token.Code, token.Bits, token.Negative, nameof(Int64));
        }

        return (long)token.Bits;
    }

    /// <summary>Reads an integer of any encoding whose value fits a <see cref="ushort"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an integer (floats included), its value does not fit, or the data ends.
    /// </exception>
    public ushort ReadUInt16()
    {
        IntegerToken token = ReadToken<IntegerDecoder, IntegerToken>();
        if (token.Negative || token.Bits > ushort.MaxValue)
        {
            MessagePackThrowHelper.ThrowIntegerOverflow(token.Code, token.Bits, token.Negative, nameof(UInt16));
        }

        return (ushort)token.Bits;
    }

    /// <summary>Reads an integer of any encoding whose value fits a <see cref="uint"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an integer (floats included), its value does not fit, or the data ends.
    /// </exception>
    public uint ReadUInt32()
    {
        IntegerToken token = ReadToken<IntegerDecoder, IntegerToken>();
        if (token.Negative || token.Bits > uint.MaxValue)
        {
            MessagePackThrowHelper.ThrowIntegerOverflow(token.Code, token.Bits, token.Negative, nameof(UInt32));
        }

        return (uint)token.Bits;
    }

    /// <summary>Reads an integer of any encoding whose value fits a <see cref="ulong"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an integer (floats included), it is negative, or the data ends.
    /// </exception>
    public ulong ReadUInt64()
    {
        IntegerToken token = ReadToken<IntegerDecoder, IntegerToken>();
        if (token.Negative)
        {
            MessagePackThrowHelper.ThrowIntegerOverflow(token.Code, token.Bits, token.Negative, nameof(UInt64));
        }

        return token.Bits;
    }

    /// <summary>Reads a float32, or an integer converted to <see cref="float"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is neither a float32 nor an integer (a float64 is refused: it would lose precision), or the data ends.
    /// </exception>
    public float ReadSingle() => ReadToken<SingleDecoder, float>();

    /// <summary>Reads a float32 or float64, or an integer converted to <see cref="double"/>.</summary>
    /// <returns>The value.</returns>
    /// <exception cref="MessagePackSerializationException">The next token is neither a float nor an integer, or the data ends.</exception>
    public double ReadDouble() => ReadToken<DoubleDecoder, double>();

    /// <summary>Reads a string (fixstr, str 8/16/32) and decodes its UTF-8.</summary>
    /// <returns>The string, or <see langword="null"/> for nil.</returns>
    /// <remarks>
    /// Invalid UTF-8 is replaced with U+FFFD rather than rejected, as <see cref="Encoding.UTF8"/> does; read the
    /// raw bytes with <see cref="TryReadStringSpan"/> or <see cref="ReadStringSequence"/> to validate them.
    /// This is the one read that allocates: the string it returns.
    /// </remarks>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is neither a string nor nil, or the string's declared length exceeds the bytes that remain.
    /// </exception>
    public string? ReadString()
    {
        ReadOnlySpan<byte> span = _reader.UnreadSpan;
        if (MessagePackPrimitives.TryReadStringHeader(span, out uint length, out int headerSize) == DecodeResult.Success
            && length <= (uint)(span.Length - headerSize))
        {
            string value = Encoding.UTF8.GetString(span.Slice(headerSize, (int)length));
            _reader.Advance(headerSize + (int)length);
            return value;
        }

        return ReadStringSlow();
    }

    /// <summary>
    /// Reads a string's UTF-8 bytes when they lie in one segment of the input, without copying them.
    /// </summary>
    /// <param name="span">The string's bytes, a view of the input valid as long as the input is.</param>
    /// <returns>
    /// <see langword="true"/> if the string was read; <see langword="false"/>, with nothing read, if the next token
    /// is nil or the string's bytes span segments (then use <see cref="ReadStringSequence"/>).
    /// </returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is neither a string nor nil, or the string's declared length exceeds the bytes that remain.
    /// </exception>
    public bool TryReadStringSpan(out ReadOnlySpan<byte> span)
    {
        ReadOnlySpan<byte> unread = _reader.UnreadSpan;
        if (MessagePackPrimitives.TryReadStringHeader(unread, out uint length, out int headerSize) == DecodeResult.Success
            && length <= (uint)(unread.Length - headerSize))
        {
            span = unread.Slice(headerSize, (int)length);
            _reader.Advance(headerSize + (int)length);
            return true;
        }

        return TryReadStringSpanSlow(out span);
    }

    /// <summary>Reads a string's UTF-8 bytes as a slice of the input, without copying them.</summary>
    /// <returns>The bytes (valid as long as the input is), or <see langword="null"/> for nil.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is neither a string nor nil, or the string's declared length exceeds the bytes that remain.
    /// </exception>
    public ReadOnlySequence<byte>? ReadStringSequence()
    {
        if (TryReadNil())
        {
            return null;
        }

        uint length = ReadToken<StringHeaderDecoder, uint>();
        return ReadPayload(length, "the string");
    }

    /// <summary>Reads binary data (bin 8/16/32) as a slice of the input, without copying it.</summary>
    /// <returns>The bytes (valid as long as the input is), or <see langword="null"/> for nil.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is neither binary data nor nil, or its declared length exceeds the bytes that remain.
    /// </exception>
    public ReadOnlySequence<byte>? ReadBytes()
    {
        if (TryReadNil())
        {
            return null;
        }

        uint length = ReadToken<BinHeaderDecoder, uint>();
        return ReadPayload(length, "the binary data");
    }

    /// <summary>Reads an array header (fixarray, array 16/32).</summary>
    /// <returns>The number of elements that follow.</returns>
    /// <remarks>
    /// The count is checked against the bytes that remain (every element takes at least one byte) before it is
    /// returned, so a caller may size a collection by it without letting a hostile header allocate gigabytes.
    /// </remarks>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an array header, the data ends, or the count exceeds the bytes that remain.
    /// </exception>
    public int ReadArrayHeader()
    {
        uint count = ReadToken<ArrayHeaderDecoder, uint>();
        if (count > (uint)_reader.UnreadSpan.Length)
        {
            CheckCount(count, count, "array");
        }

        return (int)count;
    }

    /// <summary>Reads an array header if all of it is there.</summary>
    /// <param name="count">The number of elements that follow.</param>
    /// <returns><see langword="true"/> if the header was read; <see langword="false"/>, with nothing read, if the data ends within it.</returns>
    /// <remarks>
    /// Unlike <see cref="ReadArrayHeader"/>, the count is not checked against the bytes that remain (the elements
    /// may not have arrived yet): check it before allocating anything by it.
    /// </remarks>
    /// <exception cref="MessagePackSerializationException">The next token is not an array header, or its count exceeds <see cref="int.MaxValue"/>.</exception>
    public bool TryReadArrayHeader(out int count) => TryReadCountHeader<ArrayHeaderDecoder>("array", out count);

    /// <summary>Reads a map header (fixmap, map 16/32).</summary>
    /// <returns>The number of key/value pairs that follow.</returns>
    /// <remarks>
    /// The count is checked against the bytes that remain (every pair takes at least two bytes) before it is returned.
    /// </remarks>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not a map header, the data ends, or the count exceeds what the remaining bytes can hold.
    /// </exception>
    public int ReadMapHeader()
    {
        uint count = ReadToken<MapHeaderDecoder, uint>();
        if (2UL * count > (uint)_reader.UnreadSpan.Length)
        {
            CheckCount(count, 2L * count, "map");
        }

        return (int)count;
    }

    /// <summary>Reads a map header if all of it is there.</summary>
    /// <param name="count">The number of key/value pairs that follow.</param>
    /// <returns><see langword="true"/> if the header was read; <see langword="false"/>, with nothing read, if the data ends within it.</returns>
    /// <remarks>The count is not checked against the bytes that remain: check it before allocating anything by it.</remarks>
    /// <exception cref="MessagePackSerializationException">The next token is not a map header, or its count exceeds <see cref="int.MaxValue"/>.</exception>
    public bool TryReadMapHeader(out int count) => TryReadCountHeader<MapHeaderDecoder>("map", out count);

    /// <summary>Reads an extension header (fixext 1/2/4/8/16, ext 8/16/32).</summary>
    /// <returns>The extension's type and data length; the data follows.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an extension, the data ends, or the declared length exceeds the bytes that remain.
    /// </exception>
    public ExtensionHeader ReadExtensionFormatHeader()
    {
        ExtensionHeader header = ReadToken<ExtensionHeaderDecoder, ExtensionHeader>();
        if (header.Length > (uint)_reader.UnreadSpan.Length && header.Length > _reader.Remaining)
        {
            MessagePackThrowHelper.ThrowTruncated("the extension", header.Length, _reader.Remaining);
        }

        return header;
    }

    /// <summary>Reads an extension header if all of it is there.</summary>
    /// <param name="header">The extension's type and data length.</param>
    /// <returns><see langword="true"/> if the header was read; <see langword="false"/>, with nothing read, if the data ends within it.</returns>
    /// <remarks>The length is not checked against the bytes that remain.</remarks>
    /// <exception cref="MessagePackSerializationException">The next token is not an extension.</exception>
    public bool TryReadExtensionFormatHeader(out ExtensionHeader header)
    {
        DecodeResult result = TryReadToken<ExtensionHeaderDecoder, ExtensionHeader>(out header);
        if (result == DecodeResult.TokenMismatch)
        {
            MessagePackThrowHelper.ThrowUnexpectedCode(NextCode, ExtensionHeaderDecoder.Description);
        }

        return result == DecodeResult.Success;
    }

    /// <summary>Reads an extension: its header and its data, as a slice of the input.</summary>
    /// <returns>The extension; its data is valid as long as the input is.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an extension, the data ends, or the declared length exceeds the bytes that remain.
    /// </exception>
    public ExtensionResult ReadExtensionFormat()
    {
        ExtensionHeader header = ReadExtensionFormatHeader();
        return new ExtensionResult(header.TypeCode, ReadPayload(header.Length, "the extension"));
    }

    /// <summary>Reads a timestamp (extension type -1) in its 32-, 64- or 96-bit form.</summary>
    /// <returns>The instant, with <see cref="DateTimeKind.Utc"/>. Nanoseconds below DateTime's 100 ns resolution are truncated.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The next token is not an extension, not of type -1, not 4, 8 or 12 bytes long, has a nanoseconds field
    /// above 999,999,999, is outside the range of <see cref="DateTime"/>, or the data ends.
    /// </exception>
    public DateTime ReadDateTime()
    {
        ExtensionHeader header = ReadExtensionFormatHeader();
        if (header.TypeCode != ReservedMessagePackExtensionTypeCode.DateTime)
        {
            MessagePackThrowHelper.ThrowUnexpectedExtensionType(header.TypeCode, "a timestamp (type -1)");
        }

        if (header.Length is not (4 or 8 or 12))
        {
            MessagePackThrowHelper.ThrowInvalidTimestamp($"the extension is {header.Length} bytes long; the timestamp forms are 4, 8 or 12");
        }

        int length = (int)header.Length;
        ReadOnlySpan<byte> unread = _reader.UnreadSpan;
        DateTime value;
        if (unread.Length >= length)
        {
            value = Timestamp.ToDateTime(unread[..length]);
        }
        else
        {
            // The payload straddles segments (ReadExtensionFormatHeader checked that it is all there).
            Span<byte> scratch = stackalloc byte[12];
            scratch = scratch[..length];
            _reader.TryCopyTo(scratch);
            value = Timestamp.ToDateTime(scratch);
        }

        _reader.Advance(length);
        return value;
    }

    /// <summary>Reads <paramref name="length"/> bytes as a slice of the input, without interpreting them.</summary>
    /// <param name="length">The number of bytes.</param>
    /// <returns>The bytes, valid as long as the input is.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="MessagePackSerializationException">Fewer than <paramref name="length"/> bytes remain.</exception>
    public ReadOnlySequence<byte> ReadRaw(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length > _reader.Remaining)
        {
            MessagePackThrowHelper.ThrowTruncated("the raw read", length, _reader.Remaining);
        }

        ReadOnlySequence<byte> slice = _reader.Sequence.Slice(_reader.Position, length);
        _reader.Advance(length);
        return slice;
    }

    /// <summary>Reads the next whole value (with everything nested in it) as a slice of the input, without decoding it.</summary>
    /// <returns>The value's encoding, valid as long as the input is.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The value is malformed, truncated, or nested deeper than <see cref="MaxDepth"/>.
    /// </exception>
    public ReadOnlySequence<byte> ReadRaw()
    {
        SequencePosition start = _reader.Position;
        Skip();
        return _reader.Sequence.Slice(start, _reader.Position);
    }

    /// <summary>Skips the next whole value, with everything nested in it.</summary>
    /// <remarks>
    /// Iterative, so hostile nesting cannot overflow the stack; nesting deeper than <see cref="MaxDepth"/> is refused.
    /// </remarks>
    /// <exception cref="MessagePackSerializationException">
    /// The value is malformed, truncated, or nested deeper than <see cref="MaxDepth"/>.
    /// </exception>
    public void Skip()
    {
        if (!TrySkip())
        {
            MessagePackThrowHelper.ThrowEndOfData("the value being skipped");
        }
    }

    /// <summary>Skips the next whole value if all of it is there.</summary>
    /// <returns><see langword="true"/> if it was skipped; <see langword="false"/>, with nothing read, if the data ends within it.</returns>
    /// <exception cref="MessagePackSerializationException">
    /// The value is malformed (the never-used code) or nested deeper than <see cref="MaxDepth"/>.
    /// </exception>
    public bool TrySkip()
    {
        SequenceReader<byte> start = _reader;
        if (TrySkipCore())
        {
            return true;
        }

        _reader = start;
        return false;
    }

    // Reads one token whose kind TDecoder knows, from the current segment when it lies within it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private T ReadToken<TDecoder, T>()
        where TDecoder : struct, ITokenDecoder<T>
    {
        if (TDecoder.TryRead(_reader.UnreadSpan, out T value, out int tokenSize) == DecodeResult.Success)
        {
            _reader.Advance(tokenSize);
            return value;
        }

        return ReadTokenSlow<TDecoder, T>();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private T ReadTokenSlow<TDecoder, T>()
        where TDecoder : struct, ITokenDecoder<T>
    {
        DecodeResult result = TryReadTokenAcrossSegments<TDecoder, T>(out T value);
        if (result != DecodeResult.Success)
        {
            ThrowForResult(result, TDecoder.Description);
        }

        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private DecodeResult TryReadToken<TDecoder, T>(out T value)
        where TDecoder : struct, ITokenDecoder<T>
    {
        DecodeResult result = TDecoder.TryRead(_reader.UnreadSpan, out value, out int tokenSize);
        if (result == DecodeResult.Success)
        {
            _reader.Advance(tokenSize);
            return result;
        }

        return result == DecodeResult.TokenMismatch ? result : TryReadTokenAcrossSegments<TDecoder, T>(out value);
    }

    // The token is not whole in the current segment: copy the next few bytes (at most one token's worth)
    // to the stack and decode from there. Never copies more than MaxTokenSize bytes of the input.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private DecodeResult TryReadTokenAcrossSegments<TDecoder, T>(out T value)
        where TDecoder : struct, ITokenDecoder<T>
    {
        Span<byte> scratch = stackalloc byte[MessagePackPrimitives.MaxTokenSize];
        scratch = scratch[..(int)Math.Min(MessagePackPrimitives.MaxTokenSize, _reader.Remaining)];
        _reader.TryCopyTo(scratch);
        DecodeResult result = TDecoder.TryRead(scratch, out value, out int tokenSize);
        if (result == DecodeResult.Success)
        {
            _reader.Advance(tokenSize);
        }

        return result;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowForResult(DecodeResult result, string what)
    {
        if (result == DecodeResult.TokenMismatch)
        {
            MessagePackThrowHelper.ThrowUnexpectedCode(NextCode, what);
        }

        MessagePackThrowHelper.ThrowEndOfData(what);
    }

    private bool TryReadCountHeader<TDecoder>(string what, out int count)
        where TDecoder : struct, ITokenDecoder<uint>
    {
        DecodeResult result = TryReadToken<TDecoder, uint>(out uint value);
        if (result == DecodeResult.Success)
        {
            if (value > int.MaxValue)
            {
                MessagePackThrowHelper.ThrowLengthTooLarge(what + " header", value);
            }

            count = (int)value;
            return true;
        }

        if (result == DecodeResult.TokenMismatch)
        {
            MessagePackThrowHelper.ThrowUnexpectedCode(NextCode, TDecoder.Description);
        }

        count = 0;
        return false;
    }

    // The slow half of the count check: the current segment alone is too short to prove the count plausible.
    private void CheckCount(uint count, long minimumBytes, string what)
    {
        long remaining = _reader.Remaining;
        if (minimumBytes > remaining)
        {
            MessagePackThrowHelper.ThrowCountExceedsRemaining(what, count, minimumBytes, remaining);
        }

        if (count > int.MaxValue)
        {
            MessagePackThrowHelper.ThrowLengthTooLarge(what + " header", count);
        }
    }

    private ReadOnlySequence<byte> ReadPayload(uint length, string what)
    {
        if (length > (uint)_reader.UnreadSpan.Length && length > _reader.Remaining)
        {
            MessagePackThrowHelper.ThrowTruncated(what, length, _reader.Remaining);
        }

        ReadOnlySequence<byte> slice = _reader.Sequence.Slice(_reader.Position, length);
        _reader.Advance(length);
        return slice;
    }

    private string? ReadStringSlow()
    {
        if (TryReadNil())
        {
            return null;
        }

        uint length = ReadToken<StringHeaderDecoder, uint>();
        ReadOnlySequence<byte> bytes = ReadPayload(length, "the string");
        if (length > int.MaxValue)
        {
            MessagePackThrowHelper.ThrowLengthTooLarge("string", length);
        }

        return bytes.IsSingleSegment ? Encoding.UTF8.GetString(bytes.FirstSpan) : Encoding.UTF8.GetString(bytes);
    }

    private bool TryReadStringSpanSlow(out ReadOnlySpan<byte> span)
    {
        span = default;
        if (IsNil)
        {
            return false;
        }

        SequenceReader<byte> start = _reader;
        uint length = ReadToken<StringHeaderDecoder, uint>();
        if (length > _reader.Remaining)
        {
            MessagePackThrowHelper.ThrowTruncated("the string", length, _reader.Remaining);
        }

        // The header straddled segments but the bytes may still lie in the next one.
        ReadOnlySpan<byte> unread = _reader.UnreadSpan;
        if (length <= (uint)unread.Length)
        {
            span = unread[..(int)length];
            _reader.Advance(length);
            return true;
        }

        _reader = start;
        return false;
    }

    // Skips one value. Returns false if the data ends within it (the caller restores the position).
    private bool TrySkipCore()
    {
        DecodeResult result = TryReadToken<StructureHeaderDecoder, StructureHeader>(out StructureHeader header);
        if (result != DecodeResult.Success)
        {
            if (result == DecodeResult.TokenMismatch)
            {
                MessagePackThrowHelper.ThrowUnexpectedCode(NextCode, StructureHeaderDecoder.Description);
            }

            return false;
        }

        return header.IsContainer ? TrySkipContainer(header.ChildCount) : TryAdvance(header.PayloadLength);
    }

    // Walks the children of a container without recursion. Each stack slot holds how many values an
    // enclosing container still has to go. The stack starts on the call stack and only grows (from the
    // pool) as deep as the input really nests, which MaxDepth bounds: hostile nesting costs neither call
    // stack nor unbounded memory, whatever MaxDepth is set to.
    private bool TrySkipContainer(long childCount)
    {
        // The container just read is at depth 1.
        if (_maxDepth < 1)
        {
            MessagePackThrowHelper.ThrowDepthExceeded(_maxDepth);
        }

        long[]? rented = null;
        Span<long> stack = stackalloc long[DefaultMaxDepth];
        try
        {
            int depth = 1;
            long pending = childCount;
            while (true)
            {
                while (pending == 0)
                {
                    if (depth == 1)
                    {
                        return true;
                    }

                    depth--;
                    pending = stack[depth];
                }

                // Every value takes at least one byte: a count beyond the remaining bytes cannot complete.
                if (pending > _reader.Remaining)
                {
                    return false;
                }

                DecodeResult result = TryReadToken<StructureHeaderDecoder, StructureHeader>(out StructureHeader header);
                if (result != DecodeResult.Success)
                {
                    if (result == DecodeResult.TokenMismatch)
                    {
                        MessagePackThrowHelper.ThrowUnexpectedCode(NextCode, StructureHeaderDecoder.Description);
                    }

                    return false;
                }

                pending--;
                if (!header.IsContainer)
                {
                    if (!TryAdvance(header.PayloadLength))
                    {
                        return false;
                    }

                    continue;
                }

                if (depth >= _maxDepth)
                {
                    MessagePackThrowHelper.ThrowDepthExceeded(_maxDepth);
                }

                if (header.ChildCount != 0)
                {
                    if (depth == stack.Length)
                    {
                        long[] larger = ArrayPool<long>.Shared.Rent(stack.Length * 2);
                        stack.CopyTo(larger);
                        if (rented is not null)
                        {
                            ArrayPool<long>.Shared.Return(rented);
                        }

                        rented = larger;
                        stack = larger;
                    }

                    stack[depth] = pending;
                    depth++;
                    pending = header.ChildCount;
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<long>.Shared.Return(rented);
            }
        }
    }

    private bool TryAdvance(long length)
    {
        if (length > _reader.UnreadSpan.Length && length > _reader.Remaining)
        {
            return false;
        }

        _reader.Advance(length);
        return true;
    }
}
