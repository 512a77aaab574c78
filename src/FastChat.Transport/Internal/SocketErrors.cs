using System.Net.Sockets;

namespace FastChat.Transport.Internal;

internal static class SocketErrors
{
    // The peer or the network ended the connection. EPIPE surfaces as Shutdown; Windows reports a reset
    // during a receive as ConnectionAborted.
    public static bool IsConnectionReset(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.NetworkReset or SocketError.TimedOut
        || (error == SocketError.ConnectionAborted && OperatingSystem.IsWindows());

    // The operation was cut short because this side closed the socket. Linux reports a receive pending on a
    // closed socket as InvalidArgument.
    public static bool IsLocalAbort(SocketError error) =>
        error is SocketError.OperationAborted or SocketError.Interrupted
        || (error == SocketError.ConnectionAborted && !OperatingSystem.IsWindows())
        || (error == SocketError.InvalidArgument && !OperatingSystem.IsWindows());

    public static SocketException? Find(Exception exception) => exception switch
    {
        SocketException socketException => socketException,
        { InnerException: SocketException inner } => inner,
        _ => null,
    };
}
