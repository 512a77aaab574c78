using System.Net.Sockets;

namespace FastChat.Transport.Internal;

internal static class SocketConfiguration
{
    public static void Apply(Socket socket, ConnectionSettings settings)
    {
        if (socket.ProtocolType != ProtocolType.Tcp)
        {
            // Unix domain sockets have neither Nagle nor keep-alive.
            return;
        }

        socket.NoDelay = settings.NoDelay;
        if (settings.KeepAliveTime != Timeout.InfiniteTimeSpan)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, ToSeconds(settings.KeepAliveTime));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, ToSeconds(settings.KeepAliveInterval));
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, settings.KeepAliveRetryCount);
        }
    }

    // The socket options take whole seconds; anything shorter than a second becomes one.
    private static int ToSeconds(TimeSpan value) => Math.Max(1, (int)Math.Ceiling(value.TotalSeconds));
}
