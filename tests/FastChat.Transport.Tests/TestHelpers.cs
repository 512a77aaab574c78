using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace FastChat.Transport.Tests;

internal static class TestTimeouts
{
    // Generous: the machine running the tests may be busy. No test waits this long when it passes.
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    public static Task WithTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> WithTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task WithTimeout(this ValueTask task) => task.AsTask().WaitAsync(Default);

    public static Task<T> WithTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Default);
}

internal static class TestData
{
    public static byte[] Pattern(int length, int seed = 0)
    {
        var data = new byte[length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((i * 31) + seed);
        }

        return data;
    }

    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(4));
        return frame;
    }
}

internal static class Loopback
{
    public static ListenerOptions ListenerOptions(Action<ListenerOptions>? configure = null)
    {
        var options = new ListenerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        configure?.Invoke(options);
        return options;
    }

    // A plain socket, for playing a misbehaving peer.
    public static async Task<Socket> ConnectRawAsync(EndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint).WithTimeout();
        return socket;
    }

    // Reads until the peer closes (returns the bytes) or resets (returns what arrived before the reset).
    public static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None).WithTimeout();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                return received.ToArray();
            }

            if (read == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, read);
        }
    }

    // Echoes everything from Input to Output until the peer finishes, then completes Output (FIN).
    public static async Task EchoAsync(FastChatConnection connection)
    {
        while (true)
        {
            ReadResult result = await connection.Input.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                await connection.Output.WriteAsync(segment);
            }

            connection.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await connection.Output.CompleteAsync();
    }

    // Reads exactly count bytes from a connection's Input.
    public static async Task<byte[]> ReadExactlyAsync(PipeReader input, int count)
    {
        var data = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            ReadResult result = await input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            long take = Math.Min(buffer.Length, count - filled);
            buffer.Slice(0, take).CopyTo(data.AsSpan(filled));
            filled += (int)take;
            input.AdvanceTo(buffer.GetPosition(take));
            if (result.IsCompleted && filled < count)
            {
                throw new EndOfStreamException($"The stream ended after {filled} of {count} bytes.");
            }
        }

        return data;
    }
}

// Collects every payload a framed connection reads, with a signal once a given count has arrived.
internal sealed class CollectingHandler : IFrameHandler
{
    private readonly List<byte[]> _frames = [];
    private readonly int _expected;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CollectingHandler(int expected)
    {
        _expected = expected;
        if (expected == 0)
        {
            _done.TrySetResult();
        }
    }

    public Task Completed => _done.Task;

    public List<byte[]> Frames
    {
        get
        {
            lock (_frames)
            {
                return [.. _frames];
            }
        }
    }

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        lock (_frames)
        {
            _frames.Add(payload.ToArray());
            if (_frames.Count >= _expected)
            {
                _done.TrySetResult();
            }
        }

        return default;
    }
}
