using FastChat.Protocol;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Compare.Targets;

/// <summary>What the protocol-level FastChat adapter's balancer and server connections share: connecting and writing one message.</summary>
internal static class FastChatWireFrames
{
    /// <summary>The <c>Hello</c> every connection of the adapter opens with.</summary>
    public static readonly Hello ClientHello = new()
    {
        ProtocolVersion = ProtocolConstants.ProtocolVersion,
        Role = PeerRole.Client,
        Features = [ProtocolFeatures.AckBatch],
        Agent = "fastchat-compare",
    };

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> (the <paramref name="what"/> of error messages).</summary>
    /// <exception cref="IOException">The connection was refused, timed out or failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<FastChatConnection> ConnectAsync(string host, int port, ConnectorOptions options, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await FastChatConnector.ConnectAsync(host, port, options, cancellationToken).ConfigureAwait(false);
        }
        catch (FastChatException ex)
        {
            throw new IOException($"Cannot connect to the FastChat {what} at {host}:{port}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Appends one message frame to <paramref name="connection"/>'s output under its write lock, without flushing;
    /// returns <see langword="false"/> when the connection is closed or closing.
    /// </summary>
    public static bool TryWrite<T>(FramedConnection connection, uint requestId, in T message)
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
