using System.Buffers;
using System.Net;
using System.Net.Sockets;
using FastChat.Protocol;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>What a held session reports to the run that owns it.</summary>
internal interface IBenchConnectionsOwner
{
    /// <summary>The largest frame either side sends.</summary>
    int MaxFrameSize { get; }

    /// <summary>A direct message arrived at <paramref name="client"/> (its body borrowed for the call only); the client acknowledges it afterwards.</summary>
    void OnDirectMessage(BenchConnectionsClient client, in ReadOnlySequence<byte> body);

    /// <summary>The server accepted the message sent under <paramref name="requestId"/>.</summary>
    void OnAcked(uint requestId);

    /// <summary>The server refused a request, or sent a notice, after the session was resumed.</summary>
    void OnError(uint requestId);

    /// <summary>The connection ended without this process closing it.</summary>
    void OnDropped(BenchConnectionsClient client);
}

/// <summary>
/// A lean signed-in session for the <c>connections</c> scenario: one socket bound to a chosen loopback source address,
/// <c>Hello</c> and <c>Resume</c> with a token from the balancer, then a receive loop that acknowledges deliveries and
/// answers pings. It holds no pipes and, while idle, no receive buffer (it waits for data with a zero-byte read), so a
/// generator holding 10⁴ of them costs little beside the server it measures.
/// </summary>
/// <remarks>
/// A <see cref="FastChat.Client.ChatClient"/> per session would hold two pipes, an outbox, channels and timers: fine
/// for a handful of users, far too heavy for 10⁵. Frames go out with one blocking <c>Send</c> under a per-session lock
/// (they are small and loopback takes them at once); only the receive side is asynchronous.
/// </remarks>
internal sealed class BenchConnectionsClient
{
    // Enough for a burst of small frames; a larger frame grows the carried remainder instead.
    private const int ReceiveBufferSize = 16 * 1024;

    [ThreadStatic]
    private static SegmentedBufferWriter? t_writer;

    private readonly IBenchConnectionsOwner _owner;
    private readonly Socket _socket;
    private readonly Lock _sendLock = new();
    private TaskCompletionSource<string?>? _resuming;
    private byte[]? _remainder;
    private Task _receiving = Task.CompletedTask;
    private volatile bool _closing;

    private BenchConnectionsClient(IBenchConnectionsOwner owner, Socket socket, int index)
    {
        _owner = owner;
        _socket = socket;
        Index = index;
    }

    /// <summary>The session's number in the run.</summary>
    public int Index { get; }

