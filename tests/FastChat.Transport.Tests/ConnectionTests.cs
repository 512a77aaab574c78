using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace FastChat.Transport.Tests;

public sealed class ConnectionTests
{
    private const int OneMebibyte = 1024 * 1024;

    /// <summary>
    /// Guards the receive and send loops end to end, including scatter/gather sends of multi-segment buffers and
    /// the tiny-write path (one byte per write and flush).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    public async Task Echo_OneMebibyteInWritesOfGivenSize_ComesBackIntact(int writeSize)
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        Task echo = Loopback.EchoAsync(pair.Server);
        byte[] data = TestData.Pattern(OneMebibyte);

        Task<byte[]> receive = Loopback.ReadExactlyAsync(pair.Client.Input, data.Length);
        for (int offset = 0; offset < data.Length; offset += writeSize)
        {
            int count = Math.Min(writeSize, data.Length - offset);
            data.AsSpan(offset, count).CopyTo(pair.Client.Output.GetSpan(count));
            pair.Client.Output.Advance(count);
            FlushResult flush = await pair.Client.Output.FlushAsync().WithTimeout();
            Assert.False(flush.IsCompleted);
        }

        byte[] echoed = await receive.WithTimeout();
        Assert.Equal(data, echoed);
        Assert.Equal(data.Length, pair.Client.BytesSent);
        Assert.Equal(data.Length, pair.Client.BytesReceived);

        await pair.Client.Output.CompleteAsync();
        await echo.WithTimeout();
        ReadResult end = await pair.Client.Input.ReadAsync().WithTimeout();
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    /// <summary>Guards half-close: completing Output sends FIN, and the peer can still answer afterwards.</summary>
    [Fact]
    public async Task CompletingOutput_SendsFin_PeerSeesEndButCanStillSend()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        await pair.Client.Output.WriteAsync(new byte[] { 1, 2, 3 }).WithTimeout();
        await pair.Client.Output.CompleteAsync();

        byte[] request = await Loopback.ReadExactlyAsync(pair.Server.Input, 3).WithTimeout();
        Assert.Equal(new byte[] { 1, 2, 3 }, request);
        ReadResult end = await pair.Server.Input.ReadAsync().WithTimeout();
        Assert.True(end.IsCompleted);
        pair.Server.Input.AdvanceTo(end.Buffer.End);

        await pair.Server.Output.WriteAsync(new byte[] { 9 }).WithTimeout();
        byte[] answer = await Loopback.ReadExactlyAsync(pair.Client.Input, 1).WithTimeout();
        Assert.Equal(9, answer[0]);

