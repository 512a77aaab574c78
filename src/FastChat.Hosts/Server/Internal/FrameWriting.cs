using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

internal static class FrameWriting
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

    /// <summary>Writes an <see cref="Error"/> reply (not flushed).</summary>
    public static bool TryWriteError(this FramedConnection connection, uint requestId, ErrorCode code, string message) =>
        connection.TryWriteMessage(requestId, new Error { Code = code, Message = message });

    /// <summary>Encodes a message as a bare payload (no length prefix) into a pooled buffer.</summary>
    public static PayloadBuffer ToPayload<T>(uint requestId, in T message, int sizeHint)
        where T : struct, IMessage<T>
    {
        PayloadBuffer buffer = PayloadBuffer.Rent(sizeHint);
        MessageSerializer.WritePayload(buffer, requestId, in message);
        return buffer;
    }
}