    /// <summary>
    /// Connects from <paramref name="source"/> (or an address the system picks), says Hello and resumes the session;
    /// returns once the server answered <c>Resumed</c>.
    /// </summary>
    /// <exception cref="SocketException">The connection failed.</exception>
    /// <exception cref="IOException">The server refused the session, or closed the connection before resuming it.</exception>
    /// <exception cref="TimeoutException">The server did not answer within <paramref name="timeout"/>.</exception>
    public static async Task<BenchConnectionsClient> ConnectAsync(
        IBenchConnectionsOwner owner, int index, IPAddress? source, IPEndPoint server, byte[] sessionToken, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var client = new BenchConnectionsClient(owner, socket, index);
        try
        {
            if (source is not null)
            {
                // Port 0: the system picks a free port of this address, so each source address has its own range.
                socket.Bind(new IPEndPoint(source, 0));
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await socket.ConnectAsync(server, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Connecting to {server} took longer than {timeout.TotalSeconds:0} s.");
            }

            var resuming = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            client._resuming = resuming;
            client._receiving = client.ReceiveLoopAsync();
            if (!client.Write(1, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Client, Features = [], Agent = "fastchat-bench" })
                || !client.Write(2, new Resume { SessionToken = new(sessionToken) }))
            {
                throw new IOException($"The connection to {server} closed before Resume could be sent.");
            }

            string? refusal = await resuming.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (refusal is not null)
            {
                throw new IOException(refusal);
            }

            client._resuming = null;
            return client;
        }
        catch
        {
            await client.CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends a direct message (body: the caller's bytes) under <paramref name="requestId"/>.</summary>
    /// <returns><see langword="false"/> if the connection is gone.</returns>
    public bool SendDirect(uint requestId, string recipient, ReadOnlyMemory<byte> body) =>
        Write(requestId, new DirectMessage { Id = MessageId.NewId(), Recipient = recipient, SentAt = DateTime.UtcNow, Body = new(body) });

    /// <summary>Sends a ping, so that the server's idle timeout never closes a held session.</summary>
    /// <returns><see langword="false"/> if the connection is gone.</returns>
    public bool Ping() => Write(0, new Ping { Timestamp = Environment.TickCount64 });

    /// <summary>Closes the connection (not counted as dropped) and waits for the receive loop to end.</summary>
    public async Task CloseAsync()
    {
        _closing = true;
        _socket.Dispose();
        await _receiving.ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync()
    {
        // Let the caller finish starting the session before the loop runs.
        await Task.Yield();
        try
        {
            while (true)
            {
                // A zero-byte read completes when data arrives, without a buffer to hold while the session is idle.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                byte[]? remainder = _remainder;
                int carried = remainder?.Length ?? 0;
                byte[] buffer = ArrayPool<byte>.Shared.Rent(carried + ReceiveBufferSize);
                try
                {
                    remainder?.CopyTo(buffer, 0);
                    int received = await _socket.ReceiveAsync(buffer.AsMemory(carried), SocketFlags.None).ConfigureAwait(false);
                    if (received == 0)
                    {
                        return;
                    }

                    int length = carried + received;
                    int consumed = ReadFrames(new ReadOnlySequence<byte>(buffer, 0, length));
                    _remainder = consumed == length ? null : buffer.AsSpan(consumed, length - consumed).ToArray();
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or FastChat.Protocol.ProtocolViolationException)
        {
            // The connection ended (closed by this process, reset by the server) or the server sent a broken frame:
            // either way the session is over, which the finally block reports.
        }
        finally
        {
            _resuming?.TrySetResult("The server closed the connection before resuming the session.");
            if (!_closing)
            {
                _socket.Dispose();
                _owner.OnDropped(this);
            }
        }
    }

    /// <summary>Handles every whole frame in <paramref name="buffer"/>; returns how many bytes they took.</summary>
    private int ReadFrames(ReadOnlySequence<byte> buffer)
    {
        long total = buffer.Length;
        while (FrameReader.TryReadFrame(ref buffer, _owner.MaxFrameSize, out ReadOnlySequence<byte> payload))
        {
            OnFrame(payload);
        }

        return (int)(total - buffer.Length);
    }

    private void OnFrame(in ReadOnlySequence<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        switch (header.Opcode)
        {
            case Opcode.Resumed:
                _resuming?.TrySetResult(null);
                break;
            case Opcode.Error:
                Error error = MessageSerializer.ReadBody<Error>(ref reader, header);
                if (_resuming is { } resuming && !resuming.Task.IsCompleted)
                {
                    resuming.TrySetResult($"The server refused the session: {error.Code}: {error.Message}");
                }
                else
                {
                    _owner.OnError(header.RequestId);
                }

                break;
            case Opcode.DirectMessage:
                DirectMessage message = MessageSerializer.ReadBody<DirectMessage>(ref reader, header);
                _owner.OnDirectMessage(this, message.Body);
                Write(0, new Ack { Id = message.Id });
                break;
            case Opcode.Ack:
                _owner.OnAcked(header.RequestId);
                break;
            case Opcode.Ping:
                Write(header.RequestId, new Pong { Timestamp = MessageSerializer.ReadBody<Ping>(ref reader, header).Timestamp });
                break;
            default:
                // Hello, Pong, Delivered, Presence and the like: nothing for a held session to do.
                break;
        }
    }

    private bool Write<T>(uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        SegmentedBufferWriter writer = t_writer ??= new SegmentedBufferWriter();
        writer.Reset();
        MessageSerializer.WriteFrame(writer, requestId, in message, _owner.MaxFrameSize);
        int length = (int)writer.WrittenCount;
        byte[] frame = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            writer.CopyTo(frame);
            lock (_sendLock)
            {
                int sent = 0;
                while (sent < length)
                {
                    sent += _socket.Send(frame, sent, length - sent, SocketFlags.None);
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Gone: the receive loop reports the drop.
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }
}
