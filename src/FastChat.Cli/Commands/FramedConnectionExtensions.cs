using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Cli.Commands;

internal static class FramedConnectionExtensions
{
    /// <summary>Encodes one message frame straight into the connection's output (not flushed).</summary>
    /// <returns><see langword="false"/> if the connection is closed or over its send limit.</returns>
    public static bool TryWriteMessage<T>(this FramedConnection connection, uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        using FrameWriteScope scope = connection.BeginWrite();
        if (!scope.IsActive)
        {
            return false;
        }

        MessageSerializer.WriteFrame(scope.Writer, requestId, in message, connection.MaxFrameSize);
        return true;
    }
}
