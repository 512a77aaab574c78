using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastChat.Protocol.Framing;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Tests;

/// <summary><c>fastchat serve</c> and <c>fastchat ping</c>, run as real processes over loopback.</summary>
public sealed class ServeAndPingTests
{
    [Fact]
    public async Task Ping_AgainstServe_ReportsEveryPong()
    {
        await using FastChatProcess server = FastChatProcess.Start("serve", "--port", "0");
        int port = await server.WaitForListeningPortAsync();

        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunAsync("ping", $"127.0.0.1:{port}", "--count", "3");

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("connected to 127.0.0.1:" + port, stdout, StringComparison.Ordinal);
        Assert.Contains("3 pings, 3 pongs", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_OnSigterm_StopsGracefullyWithExitCodeZero()
    {
        await using FastChatProcess server = FastChatProcess.Start("serve", "--port", "0");
        await server.WaitForListeningPortAsync();

        server.Signal("TERM");

        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.Contains("fastchat: stopped", server.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "serve", "--port", "99999" }, "--port must be between 0 and 65535")]
    [InlineData(new[] { "serve", "--host", "not-an-address" }, "--host must be an IP address")]
    [InlineData(new[] { "serve", "--max-frame-size", "1" }, "--max-frame-size must be between")]
    [InlineData(new[] { "ping", "localhost" }, "is not HOST:PORT")]
    [InlineData(new[] { "ping", "127.0.0.1:0" }, "is not a port between 1 and 65535")]
    [InlineData(new[] { "ping", "127.0.0.1:7700", "--count", "0" }, "--count must be between 1 and 100000")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    public async Task CommandLine_BadArgument_ExitsTwoAndSaysWhatIsWrong(string[] arguments, string expected)
    {
        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunAsync(arguments);

        Assert.Equal(2, exitCode);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr + stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ping_NothingListening_ExitsOneWithAClearError()
    {
        int port = FreePort();

        (int exitCode, _, string stderr) = await FastChatProcess.RunAsync("ping", $"127.0.0.1:{port}");

        Assert.Equal(1, exitCode);
        Assert.Contains($"cannot connect to 127.0.0.1:{port}", stderr, StringComparison.Ordinal);
    }

    /// <summary>Guards the error grades: a broken frame gets an Error frame and closes that connection alone.</summary>
    [Theory]
    [InlineData("garbage")]
    [InlineData("oversized")]
    [InlineData("not-hello")]
    public async Task Serve_HostileClient_GetsErrorAndOnlyItsConnectionCloses(string kind)
    {
        await using FastChatProcess server = FastChatProcess.Start("serve", "--port", "0");
        int port = await server.WaitForListeningPortAsync();

        using var hostile = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await hostile.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(FastChatProcess.Timeout);
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

        // The server itself is unharmed: another client still gets its pongs.
        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunAsync("ping", $"127.0.0.1:{port}", "--count", "2");
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
