using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FastChat.Protocol;

namespace FastChat.Transport.Internal;

// Throw helpers keep the throwing code out of the inlined write paths.
internal static class ThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowFrameTooLarge(long length, int maxFrameSize) =>
        throw new FrameTooLargeException(length, maxFrameSize);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowNestedWrite() =>
        throw new InvalidOperationException("A FrameWriteScope is already open on this thread for this connection: dispose it before writing again.");
}
