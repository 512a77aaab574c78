using System.Runtime.CompilerServices;

namespace FastChat.Protocol.MessagePack.Internal;

// Lets MessagePackReader write its contiguous fast path and its straddling-token slow path once for every
// token kind. The decoders are structs constrained through static abstract members, so each
// instantiation is specialised by the JIT: no interface dispatch, no delegate, no allocation.
internal interface ITokenDecoder<T>
{
    // Ends the sentence "... encountered while reading {Description}." in error messages.
    static abstract string Description { get; }

    static abstract DecodeResult TryRead(ReadOnlySpan<byte> source, out T value, out int tokenSize);
}

internal readonly struct BooleanDecoder : ITokenDecoder<bool>
{
    public static string Description => "a boolean";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out bool value, out int tokenSize) =>
        MessagePackPrimitives.TryReadBoolean(source, out value, out tokenSize);
}

internal readonly struct IntegerDecoder : ITokenDecoder<IntegerToken>
{
    public static string Description => "an integer";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out IntegerToken value, out int tokenSize) =>
        MessagePackPrimitives.TryReadInteger(source, out value, out tokenSize);
}

internal readonly struct SingleDecoder : ITokenDecoder<float>
{
    public static string Description => "a float32 or an integer";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out float value, out int tokenSize) =>
        MessagePackPrimitives.TryReadSingle(source, out value, out tokenSize);
}

internal readonly struct DoubleDecoder : ITokenDecoder<double>
{
    public static string Description => "a float or an integer";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out double value, out int tokenSize) =>
        MessagePackPrimitives.TryReadDouble(source, out value, out tokenSize);
}

internal readonly struct StringHeaderDecoder : ITokenDecoder<uint>
{
    public static string Description => "a string";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out uint value, out int tokenSize) =>
        MessagePackPrimitives.TryReadStringHeader(source, out value, out tokenSize);
}

internal readonly struct BinHeaderDecoder : ITokenDecoder<uint>
{
    public static string Description => "binary data";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out uint value, out int tokenSize) =>
        MessagePackPrimitives.TryReadBinHeader(source, out value, out tokenSize);
}

internal readonly struct ArrayHeaderDecoder : ITokenDecoder<uint>
{
    public static string Description => "an array header";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out uint value, out int tokenSize) =>
        MessagePackPrimitives.TryReadArrayHeader(source, out value, out tokenSize);
}

internal readonly struct MapHeaderDecoder : ITokenDecoder<uint>
{
    public static string Description => "a map header";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out uint value, out int tokenSize) =>
        MessagePackPrimitives.TryReadMapHeader(source, out value, out tokenSize);
}

internal readonly struct ExtensionHeaderDecoder : ITokenDecoder<ExtensionHeader>
{
    public static string Description => "an extension header";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out ExtensionHeader value, out int tokenSize) =>
        MessagePackPrimitives.TryReadExtensionHeader(source, out value, out tokenSize);
}

internal readonly struct StructureHeaderDecoder : ITokenDecoder<StructureHeader>
{
    public static string Description => "a value";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DecodeResult TryRead(ReadOnlySpan<byte> source, out StructureHeader value, out int tokenSize) =>
        MessagePackPrimitives.TryReadStructureHeader(source, out value, out tokenSize);
}
