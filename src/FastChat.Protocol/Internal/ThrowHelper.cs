using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastChat.Protocol.Internal;

// Throw helpers keep the throwing code out of the inlined hot paths.
internal static class ThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowFrameTooLarge(long length, int maxFrameSize) =>
        throw new FrameTooLargeException(length, maxFrameSize);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowProtocolViolation(string message) =>
        throw new ProtocolViolationException(message);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowProtocolViolation(string message, Exception? innerException) =>
        throw new ProtocolViolationException(message, innerException);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowInvalidUtf8() =>
        throw new ProtocolViolationException("The string is not valid UTF-8.");
}
