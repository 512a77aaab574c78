using System.Buffers;
using System.Net;
using System.Net.Sockets;
using FastChat.Protocol.Framing;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Tests;

/// <summary><c>fastchat ping</c> and hostile bytes against the balancer of a real <c>fastchat serve</c>.</summary>
public sealed class ServeHostileInputTests : IAsyncLifetime
{
    private readonly TestFolder _folder = new();
    private FastChatProcess? _serve;

    private int Port => _serve!.BalancerPort;

    public async Task InitializeAsync()
    {
        _serve = FastChatProcess.StartIn(_folder.Path, null, "serve", "--port", "0", "--servers", "1", "--data", _folder.Combine("data"));
        await _serve.WaitForReadyAsync();
    }

    public async Task DisposeAsync()
    {
        if (_serve is not null)
        {
            await _serve.DisposeAsync();
        }

        _folder.Dispose();
    }

    [Fact]
    public async Task Ping_AgainstServe_ReportsEveryPong()
    {
        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunAsync("ping", $"127.0.0.1:{Port}", "--count", "3");

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("connected to 127.0.0.1:" + Port, stdout, StringComparison.Ordinal);
        Assert.Contains("3 pings, 3 pongs", stdout, StringComparison.Ordinal);
    }

    /// <summary>Guards the error grades on the balancer's port: a broken frame gets an Error frame and closes that connection alone.</summary>
    [Theory]
    [InlineData("garbage")]
    [InlineData("oversized")]
    [InlineData("not-hello")]
    public async Task Serve_HostileClient_GetsErrorAndOnlyItsConnectionCloses(string kind)
    {
        using var hostile = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await hostile.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port)).WaitAsync(FastChatProcess.Timeout);
        byte[] bytes = kind switch
        {
            // A well-formed length, then a payload that is not a MessagePack array.
            "garbage" => [0, 0, 0, 5, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1],
            // 2 GiB announced: refused from the prefix alone.
            "oversized" => [0x80, 0, 0, 0],
            // A valid Ping before any Hello.
            _ => EncodeFrame(new Ping { Timestamp = 1 }),
        };
        await hostile.SendAsync(bytes, SocketFlags.None).WaitAsync(FastChatProcess.Timeout);

        List<byte[]> frames = await ReadUntilClosedAsync(hostile);
        Error error = MessageSerializer.Deserialize<Error>(new ReadOnlySequence<byte>(Assert.Single(frames)), out _);
        ErrorCode expected = kind switch
        {
            "garbage" => ErrorCode.ProtocolViolation,
            "oversized" => ErrorCode.FrameTooLarge,
            _ => ErrorCode.Unexpected,
        };
        Assert.Equal(expected, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));

        // The balancer itself is unharmed: another client still gets its pongs.
        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunAsync("ping", $"127.0.0.1:{Port}", "--count", "2");
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("2 pings, 2 pongs", stdout, StringComparison.Ordinal);
    }

    private static byte[] EncodeFrame<T>(in T message)
        where T : struct, IMessage<T>
    {
        using var writer = new SegmentedBufferWriter();
        MessageSerializer.WriteFrame(writer, 7, in message);
        return writer.ToArray();
    }

    private static async Task<List<byte[]>> ReadUntilClosedAsync(Socket socket)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(FastChatProcess.Timeout);
            if (n == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, n));
        }

        var frames = new List<byte[]>();
        var sequence = new ReadOnlySequence<byte>(received.ToArray());
        while (FrameReader.TryReadFrame(ref sequence, 1 << 20, out ReadOnlySequence<byte> payload))
        {
            frames.Add(payload.ToArray());
        }

        Assert.Equal(0, sequence.Length);
        return frames;
    }
}
