using System.Buffers;
using System.Net;
using System.Threading.Channels;
using FastChat.Hosts.Security;
using FastChat.Protocol;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Tests.TestSupport;

/// <summary>
/// Plays a chat server towards a balancer over a real socket: <c>Hello{Server}</c>, <c>RegisterServer</c> with a proof
/// made from the cluster key (or a forged one), and <c>LoadReport</c>s when the test says so. It serves nobody: its
/// advertised endpoint is only what the balancer hands to clients.
/// </summary>
internal sealed class FakeServerPeer : IAsyncDisposable
{
    private FakeServerPeer(FramedTestPeer peer, string serverId, string host, int port)
    {
        Peer = peer;
        ServerId = serverId;
        Host = host;
        Port = port;
    }

    public FramedTestPeer Peer { get; }

    public string ServerId { get; }

    public string Host { get; }

    public int Port { get; }

    /// <summary>Connects and exchanges <c>Hello</c> as a server; registration is left to <see cref="RegisterAsync"/>.</summary>
    public static async Task<FakeServerPeer> ConnectAsync(EndPoint balancer, string serverId, int advertisedPort, string advertisedHost = "127.0.0.1")
    {
        FramedTestPeer peer = await FramedTestPeer.ConnectAsync(balancer).ConfigureAwait(false);
        try
        {
            ReceivedMessage reply = await peer.RequestAsync(new Hello
            {
                ProtocolVersion = ProtocolConstants.ProtocolVersion,
                Role = PeerRole.Server,
                Features = [],
                Agent = "FakeServerPeer/1",
            }).ConfigureAwait(false);
            Hello hello = reply.As<Hello>();
            if (hello.Role != PeerRole.Balancer)
            {
                throw new InvalidOperationException($"Expected the balancer's Hello, got role {hello.Role}.");
            }

            return new FakeServerPeer(peer, serverId, advertisedHost, advertisedPort);
        }
        catch
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Connects and registers with a valid proof; throws unless the balancer answers <c>Ok</c>.</summary>
    public static async Task<FakeServerPeer> RegisterAsync(EndPoint balancer, ClusterKey clusterKey, string serverId, int advertisedPort)
    {
        FakeServerPeer server = await ConnectAsync(balancer, serverId, advertisedPort).ConfigureAwait(false);
        try
        {
            ReceivedMessage reply = await server.RegisterAsync(clusterKey).ConfigureAwait(false);
            if (reply.Opcode != Opcode.Ok)
            {
                throw new InvalidOperationException($"Registration of {serverId} failed: {reply}.");
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends <c>RegisterServer</c> and returns the balancer's answer (<c>Ok</c> or <c>Error</c>).</summary>
    /// <param name="clusterKey">The key the proof is made with.</param>
    /// <param name="issuedAt">The proof's issue time; now by default.</param>
    /// <param name="proof">A proof to send instead of the computed one.</param>
    public Task<ReceivedMessage> RegisterAsync(ClusterKey clusterKey, DateTime? issuedAt = null, byte[]? proof = null)
    {
        DateTime at = issuedAt ?? DateTime.UtcNow;
        byte[] bytes = proof ?? clusterKey.ComputeProof("register", ServerId, at, ClusterKey.EndpointContext(Host, Port));
        return Peer.RequestAsync(new RegisterServer
        {
            ServerId = ServerId,
            Host = Host,
            Port = Port,
            IssuedAt = at,
            Proof = new ReadOnlySequence<byte>(bytes),
        });
    }

    /// <summary>Sends a <c>LoadReport</c>, then a <c>Ping</c>, and waits for the <c>Pong</c>: the balancer reads a link's frames in order, so the report has been applied when this returns.</summary>
    public async Task ReportLoadAsync(int connections, double cpu = 0, long memoryBytes = 0)
    {
        Peer.Send(0, new LoadReport { ServerId = ServerId, Connections = connections, Cpu = cpu, MemoryBytes = memoryBytes });
        ReceivedMessage pong = await Peer.RequestAsync(new Ping { Timestamp = connections }).ConfigureAwait(false);
        if (pong.Opcode != Opcode.Pong)
        {
            throw new InvalidOperationException($"Expected Pong after the load report, got {pong}.");
        }
    }

    public ValueTask DisposeAsync() => Peer.DisposeAsync();
}

/// <summary>A message received by a <see cref="FramedTestPeer"/>: its header and a copy of its payload.</summary>
internal sealed record ReceivedMessage(Opcode Opcode, uint RequestId, byte[] Payload)
{
    /// <summary>Reads the payload as <typeparamref name="T"/>; binary fields are slices of <see cref="Payload"/>.</summary>
    public T As<T>()
        where T : struct, IMessage<T> =>
        MessageSerializer.Deserialize<T>(new ReadOnlySequence<byte>(Payload), out _);

    public override string ToString() => Opcode == Opcode.Error
        ? $"Error {As<Error>().Code}: {As<Error>().Message}"
        : $"{Opcode} #{RequestId}";
}

/// <summary>
/// A raw framed connection for tests: writes messages as given and queues every frame received (copied) for the test
/// to read in order. It applies no protocol rules of its own.
/// </summary>
internal sealed class FramedTestPeer : IFrameHandler, IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Channel<ReceivedMessage> _received = Channel.CreateUnbounded<ReceivedMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _run;
    private int _nextRequestId;

    private FramedTestPeer(FramedConnection connection)
    {
        Connection = connection;
        _run = RunAsync();
    }

    public FramedConnection Connection { get; }

    /// <summary>Completes when the balancer has closed the connection (the receive loop ended).</summary>
    public Task Closed => _run;

    public static async Task<FramedTestPeer> ConnectAsync(EndPoint endPoint)
    {
        FastChatConnection connection = await FastChatConnector.ConnectAsync(endPoint).AsTask().WaitAsync(Timeout).ConfigureAwait(false);
        return new FramedTestPeer(new FramedConnection(connection));
    }

    public uint NextRequestId() => (uint)Interlocked.Increment(ref _nextRequestId);

    /// <summary>Writes and flushes one message.</summary>
    public bool Send<T>(uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        using (FrameWriteScope scope = Connection.BeginWrite())
        {
            if (!scope.IsActive)
            {
                return false;
            }

            MessageSerializer.WriteFrame(scope.Writer, requestId, in message);
        }

        return Connection.TryFlush();
    }

    /// <summary>Writes and flushes one frame with an arbitrary payload.</summary>
    public bool SendPayload(ReadOnlySpan<byte> payload) => Connection.TryWriteFrame(payload) && Connection.TryFlush();

    /// <summary>Sends a request with a fresh request id and returns the first reply carrying that id (or an Error with id 0, which precedes a close).</summary>
    public async Task<ReceivedMessage> RequestAsync<T>(T message)
        where T : struct, IMessage<T>
    {
        uint requestId = NextRequestId();
        if (!Send(requestId, in message))
        {
            throw new InvalidOperationException($"The connection is closed; {T.Opcode} was not sent.");
        }

        while (true)
        {
            ReceivedMessage reply = await ReceiveAsync().ConfigureAwait(false);
            if (reply.RequestId == requestId || (reply.RequestId == 0 && reply.Opcode == Opcode.Error))
            {
                return reply;
            }
        }
    }

    /// <summary>The next message received, in order.</summary>
    /// <exception cref="InvalidOperationException">The connection closed with nothing more queued.</exception>
    /// <exception cref="TimeoutException">Nothing arrived within <see cref="Timeout"/>.</exception>
    public async Task<ReceivedMessage> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            if (await _received.Reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false) && _received.Reader.TryRead(out ReceivedMessage? message))
            {
                return message;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Nothing was received within {Timeout.TotalSeconds} s.");
        }

        throw new InvalidOperationException("The connection closed; nothing more will be received.");
    }

    /// <summary>Waits until the peer closes the connection and returns every message received before that.</summary>
    public async Task<List<ReceivedMessage>> ReceiveUntilClosedAsync()
    {
        await _run.WaitAsync(Timeout).ConfigureAwait(false);
        var messages = new List<ReceivedMessage>();
        while (_received.Reader.TryRead(out ReceivedMessage? message))
        {
            messages.Add(message);
        }

        return messages;
    }

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        byte[] copy = payload.ToArray();
        var reader = new FastChat.Protocol.MessagePack.MessagePackReader(new ReadOnlySequence<byte>(copy));
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        _received.Writer.TryWrite(new ReceivedMessage(header.Opcode, header.RequestId, copy));
        return default;
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _run.WaitAsync(Timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Disposal must not hang a test run; the assertion that matters has already been made.
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await Connection.RunAsync(this).ConfigureAwait(false);
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }
}
