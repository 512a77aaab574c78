using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.TestSupport;

/// <summary>One frame as received: its opcode, request id and payload (no length prefix).</summary>
internal sealed record RawFrame(Opcode Opcode, uint RequestId, byte[] Payload)
{
    /// <summary>Decodes the payload as <typeparamref name="T"/>; binary fields are slices of <see cref="Payload"/>.</summary>
    public T As<T>()
        where T : struct, IMessage<T> =>
        MessageSerializer.Deserialize<T>(new ReadOnlySequence<byte>(Payload), out _);

    public override string ToString() => Opcode == Opcode.Error
        ? $"Error #{RequestId} {As<Error>().Code}: {As<Error>().Message}"
        : $"{Opcode} #{RequestId} ({Payload.Length} B)";
}

/// <summary>
/// A minimal framed test client over a plain socket: connect, <c>Hello</c>, send any message (or raw bytes), and read
/// the next frame on demand with a timeout. It reads nothing unless asked, so a test can play a client that stops
/// reading; a small receive buffer makes that quick to notice.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _prefix = new byte[4];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private int _nextRequestId;

    private RawClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Opens a TCP connection (no Hello yet).</summary>
    public static async Task<RawClient> ConnectAsync(IPEndPoint endPoint, int? receiveBufferSize = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size;
        }

        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
        return new RawClient(socket);
    }

    /// <summary>Connects and exchanges <c>Hello</c> with the given role; returns the server's <c>Hello</c>.</summary>
    public static async Task<RawClient> ConnectAndGreetAsync(IPEndPoint endPoint, PeerRole role = PeerRole.Client, int? receiveBufferSize = null)
    {
        RawClient client = await ConnectAsync(endPoint, receiveBufferSize).ConfigureAwait(false);
        await client.SendAsync(new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = role, Features = [], Agent = "raw-test-client" }).ConfigureAwait(false);
        Hello hello = await client.ReadAsync<Hello>().ConfigureAwait(false);
        Assert.Equal(PeerRole.Server, hello.Role);
        return client;
    }

    /// <summary>A fresh non-zero request id.</summary>
    public uint NextRequestId() => (uint)Interlocked.Increment(ref _nextRequestId);

    /// <summary>Sends a message with a fresh request id, which it returns.</summary>
    public async Task<uint> SendAsync<T>(T message)
        where T : struct, IMessage<T>
    {
        uint requestId = NextRequestId();
        await SendAsync(requestId, message).ConfigureAwait(false);
        return requestId;
    }

    /// <summary>Sends a message with the given request id.</summary>
    public Task SendAsync<T>(uint requestId, T message)
        where T : struct, IMessage<T>
    {
        var body = new ArrayBufferWriter<byte>(256);
        MessageSerializer.WritePayload(body, requestId, in message);
        return SendFrameAsync(body.WrittenMemory);
    }

    /// <summary>Sends one frame: the length prefix, then <paramref name="payload"/>.</summary>
    public Task SendFrameAsync(ReadOnlyMemory<byte> payload)
    {
        byte[] frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsMemory(4));
        return SendRawAsync(frame);
    }

    /// <summary>Sends bytes as they are (garbage, a forged prefix...).</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Reads the next frame; <see langword="null"/> if the server closed the connection.</summary>
    public async Task<RawFrame?> ReadFrameOrEndAsync(TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            int read = await ReadFullyAsync(_prefix, cancellation.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(_prefix);
            byte[] payload = new byte[length];
            if (await ReadFullyAsync(payload, cancellation.Token).ConfigureAwait(false) != payload.Length)
            {
                throw new EndOfStreamException("The server closed the connection in the middle of a frame.");
            }

            var reader = new Protocol.MessagePack.MessagePackReader(new ReadOnlySequence<byte>(payload));
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            return new RawFrame(header.Opcode, header.RequestId, payload);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"No frame arrived within {timeout ?? DefaultTimeout}.");
        }
        catch (IOException)
        {
            // Reset by the server.
            return null;
        }
    }

    /// <summary>Reads the next frame, which must exist.</summary>
    public async Task<RawFrame> ReadFrameAsync(TimeSpan? timeout = null) =>
        await ReadFrameOrEndAsync(timeout).ConfigureAwait(false) ?? throw new EndOfStreamException("The server closed the connection.");

    /// <summary>Reads the next frame, which must be a <typeparamref name="T"/>.</summary>
    public async Task<T> ReadAsync<T>(TimeSpan? timeout = null)
        where T : struct, IMessage<T> =>
        (await ReadWithIdAsync<T>(timeout).ConfigureAwait(false)).Message;

    /// <summary>Reads the next frame, which must be a <typeparamref name="T"/>, with its request id.</summary>
    public async Task<(T Message, uint RequestId)> ReadWithIdAsync<T>(TimeSpan? timeout = null)
        where T : struct, IMessage<T>
    {
        RawFrame frame = await ReadFrameAsync(timeout).ConfigureAwait(false);
        if (frame.Opcode != T.Opcode)
        {
            Assert.Fail($"Expected {typeof(T).Name} but received {frame}.");
        }

        return (frame.As<T>(), frame.RequestId);
    }

    /// <summary>Reads frames until a <typeparamref name="T"/> arrives, skipping the others (notices, for example).</summary>
    public async Task<(T Message, uint RequestId)> ReadUntilAsync<T>(TimeSpan? timeout = null)
        where T : struct, IMessage<T>
    {
        while (true)
        {
            RawFrame frame = await ReadFrameAsync(timeout).ConfigureAwait(false);
            if (frame.Opcode == T.Opcode)
            {
                return (frame.As<T>(), frame.RequestId);
            }
        }
    }

    /// <summary>Reads an <c>Error</c> reply and checks its code (and request id, when given).</summary>
    public async Task<Error> ExpectErrorAsync(ErrorCode code, uint? requestId = null)
    {
        (Error error, uint id) = await ReadWithIdAsync<Error>().ConfigureAwait(false);
        Assert.True(error.Code == code, $"Expected error {code} but got {error.Code}: {error.Message}");
        if (requestId is { } expected)
        {
            Assert.Equal(expected, id);
        }

        return error;
    }

    /// <summary>Reads (and discards) frames until the server closes the connection; returns what was read.</summary>
    public async Task<List<RawFrame>> ReadToEndAsync(TimeSpan? timeout = null)
    {
        var frames = new List<RawFrame>();
        while (await ReadFrameOrEndAsync(timeout).ConfigureAwait(false) is { } frame)
        {
            frames.Add(frame);
        }

        return frames;
    }

    /// <summary>Closes the connection (FIN) without saying goodbye.</summary>
    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _sendLock.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<int> ReadFullyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await _stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return total;
            }

            total += read;
        }

        return total;
    }
}
