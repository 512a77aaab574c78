namespace FastChat.Protocol.MessagePack;

/// <summary>Extension type codes the MessagePack specification reserves (the range -128..-1).</summary>
public static class ReservedMessagePackExtensionTypeCode
{
    /// <summary>The timestamp extension (type -1), in its 32-, 64- and 96-bit forms.</summary>
    public const sbyte DateTime = -1;
}
