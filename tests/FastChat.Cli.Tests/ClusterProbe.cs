using System.Buffers;
using System.Threading.Channels;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Cli.Tests;

/// <summary>Asks a balancer which chat servers it has (<c>ClusterStatusRequest</c>), over a real client connection.</summary>
internal static class ClusterProbe
{
    /// <summary>Polls the balancer until exactly the given servers are live (or the timeout passes).</summary>
    public static async Task WaitForLiveServersAsync(int balancerPort, IReadOnlyCollection<string> serverIds, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? FastChatProcess.Timeout);
        string last = "no answer";
        while (true)
        {
            try
            {
                IReadOnlyList<ServerStatus> servers = await GetServersAsync(balancerPort, deadline.Token);
                string[] live = servers.Where(s => s.Live).Select(s => s.ServerId).Order(StringComparer.Ordinal).ToArray();
                last = string.Join(", ", live);
                if (live.SequenceEqual(serverIds.Order(StringComparer.Ordinal)))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is FastChat.Protocol.FastChatException or System.Net.Sockets.SocketException or ChannelClosedException or IOException)
            {
                // The balancer is (re)starting: ask again.
                last = ex.Message;
            }

            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"The balancer on port {balancerPort} did not report exactly [{string.Join(", ", serverIds)}] live; last answer: {last}");
            }

            // Polling a remote process's state: there is no event to wait on across the process boundary.
            await Task.Delay(50, CancellationToken.None);
        }
    }

    public static async Task<IReadOnlyList<ServerStatus>> GetServersAsync(int balancerPort, CancellationToken cancellationToken)
    {
        FastChatConnection connection = await FastChatConnector.ConnectAsync("127.0.0.1", balancerPort, cancellationToken: cancellationToken);
        await using var framed = new FramedConnection(connection);
        var handler = new Replies();
        Task reading = handler.RunAsync(framed);
        try
        {
            Send(framed, 1, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Client, Features = [], Agent = "fastchat-tests" });
            Send(framed, 2, default(ClusterStatusRequest));
            while (true)
            {
                byte[] frame = await handler.Frames.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(FastChatProcess.Timeout, cancellationToken);
                var sequence = new ReadOnlySequence<byte>(frame);
                var reader = new MessagePackReader(sequence);
                MessageHeader header = MessageSerializer.ReadHeader(ref reader);
                if (header.Opcode == Opcode.ClusterStatus)
                {
                    return MessageSerializer.ReadBody<ClusterStatus>(ref reader, header).Servers.ToArray();
                }

                if (header.Opcode == Opcode.Error)
                {
                    throw new InvalidOperationException("The balancer refused the status request: " + MessageSerializer.ReadBody<Error>(ref reader, header).Message);
                }
            }
        }
        finally
        {
            await framed.CloseAsync();
            await reading.WaitAsync(FastChatProcess.Timeout, CancellationToken.None);
        }
    }

    private static void Send<T>(FramedConnection connection, uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        using (FrameWriteScope scope = connection.BeginWrite())
        {
            if (!scope.IsActive)
            {
                throw new IOException("The balancer closed the connection.");
            }

            MessageSerializer.WriteFrame(scope.Writer, requestId, in message, connection.MaxFrameSize);
        }

        connection.TryFlush();
    }

    private sealed class Replies : IFrameHandler
    {
        public Channel<byte[]> Frames { get; } = Channel.CreateUnbounded<byte[]>();

        public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
        {
            Frames.Writer.TryWrite(payload.ToArray());
            return default;
        }

        public async Task RunAsync(FramedConnection connection)
        {
            try
            {
                await connection.RunAsync(this, CancellationToken.None);
            }
            finally
            {
                Frames.Writer.TryComplete();
            }
        }
    }
}