        await pair.Server.DisposeAsync().WithTimeout();
        Assert.Equal(CloseReason.RemoteClose, pair.Server.CloseReason);
        await WaitCancelledAsync(pair.Server.ConnectionClosed);
    }

    /// <summary>Guards that a peer's reset surfaces as ConnectionResetException in the input, with reason ConnectionReset.</summary>
    [Fact]
    public async Task PeerReset_CompletesInputWithConnectionResetException()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        using Socket peer = await Loopback.ConnectRawAsync(listener.EndPoint);
        await using FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;

        peer.LingerState = new LingerOption(true, 0);
        peer.Close();

        await Assert.ThrowsAsync<ConnectionResetException>(async () =>
        {
            while (true)
            {
                ReadResult result = await server.Input.ReadAsync().WithTimeout();
                server.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        });
        Assert.Equal(CloseReason.ConnectionReset, server.CloseReason);
        await WaitCancelledAsync(server.ConnectionClosed);
    }

    /// <summary>Guards Abort: the first reason wins, the input completes with ConnectionAbortedException, the peer sees the connection end.</summary>
    [Fact]
    public async Task Abort_Twice_FirstReasonWinsAndPeerSeesTheEnd()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();

        pair.Server.Abort(CloseReason.SlowConsumer);
        pair.Server.Abort(CloseReason.IdleTimeout);

        Assert.Equal(CloseReason.SlowConsumer, pair.Server.CloseReason);
        var aborted = await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await pair.Server.Input.ReadAsync().WithTimeout());
        Assert.Equal(CloseReason.SlowConsumer, aborted.Reason);
        await WaitCancelledAsync(pair.Server.ConnectionClosed);

        // The client sees a reset (or an end of stream): either way its input completes.
        try
        {
            while (true)
            {
                ReadResult result = await pair.Client.Input.ReadAsync().WithTimeout();
                pair.Client.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ConnectionResetException)
        {
        }

        Assert.Contains(pair.Client.CloseReason, new[] { CloseReason.ConnectionReset, CloseReason.None, CloseReason.RemoteClose });
    }

    /// <summary>
    /// Guards output backpressure: against a peer that does not read, FlushAsync stops completing, the bytes held
    /// never exceed the pause threshold plus one write, and the writer resumes once the peer reads.
    /// </summary>
    [Fact]
    public async Task Output_PeerNotReading_FlushPausesAndPendingStaysBounded()
    {
        const int chunk = 64 * 1024;
        const int chunks = 1024;
        const long pause = 256 * 1024;
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        var options = new ConnectorOptions { OutputPauseThreshold = pause, OutputResumeThreshold = pause / 2 };
        await using FastChatConnection client = await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout();
        await using FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;

        var firstPause = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long maxPending = 0;
        async Task WriteAllAsync()
        {
            for (int i = 0; i < chunks; i++)
            {
                TestData.Pattern(chunk, seed: i).CopyTo(client.Output.GetSpan(chunk));
                client.Output.Advance(chunk);
                maxPending = Math.Max(maxPending, client.PendingSendBytes);
                ValueTask<FlushResult> flush = client.Output.FlushAsync();
                if (!flush.IsCompleted)
                {
                    firstPause.TrySetResult();
                }

                FlushResult result = await flush;
                Assert.False(result.IsCompleted);
            }
        }

        // 64 MiB: far more than the kernel buffers and the peer's input pipe can hold, so the writer must pause.
        Task writer = WriteAllAsync();
        await Task.WhenAny(firstPause.Task, writer).WithTimeout();
        Assert.True(firstPause.Task.IsCompleted, "FlushAsync never paused against a peer that does not read.");

        for (int i = 0; i < chunks; i++)
        {
            byte[] received = await Loopback.ReadExactlyAsync(server.Input, chunk).WithTimeout();
            Assert.Equal(TestData.Pattern(chunk, seed: i), received);
        }

        await writer.WithTimeout();
        Assert.InRange(maxPending, chunk, pause + chunk);
    }

    /// <summary>Guards that DisposeAsync never hangs, even with a receive pending and a send blocked by a peer that does not read.</summary>
    [Fact]
    public async Task DisposeAsync_WithPendingReceiveAndBlockedSend_CompletesWithinCloseTimeout()
    {
        var closeTimeout = TimeSpan.FromMilliseconds(500);
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        FastChatConnection client = await FastChatConnector.ConnectAsync(listener.EndPoint, new ConnectorOptions { CloseTimeout = closeTimeout }).WithTimeout();
        await using FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;

        // The accepted connection is never read: fill its input pipe and the kernel buffers until the client's flush pauses.
        byte[] data = TestData.Pattern(OneMebibyte);
        for (int i = 0; i < 64; i++)
        {
            data.CopyTo(client.Output.GetSpan(data.Length));
            client.Output.Advance(data.Length);
            ValueTask<FlushResult> flush = client.Output.FlushAsync();
            if (!flush.IsCompleted)
            {
                break;
            }

            await flush;
        }

        Assert.True(client.PendingSendBytes > 0);
        Task dispose = client.DisposeAsync().AsTask();
        await dispose.WaitAsync(closeTimeout * 6);
        await WaitCancelledAsync(client.ConnectionClosed);
        Assert.Equal(CloseReason.LocalClose, client.CloseReason);
    }

    /// <summary>Guards the idle timeout: a connection that receives nothing is closed with IdleTimeout.</summary>
    [Fact]
    public async Task IdleTimeout_NothingReceived_ClosesWithIdleTimeout()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync(server => server.IdleTimeout = TimeSpan.FromMilliseconds(300));

        await WaitCancelledAsync(pair.Server.ConnectionClosed);
        Assert.Equal(CloseReason.IdleTimeout, pair.Server.CloseReason);
        var aborted = await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await pair.Server.Input.ReadAsync().WithTimeout());
        Assert.Equal(CloseReason.IdleTimeout, aborted.Reason);
    }

    /// <summary>Guards that a connection that keeps receiving is not closed as idle.</summary>
    [Fact]
    public async Task IdleTimeout_DataKeepsArriving_StaysOpen()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync(server => server.IdleTimeout = TimeSpan.FromMilliseconds(1500));
        Task echo = Loopback.EchoAsync(pair.Server);

        // Ping-pong every 50 ms for longer than the idle timeout (and than two heartbeats).
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (elapsed.Elapsed < TimeSpan.FromMilliseconds(2200))
        {
            await pair.Client.Output.WriteAsync(new byte[] { 7 }).WithTimeout();
            byte[] pong = await Loopback.ReadExactlyAsync(pair.Client.Input, 1).WithTimeout();
            Assert.Equal(7, pong[0]);
            await timer.WaitForNextTickAsync().AsTask().WithTimeout();
        }

        Assert.Equal(CloseReason.None, pair.Server.CloseReason);
        await pair.Client.Output.CompleteAsync();
        await echo.WithTimeout();
    }

    /// <summary>Guards the connection identity: unique ids, endpoints on both ends.</summary>
    [Fact]
    public async Task Connection_IdsAndEndpoints_AreSet()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();

        Assert.NotEqual(pair.Client.Id, pair.Server.Id);
        Assert.Equal(pair.Listener.EndPoint, pair.Server.LocalEndPoint);
        Assert.Equal(pair.Client.LocalEndPoint, pair.Server.RemoteEndPoint);
        Assert.Equal(pair.Server.LocalEndPoint, pair.Client.RemoteEndPoint);
        Assert.False(pair.Client.ConnectionClosed.IsCancellationRequested);
        Assert.Equal(System.Security.Authentication.SslProtocols.None, pair.Client.SslProtocol);
    }

    /// <summary>Guards that a custom memory pool is used for the pipes.</summary>
    [Fact]
    public async Task MemoryPool_Custom_IsUsedForBuffers()
    {
        using var pool = new CountingPool();
        await using LoopbackPair pair = await LoopbackPair.CreateAsync(server => server.MemoryPool = pool);
        await pair.Client.Output.WriteAsync(new byte[] { 1, 2, 3 }).WithTimeout();
        byte[] received = await Loopback.ReadExactlyAsync(pair.Server.Input, 3).WithTimeout();

        Assert.Equal(new byte[] { 1, 2, 3 }, received);
        Assert.True(pool.Rented > 0);
    }

    internal static async Task WaitCancelledAsync(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource();
        using CancellationTokenRegistration registration = token.Register(() => cancelled.TrySetResult());
        await cancelled.Task.WithTimeout();
    }

    private sealed class CountingPool : MemoryPool<byte>
    {
        private int _rented;

        public int Rented => Volatile.Read(ref _rented);

        public override int MaxBufferSize => 64 * 1024;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Interlocked.Increment(ref _rented);
            return new Owner(new byte[Math.Max(minBufferSize, 4096)]);
        }

        protected override void Dispose(bool disposing)
        {
        }

        private sealed class Owner(byte[] array) : IMemoryOwner<byte>
        {
            public Memory<byte> Memory => array;

            public void Dispose()
            {
            }
        }
    }
}
