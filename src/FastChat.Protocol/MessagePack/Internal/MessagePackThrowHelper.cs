using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace FastChat.Protocol.MessagePack.Internal;

// Every exception the codec raises is built here, out of line, so the inlined read paths stay small.
// "what" reads as the end of a sentence: "a string", "an array header", "a 32-bit integer".
internal static class MessagePackThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowUnexpectedCode(byte code, string what) =>
        throw new MessagePackSerializationException(string.Create(
            CultureInfo.InvariantCulture,
            $"Unexpected msgpack code 0x{code:x2} ({MessagePackCode.ToFormatName(code)}) encountered while reading {what}."));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowEndOfData(string what) =>
        throw new MessagePackSerializationException($"The msgpack data ended before {what} could be read.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowTruncated(string what, long declared, long remaining) =>
        throw new MessagePackSerializationException(string.Create(
            CultureInfo.InvariantCulture,
            $"The msgpack data is truncated: {what} declares {declared} bytes but only {remaining} remain."));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowCountExceedsRemaining(string what, long count, long minimumBytes, long remaining) =>
        throw new MessagePackSerializationException(string.Create(
            CultureInfo.InvariantCulture,
            $"The msgpack {what} header declares {count} entries, which need at least {minimumBytes} bytes, but only {remaining} remain."));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowLengthTooLarge(string what, long length) =>
        throw new MessagePackSerializationException(string.Create(
            CultureInfo.InvariantCulture,
            $"The msgpack {what} declares a length of {length}, more than the {int.MaxValue} this reader supports."));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowIntegerOverflow(byte code, ulong bits, bool negative, string targetType)
    {
        string value = negative
            ? ((long)bits).ToString(CultureInfo.InvariantCulture)
            : bits.ToString(CultureInfo.InvariantCulture);
        throw new MessagePackSerializationException(
            $"The msgpack integer {value} ({MessagePackCode.ToFormatName(code)}) does not fit {targetType}.");
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowDepthExceeded(int maxDepth) =>
        throw new MessagePackSerializationException(string.Create(
            CultureInfo.InvariantCulture,
            $"The msgpack data nests arrays and maps deeper than the maximum depth of {maxDepth}."));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowUnexpectedExtensionType(sbyte typeCode, string what) =>
        throw new MessagePackSerializationException(string.Create(
            CultureInfo.InvariantCulture,
            $"Unexpected msgpack extension type {typeCode} encountered while reading {what}."));

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowInvalidTimestamp(string reason) =>
        throw new MessagePackSerializationException($"Invalid msgpack timestamp: {reason}.");
}
