using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace FastChat.Benchmarks.Transport;

/// <summary>
/// The load side of the echo benchmark: a plain socket that sends a burst of pre-built frames and receives the
/// echoes concurrently. It is identical for both servers so that only the server transport differs.
/// </summary>
internal sealed class EchoClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _burst;
    private readonly byte[] _receiveBuffer = new byte[256 * 1024];

    private EchoClient(Socket socket, byte[] burst)
    {
        _socket = socket;
        _burst = burst;
    }

    public int BurstBytes => _burst.Length;

    public static async Task<EchoClient> ConnectAsync(EndPoint endPoint, int payloadSize, int framesPerBurst)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);

        int frameSize = 4 + payloadSize;
        var burst = new byte[frameSize * framesPerBurst];
        for (int i = 0; i < framesPerBurst; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(burst.AsSpan(i * frameSize), (uint)payloadSize);
            burst.AsSpan(i * frameSize + 4, payloadSize).Fill((byte)i);
        }

        return new EchoClient(socket, burst);
    }

    /// <summary>Sends one burst and waits until every echoed byte is back.</summary>
    public async Task RoundTripBurstAsync()
    {
        Task<int> receive = ReceiveAsync(_burst.Length);
        int sent = 0;
        while (sent < _burst.Length)
        {
            sent += await _socket.SendAsync(_burst.AsMemory(sent), SocketFlags.None);
        }

        int received = await receive;
        if (received != _burst.Length)
        {
            throw new InvalidOperationException($"echoed {received} of {_burst.Length} bytes");
        }
    }

    public void Dispose() => _socket.Dispose();

    private async Task<int> ReceiveAsync(int expected)
    {
        int total = 0;
        while (total < expected)
        {
            int n = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(0, Math.Min(_receiveBuffer.Length, expected - total)), SocketFlags.None);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
