using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastChat.Client.Crypto.Internal;

// Throw helpers keep the message formatting out of the seal and open paths.
internal static class CryptoThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowMalformed(string message) => throw new EnvelopeException(EnvelopeFailure.Malformed, message);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowUnsupportedVersion(string what, byte version) =>
        throw new EnvelopeException(EnvelopeFailure.UnsupportedVersion, $"Unsupported format version {version} for {what}; this library reads version 1.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowDestinationTooSmall(string paramName, int length, int required) =>
        throw new ArgumentException($"The destination is {length} bytes; {required} are needed.", paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowOverlap(string paramName) =>
        throw new ArgumentException("The destination must not overlap the source.", paramName);
}
