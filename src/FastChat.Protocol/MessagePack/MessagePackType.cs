namespace FastChat.Protocol.MessagePack;

/// <summary>The family of value a MessagePack code starts (see <see cref="MessagePackCode.ToMessagePackType(byte)"/>).</summary>
public enum MessagePackType : byte
{
    /// <summary>No family: the never-used code <c>0xc1</c>.</summary>
    Unknown = 0,

    /// <summary>A positive or negative fixint, uint 8/16/32/64 or int 8/16/32/64.</summary>
    Integer = 1,

    /// <summary>nil.</summary>
    Nil = 2,

    /// <summary>true or false.</summary>
    Boolean = 3,

    /// <summary>float 32 or float 64.</summary>
    Float = 4,

    /// <summary>fixstr or str 8/16/32.</summary>
    String = 5,

    /// <summary>bin 8/16/32.</summary>
    Binary = 6,

    /// <summary>fixarray or array 16/32.</summary>
    Array = 7,

    /// <summary>fixmap or map 16/32.</summary>
    Map = 8,

    /// <summary>fixext 1/2/4/8/16 or ext 8/16/32 (including timestamps).</summary>
    Extension = 9,
}
