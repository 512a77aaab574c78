using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastChat.Client.Internal;

// Throw helpers keep the throwing code out of the send paths.
internal static class ThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowDisposed() => throw CreateDisposed();

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowNotSignedIn() =>
        throw new InvalidOperationException("The client is not signed in: call SignInAsync or SignUpAsync first.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowNameInvalid(string? name, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, paramName);
        throw new ArgumentException($"A user or group name is at most {ChatClient.MaxNameLength} characters; '{name[..16]}...' has {name.Length}.", paramName);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowTooLarge(string paramName, int length, int limit) =>
        throw new ArgumentException($"The {paramName} is {length} B, over the limit of {limit} B for one frame (ChatClientOptions.MaxFrameSize minus ChatClient.FrameOverhead).", paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowEmptyId(string paramName) =>
        throw new ArgumentException("A message id must not be the all-zero id.", paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowOutboxFull(int capacity) =>
        throw new InvalidOperationException($"The outbox is full: {capacity} messages are waiting for the server's acknowledgement (ChatClientOptions.OutboxCapacity).");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowDuplicateOutboxId(Protocol.Messages.MessageId id) =>
        throw new InvalidOperationException($"Message {id} is already waiting for the server's acknowledgement; wait for it before sending the same id again.");

    public static ObjectDisposedException CreateDisposed() =>
        new(nameof(ChatClient), "The chat client was disposed.");
}
