using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FastChat.Protocol.MessagePack.Internal;

// The outcome of decoding one token from a span.
internal enum DecodeResult : byte
{
    Success,

    // The token is of another family than the one asked for.
    TokenMismatch,

    // Not even the code byte is there.
    EmptyBuffer,

    // The code is right, but the token (whose full size is reported) does not fit in the span.
    InsufficientBuffer,
}

// One integer as it appeared on the wire: its 64 bits, whether they are to be read as a negative
// two's-complement value, and the code (for overflow messages).
internal readonly struct IntegerToken
{
    public IntegerToken(ulong bits, bool negative, byte code)
    {
        Bits = bits;
        Negative = negative;
        Code = code;
    }

    public ulong Bits { get; }

    public bool Negative { get; }

    public byte Code { get; }
}

// What Skip needs to know about any token: how many bytes follow the token's header, and how many
// child values (array elements, or map keys plus values) follow it.
internal readonly struct StructureHeader
{
    public StructureHeader(long payloadLength, long childCount, bool isContainer)
    {
        PayloadLength = payloadLength;
        ChildCount = childCount;
        IsContainer = isContainer;
    }

    public long PayloadLength { get; }

    public long ChildCount { get; }

    public bool IsContainer { get; }
}

// Span-level decoders. Each reads one token from the start of `source` and reports the token's size.
// On InsufficientBuffer, `tokenSize` is the size the token needs (known from its code alone), which the
// reader uses to copy a token that straddles segments into a stack buffer.
internal static class MessagePackPrimitives
{
    // The longest token any decoder here reads in one go: uint64/int64/float64 (9 bytes).
    public const int MaxTokenSize = 9;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryReadNil(ReadOnlySpan<byte> source, out int tokenSize)
    {
        tokenSize = 1;
        if (source.IsEmpty)
        {
            return DecodeResult.EmptyBuffer;
        }

        return source[0] == MessagePackCode.Nil ? DecodeResult.Success : DecodeResult.TokenMismatch;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryReadBoolean(ReadOnlySpan<byte> source, out bool value, out int tokenSize)
    {
        tokenSize = 1;
        value = false;
        if (source.IsEmpty)
        {
            return DecodeResult.EmptyBuffer;
        }

        switch (source[0])
        {
            case MessagePackCode.True:
                value = true;
                return DecodeResult.Success;
            case MessagePackCode.False:
                return DecodeResult.Success;
            default:
                return DecodeResult.TokenMismatch;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryReadInteger(ReadOnlySpan<byte> source, out IntegerToken value, out int tokenSize)
    {
        if (source.IsEmpty)
        {
            value = default;
            tokenSize = 1;
            return DecodeResult.EmptyBuffer;
        }

        byte code = source[0];
        if (code <= MessagePackCode.MaxFixInt)
        {
            value = new IntegerToken(code, false, code);
            tokenSize = 1;
            return DecodeResult.Success;
        }

        if (code >= MessagePackCode.MinNegativeFixInt)
        {
            value = new IntegerToken((ulong)(long)(sbyte)code, true, code);
            tokenSize = 1;
            return DecodeResult.Success;
        }

        return TryReadIntegerMultiByte(source, code, out value, out tokenSize);
    }

    public static DecodeResult TryReadSingle(ReadOnlySpan<byte> source, out float value, out int tokenSize)
    {
        if (!source.IsEmpty && source[0] == MessagePackCode.Float32)
        {
            tokenSize = 5;
            if (source.Length < 5)
            {
                value = 0;
                return DecodeResult.InsufficientBuffer;
            }

            value = BinaryPrimitives.ReadSingleBigEndian(source[1..]);
            return DecodeResult.Success;
        }

        DecodeResult result = TryReadInteger(source, out IntegerToken integer, out tokenSize);
        value = integer.Negative ? (long)integer.Bits : integer.Bits;
        return result;
    }

    public static DecodeResult TryReadDouble(ReadOnlySpan<byte> source, out double value, out int tokenSize)
    {
        if (!source.IsEmpty)
        {
            switch (source[0])
            {
                case MessagePackCode.Float64:
                    tokenSize = 9;
                    if (source.Length < 9)
                    {
                        value = 0;
                        return DecodeResult.InsufficientBuffer;
                    }

                    value = BinaryPrimitives.ReadDoubleBigEndian(source[1..]);
                    return DecodeResult.Success;
                case MessagePackCode.Float32:
                    tokenSize = 5;
                    if (source.Length < 5)
                    {
                        value = 0;
                        return DecodeResult.InsufficientBuffer;
                    }

                    value = BinaryPrimitives.ReadSingleBigEndian(source[1..]);
                    return DecodeResult.Success;
            }
        }

        DecodeResult result = TryReadInteger(source, out IntegerToken integer, out tokenSize);
        value = integer.Negative ? (long)integer.Bits : integer.Bits;
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryReadStringHeader(ReadOnlySpan<byte> source, out uint length, out int tokenSize)
    {
        if (source.IsEmpty)
        {
            length = 0;
            tokenSize = 1;
            return DecodeResult.EmptyBuffer;
        }

        byte code = source[0];
        if (code is >= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr)
        {
            length = code & 0x1fu;
            tokenSize = 1;
            return DecodeResult.Success;
        }

        return code switch
        {
            MessagePackCode.Str8 => TryReadLength8(source, out length, out tokenSize),
            MessagePackCode.Str16 => TryReadLength16(source, out length, out tokenSize),
            MessagePackCode.Str32 => TryReadLength32(source, out length, out tokenSize),
            _ => Mismatch(out length, out tokenSize),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryReadBinHeader(ReadOnlySpan<byte> source, out uint length, out int tokenSize)
    {
        if (source.IsEmpty)
        {
            length = 0;
            tokenSize = 1;
            return DecodeResult.EmptyBuffer;
        }

        return source[0] switch
        {
            MessagePackCode.Bin8 => TryReadLength8(source, out length, out tokenSize),
            MessagePackCode.Bin16 => TryReadLength16(source, out length, out tokenSize),
            MessagePackCode.Bin32 => TryReadLength32(source, out length, out tokenSize),
            _ => Mismatch(out length, out tokenSize),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryReadArrayHeader(ReadOnlySpan<byte> source, out uint count, out int tokenSize)
    {
        if (source.IsEmpty)
        {
            count = 0;
            tokenSize = 1;
            return DecodeResult.EmptyBuffer;
        }

        byte code = source[0];
        if (code is >= MessagePackCode.MinFixArray and <= MessagePackCode.MaxFixArray)
        {
            count = code & 0x0fu;
            tokenSize = 1;
            return DecodeResult.Success;
        }

        return code switch
        {
            MessagePackCode.Array16 => TryReadLength16(source, out count, out tokenSize),
            MessagePackCode.Array32 => TryReadLength32(source, out count, out tokenSize),
            _ => Mismatch(out count, out tokenSize),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryReadMapHeader(ReadOnlySpan<byte> source, out uint count, out int tokenSize)
    {
        if (source.IsEmpty)
        {
            count = 0;
            tokenSize = 1;
            return DecodeResult.EmptyBuffer;
        }

        byte code = source[0];
        if (code is >= MessagePackCode.MinFixMap and <= MessagePackCode.MaxFixMap)
        {
            count = code & 0x0fu;
            tokenSize = 1;
            return DecodeResult.Success;
        }

        return code switch
        {
            MessagePackCode.Map16 => TryReadLength16(source, out count, out tokenSize),
            MessagePackCode.Map32 => TryReadLength32(source, out count, out tokenSize),
            _ => Mismatch(out count, out tokenSize),
        };
    }

    public static DecodeResult TryReadExtensionHeader(ReadOnlySpan<byte> source, out ExtensionHeader header, out int tokenSize)
    {
        header = default;
        if (source.IsEmpty)
        {
            tokenSize = 1;
            return DecodeResult.EmptyBuffer;
        }

        uint length;
        int lengthSize;
        switch (source[0])
        {
            case MessagePackCode.FixExt1:
                (length, lengthSize) = (1, 0);
                break;
            case MessagePackCode.FixExt2:
                (length, lengthSize) = (2, 0);
                break;
            case MessagePackCode.FixExt4:
                (length, lengthSize) = (4, 0);
                break;
            case MessagePackCode.FixExt8:
                (length, lengthSize) = (8, 0);
                break;
            case MessagePackCode.FixExt16:
                (length, lengthSize) = (16, 0);
                break;
            case MessagePackCode.Ext8:
                (length, lengthSize) = (0, 1);
                break;
            case MessagePackCode.Ext16:
                (length, lengthSize) = (0, 2);
                break;
            case MessagePackCode.Ext32:
                (length, lengthSize) = (0, 4);
                break;
            default:
                tokenSize = 1;
                return DecodeResult.TokenMismatch;
        }

        // code, length (ext 8/16/32 only), type.
        tokenSize = 1 + lengthSize + 1;
        if (source.Length < tokenSize)
        {
            return DecodeResult.InsufficientBuffer;
        }

        length = lengthSize switch
        {
            0 => length,
            1 => source[1],
            2 => BinaryPrimitives.ReadUInt16BigEndian(source[1..]),
            _ => BinaryPrimitives.ReadUInt32BigEndian(source[1..]),
        };
        header = new ExtensionHeader((sbyte)source[tokenSize - 1], length);
        return DecodeResult.Success;
    }

    // Decodes the header of any token for Skip. Scalars report their whole size as the token size.
    public static DecodeResult TryReadStructureHeader(ReadOnlySpan<byte> source, out StructureHeader header, out int tokenSize)
    {
        header = default;
        if (source.IsEmpty)
        {
            tokenSize = 1;
            return DecodeResult.EmptyBuffer;
        }

        byte code = source[0];
        uint value;
        DecodeResult result;
        switch (MessagePackCode.ToMessagePackType(code))
        {
            case MessagePackType.Integer:
                return TryReadInteger(source, out _, out tokenSize);
            case MessagePackType.Nil:
            case MessagePackType.Boolean:
                tokenSize = 1;
                return DecodeResult.Success;
            case MessagePackType.Float:
                tokenSize = code == MessagePackCode.Float32 ? 5 : 9;
                return source.Length < tokenSize ? DecodeResult.InsufficientBuffer : DecodeResult.Success;
            case MessagePackType.String:
                result = TryReadStringHeader(source, out value, out tokenSize);
                header = new StructureHeader(value, 0, false);
                return result;
            case MessagePackType.Binary:
                result = TryReadBinHeader(source, out value, out tokenSize);
                header = new StructureHeader(value, 0, false);
                return result;
            case MessagePackType.Extension:
                result = TryReadExtensionHeader(source, out ExtensionHeader extension, out tokenSize);
                header = new StructureHeader(extension.Length, 0, false);
                return result;
            case MessagePackType.Array:
                result = TryReadArrayHeader(source, out value, out tokenSize);
                header = new StructureHeader(0, value, true);
                return result;
            case MessagePackType.Map:
                result = TryReadMapHeader(source, out value, out tokenSize);
                header = new StructureHeader(0, 2L * value, true);
                return result;
            default:
                tokenSize = 1;
                return DecodeResult.TokenMismatch;
        }
    }

    private static DecodeResult TryReadIntegerMultiByte(ReadOnlySpan<byte> source, byte code, out IntegerToken value, out int tokenSize)
    {
        value = default;
        switch (code)
        {
            case MessagePackCode.UInt8:
                tokenSize = 2;
                if (source.Length < 2)
                {
                    return DecodeResult.InsufficientBuffer;
                }

                value = new IntegerToken(source[1], false, code);
                return DecodeResult.Success;
            case MessagePackCode.UInt16:
                tokenSize = 3;
                if (source.Length < 3)
                {
                    return DecodeResult.InsufficientBuffer;
                }

                value = new IntegerToken(BinaryPrimitives.ReadUInt16BigEndian(source[1..]), false, code);
                return DecodeResult.Success;
            case MessagePackCode.UInt32:
                tokenSize = 5;
                if (source.Length < 5)
                {
                    return DecodeResult.InsufficientBuffer;
                }

                value = new IntegerToken(BinaryPrimitives.ReadUInt32BigEndian(source[1..]), false, code);
                return DecodeResult.Success;
            case MessagePackCode.UInt64:
                tokenSize = 9;
                if (source.Length < 9)
                {
                    return DecodeResult.InsufficientBuffer;
                }

                value = new IntegerToken(BinaryPrimitives.ReadUInt64BigEndian(source[1..]), false, code);
                return DecodeResult.Success;
            case MessagePackCode.Int8:
                tokenSize = 2;
                if (source.Length < 2)
                {
                    return DecodeResult.InsufficientBuffer;
                }

                value = Signed((sbyte)source[1], code);
                return DecodeResult.Success;
            case MessagePackCode.Int16:
                tokenSize = 3;
                if (source.Length < 3)
                {
                    return DecodeResult.InsufficientBuffer;
                }

                value = Signed(BinaryPrimitives.ReadInt16BigEndian(source[1..]), code);
                return DecodeResult.Success;
            case MessagePackCode.Int32:
                tokenSize = 5;
                if (source.Length < 5)
                {
                    return DecodeResult.InsufficientBuffer;
                }

                value = Signed(BinaryPrimitives.ReadInt32BigEndian(source[1..]), code);
                return DecodeResult.Success;
            case MessagePackCode.Int64:
                tokenSize = 9;
                if (source.Length < 9)
                {
                    return DecodeResult.InsufficientBuffer;
                }

                value = Signed(BinaryPrimitives.ReadInt64BigEndian(source[1..]), code);
                return DecodeResult.Success;
            default:
                tokenSize = 1;
                return DecodeResult.TokenMismatch;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static IntegerToken Signed(long value, byte code) => new((ulong)value, value < 0, code);

    private static DecodeResult TryReadLength8(ReadOnlySpan<byte> source, out uint length, out int tokenSize)
    {
        tokenSize = 2;
        if (source.Length < 2)
        {
            length = 0;
            return DecodeResult.InsufficientBuffer;
        }

        length = source[1];
        return DecodeResult.Success;
    }

    private static DecodeResult TryReadLength16(ReadOnlySpan<byte> source, out uint length, out int tokenSize)
    {
        tokenSize = 3;
        if (source.Length < 3)
        {
            length = 0;
            return DecodeResult.InsufficientBuffer;
        }

        length = BinaryPrimitives.ReadUInt16BigEndian(source[1..]);
        return DecodeResult.Success;
    }

    private static DecodeResult TryReadLength32(ReadOnlySpan<byte> source, out uint length, out int tokenSize)
    {
        tokenSize = 5;
        if (source.Length < 5)
        {
            length = 0;
            return DecodeResult.InsufficientBuffer;
        }

        length = BinaryPrimitives.ReadUInt32BigEndian(source[1..]);
        return DecodeResult.Success;
    }

    private static DecodeResult Mismatch(out uint length, out int tokenSize)
    {
        length = 0;
        tokenSize = 1;
        return DecodeResult.TokenMismatch;
    }
}
