using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastChat.Compare.Targets;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Compare.Tests;

/// <summary>The protocol-level FastChat peer against a scripted chat server on a loopback socket: the parts a real server rarely exercises.</summary>
public sealed class FastChatWirePeerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Guards the keep-alive duty: the server's Ping must be answered with a Pong carrying its request id and timestamp.</summary>
    [Fact]
    public async Task Peer_ServerPings_AnswersWithPong()
    {
        await using var server = await ScriptedServer.StartAsync();
        Task<FastChatWirePeer> resuming = ResumeAsync(server);
        await server.AnswerHandshakeAsync();
        await using FastChatWirePeer peer = await resuming.WaitAsync(Timeout);

        await server.SendAsync(77, new Ping { Timestamp = 123456789 });
        (MessageHeader header, byte[] payload) = await server.ReceiveAsync();
        Assert.Equal(Opcode.Pong, header.Opcode);
        Assert.Equal(77u, header.RequestId);
        Assert.Equal(123456789, MessageSerializer.Deserialize<Pong>(new ReadOnlySequence<byte>(payload), out _).Timestamp);
        Assert.Null(peer.Failure);
    }

    /// <summary>Guards the delivery contract: every delivered message is acknowledged with its own id, and its body reaches the sink intact.</summary>
    [Fact]
    public async Task Peer_DirectMessageDelivered_AcksItsIdInABatchAndHandsOverTheBody()
    {
        await using var server = await ScriptedServer.StartAsync();
        var sink = new RecordingSink();
        Task<FastChatWirePeer> resuming = ResumeAsync(server, sink);
        await server.AnswerHandshakeAsync();
        await using FastChatWirePeer peer = await resuming.WaitAsync(Timeout);

        MessageId id = MessageId.NewId();
        byte[] body = [1, 2, 3, 4, 5];
        await server.SendAsync(0, new DirectMessage { Id = id, Sender = "someone", Recipient = peer.Name, SentAt = DateTime.UtcNow, Body = new(body) });
        (MessageHeader header, byte[] payload) = await server.ReceiveAsync();

        // The adapter announces ack-batch: a read batch's deliveries are acknowledged in one AckBatch.
        Assert.Equal(Opcode.AckBatch, header.Opcode);
        Assert.Equal([id], MessageSerializer.Deserialize<AckBatch>(new ReadOnlySequence<byte>(payload), out _).Ids);
        Assert.Equal(body, await sink.First.WaitAsync(Timeout));
    }

    /// <summary>Guards hostile input: a frame that is not a message fails the peer with the reason, and later sends throw instead of vanishing.</summary>
    [Fact]
    public async Task Peer_MalformedFrame_FailsAndRefusesSends()
    {
        await using var server = await ScriptedServer.StartAsync();
        Task<FastChatWirePeer> resuming = ResumeAsync(server);
        await server.AnswerHandshakeAsync();
        await using FastChatWirePeer peer = await resuming.WaitAsync(Timeout);

        // A one-byte payload 0xc1: the code MessagePack never uses, so not an array [opcode, requestId, ...].
        await server.SendRawAsync([0, 0, 0, 1, 0xc1]);
        await server.WaitForCloseAsync();
        await peer.ReadLoopEnded.WaitAsync(Timeout);
        Exception failure = Assert.IsType<IOException>(peer.Failure);
        Assert.Contains(nameof(CloseReason.ProtocolViolation), failure.Message, StringComparison.Ordinal);
        Assert.Throws<IOException>(() => peer.Publish(new Destination("anyone"), new byte[32]));
    }

    /// <summary>Guards the set-up path: a refused Resume is reported as an IOException naming the server's reason, not a hang.</summary>
    [Fact]
    public async Task Peer_ResumeRefused_ThrowsWithTheReason()
    {
        await using var server = await ScriptedServer.StartAsync();
        Task<FastChatWirePeer> resuming = ResumeAsync(server);
        (MessageHeader hello, _) = await server.ReceiveAsync();
        (MessageHeader resume, _) = await server.ReceiveAsync();
        Assert.Equal(Opcode.Hello, hello.Opcode);
        Assert.Equal(Opcode.Resume, resume.Opcode);
        await server.SendAsync(hello.RequestId, FastChatWireFrames.ClientHello);
        await server.SendAsync(resume.RequestId, new Error { Code = ErrorCode.TokenExpired, Message = "expired" });

        var ex = await Assert.ThrowsAsync<IOException>(() => resuming.WaitAsync(Timeout));
        Assert.Contains(nameof(ErrorCode.TokenExpired), ex.Message, StringComparison.Ordinal);
    }

    private static Task<FastChatWirePeer> ResumeAsync(ScriptedServer server, IMessageSink? sink = null) =>
        FastChatWirePeer.ResumeAsync(
            new FastChatWireAssignment("127.0.0.1", server.Port, [9, 9, 9]),
            "wire-test",
            sink ?? new RecordingSink(),
            new ConnectorOptions(),
            Timeout,
            CancellationToken.None);

    private sealed class RecordingSink : IMessageSink
    {
        private readonly TaskCompletionSource<byte[]> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<byte[]> First => _first.Task;

        public void OnMessage(ReadOnlySpan<byte> payload) => _first.TrySetResult(payload.ToArray());
    }

    /// <summary>One accepted connection whose frames the test reads and writes itself.</summary>
    private sealed class ScriptedServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private Socket? _socket;

        private ScriptedServer(TcpListener listener) => _listener = listener;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Task<ScriptedServer> StartAsync()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return Task.FromResult(new ScriptedServer(listener));
        }

        /// <summary>Reads the peer's Hello and Resume and answers both.</summary>
        public async Task AnswerHandshakeAsync()
        {
            (MessageHeader hello, _) = await ReceiveAsync();
            (MessageHeader resume, _) = await ReceiveAsync();
            Assert.Equal(Opcode.Hello, hello.Opcode);
            Assert.Equal(Opcode.Resume, resume.Opcode);
            await SendAsync(hello.RequestId, FastChatWireFrames.ClientHello);
            await SendAsync(resume.RequestId, new Resumed { UserName = "wire-test", ServerId = "s1", PendingCount = 0 });
        }

        public async Task<(MessageHeader Header, byte[] Payload)> ReceiveAsync()
        {
            Socket socket = await AcceptedAsync();
            byte[] prefix = new byte[FrameReader.HeaderSize];
            await ReadExactlyAsync(socket, prefix);
            byte[] payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(prefix)];
            await ReadExactlyAsync(socket, payload);
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
            return (MessageSerializer.ReadHeader(ref reader), payload);
        }

        public Task SendAsync<T>(uint requestId, in T message)
            where T : struct, IMessage<T>
        {
            using var writer = new SegmentedBufferWriter();
            MessageSerializer.WriteFrame(writer, requestId, in message);
            return SendRawAsync(writer.ToArray());
        }

        public async Task SendRawAsync(byte[] bytes)
        {
            Socket socket = await AcceptedAsync();
            await socket.SendAsync(bytes, SocketFlags.None).WaitAsync(Timeout);
        }

        /// <summary>Waits until the peer closes its side (reads to the end, discarding).</summary>
        public async Task WaitForCloseAsync()
        {
            Socket socket = await AcceptedAsync();
            byte[] buffer = new byte[1024];
            while (await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(Timeout) > 0)
            {
                // Whatever the peer still flushed before closing.
            }
        }

        public ValueTask DisposeAsync()
        {
            _socket?.Dispose();
            _listener.Stop();
            return default;
        }

        private static async Task ReadExactlyAsync(Socket socket, byte[] buffer)
        {
            int read = 0;
            while (read < buffer.Length)
            {
                int received = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None).AsTask().WaitAsync(Timeout);
                Assert.True(received > 0, "The peer closed the connection.");
                read += received;
            }
        }

        private async Task<Socket> AcceptedAsync() =>
            _socket ??= await _listener.AcceptSocketAsync().WaitAsync(Timeout);
    }
}
