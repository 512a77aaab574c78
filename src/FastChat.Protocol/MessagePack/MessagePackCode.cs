namespace FastChat.Protocol.MessagePack;

/// <summary>
/// The format bytes ("codes") of the MessagePack specification
/// (<see href="https://github.com/msgpack/msgpack/blob/master/spec.md">spec.md</see>), and what each one means.
/// </summary>
public static class MessagePackCode
{
    /// <summary>The first positive fixint (<c>0x00</c>, the value 0).</summary>
    public const byte MinFixInt = 0x00;

    /// <summary>The last positive fixint (<c>0x7f</c>, the value 127).</summary>
    public const byte MaxFixInt = 0x7f;

    /// <summary>The first fixmap code (<c>0x80</c>, an empty map).</summary>
    public const byte MinFixMap = 0x80;

    /// <summary>The last fixmap code (<c>0x8f</c>, a map of 15 entries).</summary>
    public const byte MaxFixMap = 0x8f;

    /// <summary>The first fixarray code (<c>0x90</c>, an empty array).</summary>
    public const byte MinFixArray = 0x90;

    /// <summary>The last fixarray code (<c>0x9f</c>, an array of 15 elements).</summary>
    public const byte MaxFixArray = 0x9f;

    /// <summary>The first fixstr code (<c>0xa0</c>, an empty string).</summary>
    public const byte MinFixStr = 0xa0;

    /// <summary>The last fixstr code (<c>0xbf</c>, a string of 31 bytes).</summary>
    public const byte MaxFixStr = 0xbf;

    /// <summary>nil (<c>0xc0</c>).</summary>
    public const byte Nil = 0xc0;

    /// <summary>The one code the specification never assigns (<c>0xc1</c>); always malformed input.</summary>
    public const byte NeverUsed = 0xc1;

    /// <summary>false (<c>0xc2</c>).</summary>
    public const byte False = 0xc2;

    /// <summary>true (<c>0xc3</c>).</summary>
    public const byte True = 0xc3;

    /// <summary>bin 8 (<c>0xc4</c>): a 1-byte length, then the bytes.</summary>
    public const byte Bin8 = 0xc4;

    /// <summary>bin 16 (<c>0xc5</c>): a 2-byte big-endian length, then the bytes.</summary>
    public const byte Bin16 = 0xc5;

    /// <summary>bin 32 (<c>0xc6</c>): a 4-byte big-endian length, then the bytes.</summary>
    public const byte Bin32 = 0xc6;

    /// <summary>ext 8 (<c>0xc7</c>): a 1-byte length, the type, then the data.</summary>
    public const byte Ext8 = 0xc7;

    /// <summary>ext 16 (<c>0xc8</c>): a 2-byte big-endian length, the type, then the data.</summary>
    public const byte Ext16 = 0xc8;

    /// <summary>ext 32 (<c>0xc9</c>): a 4-byte big-endian length, the type, then the data.</summary>
    public const byte Ext32 = 0xc9;

    /// <summary>float 32 (<c>0xca</c>): an IEEE 754 single, big-endian.</summary>
    public const byte Float32 = 0xca;

    /// <summary>float 64 (<c>0xcb</c>): an IEEE 754 double, big-endian.</summary>
    public const byte Float64 = 0xcb;

    /// <summary>uint 8 (<c>0xcc</c>).</summary>
    public const byte UInt8 = 0xcc;

    /// <summary>uint 16 (<c>0xcd</c>), big-endian.</summary>
    public const byte UInt16 = 0xcd;

    /// <summary>uint 32 (<c>0xce</c>), big-endian.</summary>
    public const byte UInt32 = 0xce;

    /// <summary>uint 64 (<c>0xcf</c>), big-endian.</summary>
    public const byte UInt64 = 0xcf;

    /// <summary>int 8 (<c>0xd0</c>).</summary>
    public const byte Int8 = 0xd0;

    /// <summary>int 16 (<c>0xd1</c>), big-endian.</summary>
    public const byte Int16 = 0xd1;

    /// <summary>int 32 (<c>0xd2</c>), big-endian.</summary>
    public const byte Int32 = 0xd2;

    /// <summary>int 64 (<c>0xd3</c>), big-endian.</summary>
    public const byte Int64 = 0xd3;

    /// <summary>fixext 1 (<c>0xd4</c>): the type, then 1 byte of data.</summary>
    public const byte FixExt1 = 0xd4;

    /// <summary>fixext 2 (<c>0xd5</c>): the type, then 2 bytes of data.</summary>
    public const byte FixExt2 = 0xd5;

    /// <summary>fixext 4 (<c>0xd6</c>): the type, then 4 bytes of data.</summary>
    public const byte FixExt4 = 0xd6;

    /// <summary>fixext 8 (<c>0xd7</c>): the type, then 8 bytes of data.</summary>
    public const byte FixExt8 = 0xd7;

    /// <summary>fixext 16 (<c>0xd8</c>): the type, then 16 bytes of data.</summary>
    public const byte FixExt16 = 0xd8;

    /// <summary>str 8 (<c>0xd9</c>): a 1-byte length, then UTF-8 bytes.</summary>
    public const byte Str8 = 0xd9;

