using System.Buffers;
using System.Net.Sockets;
using System.Reflection;

namespace FastChat.Transport.Tests;

public sealed class IdleConnectionMemoryTests
{
    // Enough connections that a loop which trusts a stale readiness event is all but certain to be caught: the heap
    // investigation found 10-17 % of connections parked a block after a short burst, so 64 all clean by luck is
    // about one chance in 30,000.
    private const int ConnectionCount = 64;

    // Small separate writes, so the server's receives and the socket's readiness events interleave with arrivals.
    private const int WritesPerConnection = 16;
    private const int WriteSize = 24;

    // How long a pool block may stay rented once every byte has been read. A correct loop returns it within
    // milliseconds of the last read; a loop parked on a stale event never does.
    private static readonly TimeSpan s_settleTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Guards the fix for idle connections holding a pool block: on Linux a zero-byte receive also completes for a
    /// stale readiness event (bytes an earlier receive already took), and the receive loop must go back to waiting
    /// without a buffer instead of renting a block and parking a real receive on it.
    /// </summary>
    [Fact]
    public async Task ReceiveLoop_BurstThenIdle_HoldsNoPoolBlocks()
    {
        using var pool = new OutstandingPool();
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(options => options.MemoryPool = pool));
        var clients = new Socket[ConnectionCount];
        var servers = new FastChatConnection[ConnectionCount];
        try
        {
            for (int i = 0; i < ConnectionCount; i++)
            {
                clients[i] = await Loopback.ConnectRawAsync(listener.EndPoint);
                servers[i] = (await listener.AcceptAsync().WithTimeout())!;
            }

            var exchanges = new Task[ConnectionCount];
            for (int i = 0; i < ConnectionCount; i++)
            {
                exchanges[i] = ExchangeAsync(clients[i], servers[i], seed: i);
            }

            await Task.WhenAll(exchanges).WithTimeout();

            // Every byte was read and nothing more is coming: the connections are idle.
            while (pool.Outstanding > 0)
            {
                bool returned = await pool.Returned.WaitAsync(s_settleTimeout).WithTimeout();
                Assert.True(returned, $"{pool.Outstanding} pool block(s) stayed rented by {ConnectionCount} idle connections.");
            }
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client?.Dispose();
            }

            foreach (FastChatConnection server in servers)
            {
                if (server is not null)
                {
                    await server.DisposeAsync().WithTimeout();
                }
            }
        }
    }

    /// <summary>
    /// Guards that the wait for data still ends on the peer's FIN after stale wake-ups were skipped: an idle
    /// connection whose peer closes completes its input instead of waiting forever.
    /// </summary>
    [Fact]
    public async Task ReceiveLoop_PeerClosesWhileIdle_CompletesInput()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        using Socket client = await Loopback.ConnectRawAsync(listener.EndPoint);
        await using FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;

        await ExchangeAsync(client, server, seed: 7);
        client.Shutdown(SocketShutdown.Send);

        System.IO.Pipelines.ReadResult end = await server.Input.ReadAsync().WithTimeout();
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    /// <summary>
    /// Guards that an open, idle connection has not paid for the completion its close waits on (a completion source
    /// and its task, ~90 bytes of the per-connection budget), and that closing still waits for both loops to stop:
    /// the completion is created by whichever comes first.
    /// </summary>
    [Fact]
    public async Task Connection_OpenAndIdle_CreatesStopCompletionOnlyWhenClosing()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        using Socket client = await Loopback.ConnectRawAsync(listener.EndPoint);
        FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;
        FieldInfo stopped = typeof(FastChatConnection).GetField("_stopped", BindingFlags.Instance | BindingFlags.NonPublic)!;
        Assert.NotNull(stopped);

        await ExchangeAsync(client, server, seed: 11);
        Assert.Null(stopped.GetValue(server));

        await server.DisposeAsync().WithTimeout();

        var completion = (TaskCompletionSource?)stopped.GetValue(server);
        Assert.NotNull(completion);
        Assert.True(completion.Task.IsCompletedSuccessfully, "DisposeAsync returned before both transport loops had stopped.");
    }

    private static async Task ExchangeAsync(Socket client, FastChatConnection server, int seed)
    {
        byte[] data = TestData.Pattern(WritesPerConnection * WriteSize, seed);
        Task<byte[]> read = Loopback.ReadExactlyAsync(server.Input, data.Length);
        for (int offset = 0; offset < data.Length; offset += WriteSize)
        {
            int sent = await client.SendAsync(data.AsMemory(offset, WriteSize), SocketFlags.None).WithTimeout();
            Assert.Equal(WriteSize, sent);
        }

        Assert.Equal(data, await read.WithTimeout());
    }

    // Counts blocks rented and not yet returned, and signals each return.
    private sealed class OutstandingPool : MemoryPool<byte>
    {
        private int _outstanding;

        public int Outstanding => Volatile.Read(ref _outstanding);

        public SemaphoreSlim Returned { get; } = new(0);

        public override int MaxBufferSize => 16 * 1024;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Interlocked.Increment(ref _outstanding);
            return new Owner(this, new byte[Math.Max(minBufferSize, MaxBufferSize)]);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Returned.Dispose();
            }
        }

        private void OnReturned()
        {
            Interlocked.Decrement(ref _outstanding);
            Returned.Release();
        }

        private sealed class Owner(OutstandingPool pool, byte[] array) : IMemoryOwner<byte>
        {
            private byte[]? _array = array;

            public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Owner));

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _array, null) is not null)
                {
                    pool.OnReturned();
                }
            }
        }
    }
}
