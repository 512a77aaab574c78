using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastChat.Client.History.Internal;

// Exceptions of the history, built and thrown off the callers' paths.
internal static class HistoryErrors
{
    public static ChatHistoryException Failed(string database, string operation, Exception inner) =>
        new($"The history file '{database}' failed to {operation}: {inner.Message}", inner);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowEmptyId(string paramName) =>
        throw new ArgumentException("A history entry needs a message id; the all-zero id is not one.", paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowNoPeer(string paramName, bool received) =>
        throw new ArgumentException(
            received
                ? "A received history entry needs its sender in Peer."
                : "A sent direct message needs its recipient in Peer.",
            paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowUnknownKind(HistoryKind kind, string paramName) =>
        throw new ArgumentException($"'{kind}' is not a history entry kind.", paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowNegativeSize(long size, string paramName) =>
        throw new ArgumentException($"A file size cannot be negative; it is {size}.", paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowBadFolderName(string userName, string paramName) =>
        throw new ArgumentException(
            $"The user name '{userName}' cannot name a folder: it must not be '.' or '..', contain a path separator or a character file names cannot hold, or be longer than {ChatClient.MaxNameLength} characters.",
            paramName);
}
