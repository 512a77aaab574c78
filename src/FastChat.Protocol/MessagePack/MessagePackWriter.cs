using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using FastChat.Protocol.MessagePack.Internal;

namespace FastChat.Protocol.MessagePack;

/// <summary>
/// Writes MessagePack (<see href="https://github.com/msgpack/msgpack/blob/master/spec.md">spec.md</see>) into an
/// <see cref="IBufferWriter{T}"/> without allocating. The API mirrors MessagePack-CSharp's <c>MessagePackWriter</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Call <see cref="Flush"/> when done.</b> The writer caches the span it last obtained from the destination and
/// reports written bytes to <see cref="IBufferWriter{T}.Advance(int)"/> only when that span runs out or on
/// <see cref="Flush"/>; until then the destination does not know about them.
/// </para>
/// <para>
/// Integers are written in the smallest format that holds their value: non-negative values as positive fixint
/// or uint 8/16/32/64, negative values as negative fixint or int 8/16/32/64, whatever the declared C# type.
/// The <c>WriteInt8</c>...<c>WriteUInt64</c> methods force one format instead. Strings, binary data, arrays, maps and
/// extensions likewise get the smallest header for their length.
/// </para>
/// <para>
/// A header asks the destination for its payload's space in the same <c>GetSpan</c> call, so a value usually
/// costs one length check and one copy.
/// </para>
/// </remarks>
public ref struct MessagePackWriter
{
    // The largest header: str 32 / bin 32 (5 bytes) or ext 32 (6 bytes).
    private const int MaxHeaderSize = 6;

    private BufferWriter _writer;

    /// <summary>Creates a writer that writes into <paramref name="writer"/>.</summary>
    /// <param name="writer">The destination.</param>
    /// <exception cref="ArgumentNullException"><paramref name="writer"/> is <see langword="null"/>.</exception>
    public MessagePackWriter(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = new BufferWriter(writer);
    }

    /// <summary>
    /// The total number of bytes written through this writer since it was created, whether or not they have been flushed.
    /// </summary>
    public readonly long BytesWritten => _writer.BytesWritten;

    /// <summary>Reports every byte written so far to the destination's <see cref="IBufferWriter{T}.Advance(int)"/>.</summary>
    /// <remarks>The writer can go on writing afterwards.</remarks>
    public void Flush() => _writer.Commit();

    /// <summary>Gets space to write raw bytes into directly; follow with <see cref="Advance"/>.</summary>
    /// <param name="length">The least number of bytes needed (at least one is returned when 0).</param>
    /// <returns>A span of at least <paramref name="length"/> bytes; valid until the next call on this writer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public Span<byte> GetSpan(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return _writer.GetSpan(Math.Max(length, 1));
    }

    /// <summary>Records that <paramref name="length"/> bytes were written into the span <see cref="GetSpan"/> returned.</summary>
    /// <param name="length">The number of bytes written.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or larger than the span obtained.</exception>
    public void Advance(int length) => _writer.Advance(length);

    /// <summary>Writes nil (<c>0xc0</c>).</summary>
    public void WriteNil()
    {
        Span<byte> span = _writer.GetSpan(1);
        span[0] = MessagePackCode.Nil;
        _writer.Advance(1);
    }

    /// <summary>Writes true (<c>0xc3</c>) or false (<c>0xc2</c>).</summary>
    /// <param name="value">The value.</param>
    public void Write(bool value)
    {
        Span<byte> span = _writer.GetSpan(1);
        span[0] = value ? MessagePackCode.True : MessagePackCode.False;
        _writer.Advance(1);
    }

    /// <summary>Writes an integer in the smallest format that holds it.</summary>
    /// <param name="value">The value.</param>
    public void Write(byte value) => WriteUnsigned(value);

    /// <summary>Writes an integer in the smallest format that holds it.</summary>
    /// <param name="value">The value.</param>
    public void Write(sbyte value) => Write((long)value);

    /// <summary>Writes an integer in the smallest format that holds it.</summary>
    /// <param name="value">The value.</param>
    public void Write(short value) => Write((long)value);

    /// <summary>Writes an integer in the smallest format that holds it.</summary>
    /// <param name="value">The value.</param>
    public void Write(ushort value) => WriteUnsigned(value);

    /// <summary>Writes an integer in the smallest format that holds it.</summary>
    /// <param name="value">The value.</param>
    public void Write(int value) => Write((long)value);

    /// <summary>Writes an integer in the smallest format that holds it.</summary>
    /// <param name="value">The value.</param>
    public void Write(uint value) => WriteUnsigned(value);

    /// <summary>Writes an integer in the smallest format that holds it.</summary>
    /// <param name="value">The value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(long value)
    {
        if (value >= 0)
        {
            WriteUnsigned((ulong)value);
        }
        else
        {
            WriteNegative(value);
        }
    }

    /// <summary>Writes an integer in the smallest format that holds it.</summary>
    /// <param name="value">The value.</param>
    public void Write(ulong value) => WriteUnsigned(value);

    /// <summary>Writes <paramref name="value"/> as uint 8 (<c>0xcc</c>), even where a fixint would do.</summary>
    /// <param name="value">The value.</param>
    public void WriteUInt8(byte value)
    {
        Span<byte> span = _writer.GetSpan(2);
        span[0] = MessagePackCode.UInt8;
        span[1] = value;
        _writer.Advance(2);
    }

    /// <summary>Writes <paramref name="value"/> as uint 16 (<c>0xcd</c>), even where a smaller format would do.</summary>
    /// <param name="value">The value.</param>
    public void WriteUInt16(ushort value)
    {
        Span<byte> span = _writer.GetSpan(3);
        span[0] = MessagePackCode.UInt16;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], value);
        _writer.Advance(3);
    }

    /// <summary>Writes <paramref name="value"/> as uint 32 (<c>0xce</c>), even where a smaller format would do.</summary>
    /// <param name="value">The value.</param>
    public void WriteUInt32(uint value)
    {
        Span<byte> span = _writer.GetSpan(5);
        span[0] = MessagePackCode.UInt32;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], value);
        _writer.Advance(5);
    }

    /// <summary>Writes <paramref name="value"/> as uint 64 (<c>0xcf</c>), even where a smaller format would do.</summary>
    /// <param name="value">The value.</param>
    public void WriteUInt64(ulong value)
    {
        Span<byte> span = _writer.GetSpan(9);
        span[0] = MessagePackCode.UInt64;
        BinaryPrimitives.WriteUInt64BigEndian(span[1..], value);
        _writer.Advance(9);
    }

    /// <summary>Writes <paramref name="value"/> as int 8 (<c>0xd0</c>), even where a fixint would do.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt8(sbyte value)
    {
        Span<byte> span = _writer.GetSpan(2);
        span[0] = MessagePackCode.Int8;
        span[1] = (byte)value;
        _writer.Advance(2);
    }

    /// <summary>Writes <paramref name="value"/> as int 16 (<c>0xd1</c>), even where a smaller format would do.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt16(short value)
    {
        Span<byte> span = _writer.GetSpan(3);
        span[0] = MessagePackCode.Int16;
        BinaryPrimitives.WriteInt16BigEndian(span[1..], value);
        _writer.Advance(3);
    }

    /// <summary>Writes <paramref name="value"/> as int 32 (<c>0xd2</c>), even where a smaller format would do.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt32(int value)
    {
        Span<byte> span = _writer.GetSpan(5);
        span[0] = MessagePackCode.Int32;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], value);
        _writer.Advance(5);
    }

    /// <summary>Writes <paramref name="value"/> as int 64 (<c>0xd3</c>), even where a smaller format would do.</summary>
    /// <param name="value">The value.</param>
    public void WriteInt64(long value)
    {
        Span<byte> span = _writer.GetSpan(9);
        span[0] = MessagePackCode.Int64;
        BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
        _writer.Advance(9);
    }

    /// <summary>Writes a float 32 (<c>0xca</c>).</summary>
    /// <param name="value">The value; NaN payloads, infinities and negative zero are kept bit for bit.</param>
    public void Write(float value)
    {
        Span<byte> span = _writer.GetSpan(5);
        span[0] = MessagePackCode.Float32;
        BinaryPrimitives.WriteSingleBigEndian(span[1..], value);
        _writer.Advance(5);
    }

    /// <summary>Writes a float 64 (<c>0xcb</c>).</summary>
    /// <param name="value">The value; NaN payloads, infinities and negative zero are kept bit for bit.</param>
    public void Write(double value)
    {
        Span<byte> span = _writer.GetSpan(9);
        span[0] = MessagePackCode.Float64;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        _writer.Advance(9);
    }

    /// <summary>Writes a string as UTF-8 (fixstr, str 8/16/32), or nil for <see langword="null"/>.</summary>
    /// <param name="value">The string. Lone surrogates are encoded as U+FFFD, as <see cref="Encoding.UTF8"/> does.</param>
    public void Write(string? value)
    {
        if (value is null)
        {
            WriteNil();
            return;
        }

        Write(value.AsSpan());
    }

    /// <summary>Writes characters as a UTF-8 string (fixstr, str 8/16/32).</summary>
    /// <param name="value">The characters. Lone surrogates are encoded as U+FFFD, as <see cref="Encoding.UTF8"/> does.</param>
    public void Write(scoped ReadOnlySpan<char> value)
    {
        // Counting first lets the header be written in its final size before the bytes, with no move afterwards;
        // both passes are vectorised for ASCII.
        int byteCount = Encoding.UTF8.GetByteCount(value);
        Span<byte> span = _writer.GetSpan(ReserveHint(byteCount));
        int headerSize = WriteStringHeader(span, (uint)byteCount);
        Encoding.UTF8.GetBytes(value, span[headerSize..]);
        _writer.Advance(headerSize + byteCount);
    }

    /// <summary>Writes already-encoded UTF-8 bytes as a string (fixstr, str 8/16/32).</summary>
    /// <param name="utf8">The string's UTF-8 bytes (not checked).</param>
    public void WriteString(scoped ReadOnlySpan<byte> utf8)
    {
        Span<byte> span = _writer.GetSpan(ReserveHint(utf8.Length));
        int headerSize = WriteStringHeader(span, (uint)utf8.Length);
        WritePayload(span, headerSize, utf8);
    }

    /// <summary>Writes already-encoded UTF-8 bytes from a (possibly multi-segment) sequence as a string.</summary>
    /// <param name="utf8">The string's UTF-8 bytes (not checked).</param>
    /// <exception cref="ArgumentOutOfRangeException">The sequence is 4 GiB or longer.</exception>
    public void WriteString(in ReadOnlySequence<byte> utf8)
    {
        if (utf8.IsSingleSegment)
        {
            WriteString(utf8.FirstSpan);
            return;
        }

        uint length = CheckPayloadLength(utf8.Length);
        Span<byte> span = _writer.GetSpan(ReserveHint(length));
        _writer.Advance(WriteStringHeader(span, length));
        WriteSegments(utf8);
    }

    /// <summary>Writes binary data (bin 8/16/32).</summary>
    /// <param name="src">The bytes.</param>
    public void Write(scoped ReadOnlySpan<byte> src)
    {
        Span<byte> span = _writer.GetSpan(ReserveHint(src.Length));
        int headerSize = WriteBinHeader(span, (uint)src.Length);
        WritePayload(span, headerSize, src);
    }

    /// <summary>Writes binary data (bin 8/16/32) from a (possibly multi-segment) sequence.</summary>
    /// <param name="src">The bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The sequence is 4 GiB or longer.</exception>
    public void Write(in ReadOnlySequence<byte> src)
    {
        if (src.IsSingleSegment)
        {
            Write(src.FirstSpan);
            return;
        }

        uint length = CheckPayloadLength(src.Length);
        Span<byte> span = _writer.GetSpan(ReserveHint(length));
        _writer.Advance(WriteBinHeader(span, length));
        WriteSegments(src);
    }

    /// <summary>Writes only the header of binary data (bin 8/16/32); the caller writes the bytes next (e.g. with <see cref="WriteRaw(ReadOnlySpan{byte})"/>).</summary>
    /// <param name="length">The number of bytes that follow.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public void WriteBinHeader(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Span<byte> span = _writer.GetSpan(ReserveHint(length));
        _writer.Advance(WriteBinHeader(span, (uint)length));
    }

    /// <summary>Writes only the header of a string (fixstr, str 8/16/32); the caller writes the UTF-8 bytes next.</summary>
    /// <param name="byteCount">The number of UTF-8 bytes that follow.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="byteCount"/> is negative.</exception>
    public void WriteStringHeader(int byteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        Span<byte> span = _writer.GetSpan(ReserveHint(byteCount));
        _writer.Advance(WriteStringHeader(span, (uint)byteCount));
    }

    /// <summary>Writes an array header (fixarray, array 16/32); the caller writes that many values next.</summary>
    /// <param name="count">The number of elements.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public void WriteArrayHeader(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteArrayHeader((uint)count);
    }

    /// <summary>Writes an array header (fixarray, array 16/32); the caller writes that many values next.</summary>
    /// <param name="count">The number of elements.</param>
    public void WriteArrayHeader(uint count)
    {
        if (count <= MessagePackRange.MaxFixArrayCount)
        {
            Span<byte> span = _writer.GetSpan(1);
            span[0] = (byte)(MessagePackCode.MinFixArray | count);
            _writer.Advance(1);
        }
        else
        {
            WriteCountHeader(count, MessagePackCode.Array16, MessagePackCode.Array32);
        }
    }

    /// <summary>Writes a map header (fixmap, map 16/32); the caller writes that many key/value pairs next.</summary>
    /// <param name="count">The number of key/value pairs.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public void WriteMapHeader(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        WriteMapHeader((uint)count);
    }

    /// <summary>Writes a map header (fixmap, map 16/32); the caller writes that many key/value pairs next.</summary>
    /// <param name="count">The number of key/value pairs.</param>
    public void WriteMapHeader(uint count)
    {
        if (count <= MessagePackRange.MaxFixMapCount)
        {
            Span<byte> span = _writer.GetSpan(1);
            span[0] = (byte)(MessagePackCode.MinFixMap | count);
            _writer.Advance(1);
        }
        else
        {
            WriteCountHeader(count, MessagePackCode.Map16, MessagePackCode.Map32);
        }
    }

    /// <summary>
    /// Writes an extension header: fixext 1/2/4/8/16 when the length is one of those, otherwise ext 8/16/32.
    /// The caller writes the <see cref="ExtensionHeader.Length"/> bytes of data next.
    /// </summary>
    /// <param name="extensionHeader">The type and data length.</param>
    public void WriteExtensionFormatHeader(ExtensionHeader extensionHeader)
    {
        Span<byte> span = _writer.GetSpan(ReserveHint(extensionHeader.Length));
        _writer.Advance(WriteExtensionHeader(span, extensionHeader));
    }

    /// <summary>Writes an extension: its header (as <see cref="WriteExtensionFormatHeader"/>) and its data.</summary>
    /// <param name="extensionData">The type and data.</param>
    /// <exception cref="ArgumentOutOfRangeException">The data is 4 GiB or longer.</exception>
    public void WriteExtensionFormat(ExtensionResult extensionData)
    {
        ReadOnlySequence<byte> data = extensionData.Data;
        uint length = CheckPayloadLength(data.Length);
        Span<byte> span = _writer.GetSpan(ReserveHint(length));
        int headerSize = WriteExtensionHeader(span, new ExtensionHeader(extensionData.TypeCode, length));
        if (data.IsSingleSegment)
        {
            WritePayload(span, headerSize, data.FirstSpan);
        }
        else
        {
            _writer.Advance(headerSize);
            WriteSegments(data);
        }
    }

    /// <summary>
    /// Writes a timestamp (extension type -1) in the smallest of its forms that holds the value: 32-bit (whole
    /// seconds from 1970 to 2106), 64-bit (with nanoseconds, 1970 to 2514), otherwise 96-bit.
    /// </summary>
    /// <param name="dateTime">
    /// The instant. <see cref="DateTimeKind.Local"/> values are converted to UTC; <see cref="DateTimeKind.Unspecified"/>
    /// values are taken to be UTC already (no conversion), as they usually come from UTC storage.
    /// </param>
    public void Write(DateTime dateTime)
    {
        DateTime utc = dateTime.Kind == DateTimeKind.Local ? dateTime.ToUniversalTime() : dateTime;
        Timestamp.FromDateTime(utc, out long seconds, out uint nanoseconds);
        if ((ulong)seconds >> 34 == 0)
        {
            ulong packed = ((ulong)nanoseconds << 34) | (ulong)seconds;
            if ((packed & 0xffff_ffff_0000_0000UL) == 0)
            {
                // timestamp 32: fixext 4, type -1, uint32 seconds.
                Span<byte> span32 = _writer.GetSpan(6);
                span32[0] = MessagePackCode.FixExt4;
                span32[1] = unchecked((byte)ReservedMessagePackExtensionTypeCode.DateTime);
                BinaryPrimitives.WriteUInt32BigEndian(span32[2..], (uint)packed);
                _writer.Advance(6);
                return;
            }

            // timestamp 64: fixext 8, type -1, 30-bit nanoseconds and 34-bit seconds.
            Span<byte> span64 = _writer.GetSpan(10);
            span64[0] = MessagePackCode.FixExt8;
            span64[1] = unchecked((byte)ReservedMessagePackExtensionTypeCode.DateTime);
            BinaryPrimitives.WriteUInt64BigEndian(span64[2..], packed);
            _writer.Advance(10);
            return;
        }

        // timestamp 96: ext 8 of length 12, type -1, uint32 nanoseconds, int64 seconds.
        Span<byte> span96 = _writer.GetSpan(15);
        span96[0] = MessagePackCode.Ext8;
        span96[1] = 12;
        span96[2] = unchecked((byte)ReservedMessagePackExtensionTypeCode.DateTime);
        BinaryPrimitives.WriteUInt32BigEndian(span96[3..], nanoseconds);
        BinaryPrimitives.WriteInt64BigEndian(span96[7..], seconds);
        _writer.Advance(15);
    }

    /// <summary>Copies bytes that are already MessagePack (or a payload whose header was written) as they are.</summary>
    /// <param name="rawMessagePackBlock">The bytes.</param>
    public void WriteRaw(scoped ReadOnlySpan<byte> rawMessagePackBlock)
    {
        Span<byte> span = _writer.GetSpan(rawMessagePackBlock.Length);
        rawMessagePackBlock.CopyTo(span);
        _writer.Advance(rawMessagePackBlock.Length);
    }

    /// <summary>Copies bytes that are already MessagePack (or a payload whose header was written) as they are.</summary>
    /// <param name="rawMessagePackBlock">The bytes, possibly in several segments.</param>
    public void WriteRaw(in ReadOnlySequence<byte> rawMessagePackBlock)
    {
        if (rawMessagePackBlock.IsSingleSegment)
        {
            WriteRaw(rawMessagePackBlock.FirstSpan);
            return;
        }

        if (rawMessagePackBlock.Length <= int.MaxValue)
        {
            // Ask for the whole block once, so the copies below stay within one span.
            _writer.GetSpan((int)rawMessagePackBlock.Length);
        }

        WriteSegments(rawMessagePackBlock);
    }

    // The space to ask for when a header of up to MaxHeaderSize bytes is followed by `payloadLength` bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReserveHint(long payloadLength) =>
        payloadLength <= int.MaxValue - MaxHeaderSize ? (int)payloadLength + MaxHeaderSize : MaxHeaderSize;

    private static uint CheckPayloadLength(long length)
    {
        if (length > uint.MaxValue)
        {
            ThrowPayloadTooLarge(length);
        }

        return (uint)length;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPayloadTooLarge(long length) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, "MessagePack lengths are at most 4 GiB - 1.");

    private static int WriteStringHeader(Span<byte> span, uint length)
    {
        if (length <= MessagePackRange.MaxFixStringLength)
        {
            span[0] = (byte)(MessagePackCode.MinFixStr | length);
            return 1;
        }

        if (length <= byte.MaxValue)
        {
            span[0] = MessagePackCode.Str8;
            span[1] = (byte)length;
            return 2;
        }

        if (length <= ushort.MaxValue)
        {
            span[0] = MessagePackCode.Str16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)length);
            return 3;
        }

        span[0] = MessagePackCode.Str32;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], length);
        return 5;
    }

    private static int WriteBinHeader(Span<byte> span, uint length)
    {
        if (length <= byte.MaxValue)
        {
            span[0] = MessagePackCode.Bin8;
            span[1] = (byte)length;
            return 2;
        }

        if (length <= ushort.MaxValue)
        {
            span[0] = MessagePackCode.Bin16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)length);
            return 3;
        }

        span[0] = MessagePackCode.Bin32;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], length);
        return 5;
    }

    private static int WriteExtensionHeader(Span<byte> span, ExtensionHeader header)
    {
        uint length = header.Length;
        byte type = unchecked((byte)header.TypeCode);
        byte fixCode = length switch
        {
            1 => MessagePackCode.FixExt1,
            2 => MessagePackCode.FixExt2,
            4 => MessagePackCode.FixExt4,
            8 => MessagePackCode.FixExt8,
            16 => MessagePackCode.FixExt16,
            _ => 0,
        };
        if (fixCode != 0)
        {
            span[0] = fixCode;
            span[1] = type;
            return 2;
        }

        if (length <= byte.MaxValue)
        {
            span[0] = MessagePackCode.Ext8;
            span[1] = (byte)length;
            span[2] = type;
            return 3;
        }

        if (length <= ushort.MaxValue)
        {
            span[0] = MessagePackCode.Ext16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)length);
            span[3] = type;
            return 4;
        }

        span[0] = MessagePackCode.Ext32;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], length);
        span[5] = type;
        return 6;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteUnsigned(ulong value)
    {
        if (value <= MessagePackRange.MaxFixPositiveInt)
        {
            Span<byte> span = _writer.GetSpan(1);
            span[0] = (byte)value;
            _writer.Advance(1);
        }
        else
        {
            WriteUnsignedMultiByte(value);
        }
    }

    private void WriteUnsignedMultiByte(ulong value)
    {
        Span<byte> span = _writer.GetSpan(9);
        int size;
        if (value <= byte.MaxValue)
        {
            span[0] = MessagePackCode.UInt8;
            span[1] = (byte)value;
            size = 2;
        }
        else if (value <= ushort.MaxValue)
        {
            span[0] = MessagePackCode.UInt16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)value);
            size = 3;
        }
        else if (value <= uint.MaxValue)
        {
            span[0] = MessagePackCode.UInt32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value);
            size = 5;
        }
        else
        {
            span[0] = MessagePackCode.UInt64;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], value);
            size = 9;
        }

        _writer.Advance(size);
    }

    private void WriteNegative(long value)
    {
        Span<byte> span = _writer.GetSpan(9);
        int size;
        if (value >= MessagePackRange.MinFixNegativeInt)
        {
            span[0] = unchecked((byte)value);
            size = 1;
        }
        else if (value >= sbyte.MinValue)
        {
            span[0] = MessagePackCode.Int8;
            span[1] = unchecked((byte)value);
            size = 2;
        }
        else if (value >= short.MinValue)
        {
            span[0] = MessagePackCode.Int16;
            BinaryPrimitives.WriteInt16BigEndian(span[1..], (short)value);
            size = 3;
        }
        else if (value >= int.MinValue)
        {
            span[0] = MessagePackCode.Int32;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], (int)value);
            size = 5;
        }
        else
        {
            span[0] = MessagePackCode.Int64;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
            size = 9;
        }

        _writer.Advance(size);
    }

    private void WriteCountHeader(uint count, byte code16, byte code32)
    {
        Span<byte> span = _writer.GetSpan(5);
        if (count <= ushort.MaxValue)
        {
            span[0] = code16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)count);
            _writer.Advance(3);
        }
        else
        {
            span[0] = code32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], count);
            _writer.Advance(5);
        }
    }

    // `span` came from one GetSpan that asked for header and payload together, so the payload normally fits;
    // only a payload too large for one request goes through the chunked copy.
    private void WritePayload(Span<byte> span, int headerSize, scoped ReadOnlySpan<byte> payload)
    {
        if (payload.Length <= span.Length - headerSize)
        {
            payload.CopyTo(span[headerSize..]);
            _writer.Advance(headerSize + payload.Length);
        }
        else
        {
            _writer.Advance(headerSize);
            _writer.Write(payload);
        }
    }

    private void WriteSegments(in ReadOnlySequence<byte> source)
    {
        foreach (ReadOnlyMemory<byte> segment in source)
        {
            _writer.Write(segment.Span);
        }
    }
}
