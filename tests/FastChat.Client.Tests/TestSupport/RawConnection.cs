using System.Buffers;
using System.Net;
using System.Threading.Channels;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Client.Tests.TestSupport;

/// <summary>A bare protocol connection for tests that must send what the SDK never would (a forged or expired token).</summary>
internal sealed class RawConnection : IFrameHandler, IAsyncDisposable
{
    private readonly FramedConnection _connection;
    private readonly Channel<byte[]> _frames = Channel.CreateUnbounded<byte[]>();
    private readonly Task _reading;

    private RawConnection(FramedConnection connection)
    {
        _connection = connection;
        _reading = RunAsync();
    }

    public static async Task<RawConnection> ConnectAsync(IPEndPoint endPoint)
    {
        FastChatConnection connection = await FastChatConnector.ConnectAsync(endPoint).AsTask().WaitAsync(EventLog.DefaultTimeout);
        return new RawConnection(new FramedConnection(connection));
    }

    public void Send<T>(uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        using (FrameWriteScope scope = _connection.BeginWrite())
        {
            Assert.True(scope.IsActive, "the connection closed before the test could write");
            MessageSerializer.WriteFrame(scope.Writer, requestId, in message);
        }

        _connection.TryFlush();
    }

    /// <summary>Waits for the next frame with one of the given opcodes (skipping others) and returns it.</summary>
    public async Task<(MessageHeader Header, byte[] Payload)> WaitForAsync(params Opcode[] opcodes)
    {
        using var timeout = new CancellationTokenSource(EventLog.DefaultTimeout);
        while (true)
        {
            byte[] payload = await _frames.Reader.ReadAsync(timeout.Token);
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            if (Array.IndexOf(opcodes, header.Opcode) >= 0)
            {
                return (header, payload);
            }
        }
    }

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        _frames.Writer.TryWrite(payload.ToArray());
        return default;
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _reading.WaitAsync(EventLog.DefaultTimeout);
    }

    private async Task RunAsync()
    {
        try
        {
            await _connection.RunAsync(this);
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }
}