    /// <summary>str 16 (<c>0xda</c>): a 2-byte big-endian length, then UTF-8 bytes.</summary>
    public const byte Str16 = 0xda;

    /// <summary>str 32 (<c>0xdb</c>): a 4-byte big-endian length, then UTF-8 bytes.</summary>
    public const byte Str32 = 0xdb;

    /// <summary>array 16 (<c>0xdc</c>): a 2-byte big-endian element count.</summary>
    public const byte Array16 = 0xdc;

    /// <summary>array 32 (<c>0xdd</c>): a 4-byte big-endian element count.</summary>
    public const byte Array32 = 0xdd;

    /// <summary>map 16 (<c>0xde</c>): a 2-byte big-endian entry count.</summary>
    public const byte Map16 = 0xde;

    /// <summary>map 32 (<c>0xdf</c>): a 4-byte big-endian entry count.</summary>
    public const byte Map32 = 0xdf;

    /// <summary>The first negative fixint (<c>0xe0</c>, the value -32).</summary>
    public const byte MinNegativeFixInt = 0xe0;

    /// <summary>The last negative fixint (<c>0xff</c>, the value -1).</summary>
    public const byte MaxNegativeFixInt = 0xff;

    /// <summary>Tells which family of values a code starts.</summary>
    /// <param name="code">A format byte.</param>
    /// <returns>The family, or <see cref="MessagePackType.Unknown"/> for <see cref="NeverUsed"/>.</returns>
    public static MessagePackType ToMessagePackType(byte code)
    {
        if (code <= MaxFixInt || code >= MinNegativeFixInt)
        {
            return MessagePackType.Integer;
        }

        if (code <= MaxFixMap)
        {
            return MessagePackType.Map;
        }

        if (code <= MaxFixArray)
        {
            return MessagePackType.Array;
        }

        if (code <= MaxFixStr)
        {
            return MessagePackType.String;
        }

        return code switch
        {
            Nil => MessagePackType.Nil,
            False or True => MessagePackType.Boolean,
            Bin8 or Bin16 or Bin32 => MessagePackType.Binary,
            Ext8 or Ext16 or Ext32 or FixExt1 or FixExt2 or FixExt4 or FixExt8 or FixExt16 => MessagePackType.Extension,
            Float32 or Float64 => MessagePackType.Float,
            UInt8 or UInt16 or UInt32 or UInt64 or Int8 or Int16 or Int32 or Int64 => MessagePackType.Integer,
            Str8 or Str16 or Str32 => MessagePackType.String,
            Array16 or Array32 => MessagePackType.Array,
            Map16 or Map32 => MessagePackType.Map,
            _ => MessagePackType.Unknown,
        };
    }

    /// <summary>Names a code's format the way the specification does (for diagnostics).</summary>
    /// <param name="code">A format byte.</param>
    /// <returns>The format's name, such as <c>"fixarray"</c>, <c>"str8"</c> or <c>"never used"</c>.</returns>
    public static string ToFormatName(byte code)
    {
        if (code <= MaxFixInt)
        {
            return "positive fixint";
        }

        if (code >= MinNegativeFixInt)
        {
            return "negative fixint";
        }

        if (code <= MaxFixMap)
        {
            return "fixmap";
        }

        if (code <= MaxFixArray)
        {
            return "fixarray";
        }

        if (code <= MaxFixStr)
        {
            return "fixstr";
        }

        return code switch
        {
            Nil => "nil",
            NeverUsed => "never used",
            False => "false",
            True => "true",
            Bin8 => "bin8",
            Bin16 => "bin16",
            Bin32 => "bin32",
            Ext8 => "ext8",
            Ext16 => "ext16",
            Ext32 => "ext32",
            Float32 => "float32",
            Float64 => "float64",
            UInt8 => "uint8",
            UInt16 => "uint16",
            UInt32 => "uint32",
            UInt64 => "uint64",
            Int8 => "int8",
            Int16 => "int16",
            Int32 => "int32",
            Int64 => "int64",
            FixExt1 => "fixext1",
            FixExt2 => "fixext2",
            FixExt4 => "fixext4",
            FixExt8 => "fixext8",
            FixExt16 => "fixext16",
            Str8 => "str8",
            Str16 => "str16",
            Str32 => "str32",
            Array16 => "array16",
            Array32 => "array32",
            Map16 => "map16",
            _ => "map32",
        };
    }
}

/// <summary>The value ranges that decide which format the writer picks.</summary>
public static class MessagePackRange
{
    /// <summary>The smallest value a negative fixint holds.</summary>
    public const int MinFixNegativeInt = -32;

    /// <summary>The largest value a negative fixint holds.</summary>
    public const int MaxFixNegativeInt = -1;

    /// <summary>The smallest value a positive fixint holds.</summary>
    public const int MinFixPositiveInt = 0;

    /// <summary>The largest value a positive fixint holds.</summary>
    public const int MaxFixPositiveInt = 127;

    /// <summary>The longest string, in UTF-8 bytes, a fixstr holds.</summary>
    public const int MaxFixStringLength = 31;

    /// <summary>The most entries a fixmap holds.</summary>
    public const int MaxFixMapCount = 15;

    /// <summary>The most elements a fixarray holds.</summary>
    public const int MaxFixArrayCount = 15;
}
