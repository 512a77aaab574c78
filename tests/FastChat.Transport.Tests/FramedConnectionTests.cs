using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastChat.Protocol;
using ProtocolViolationException = FastChat.Protocol.ProtocolViolationException;
using FastChat.Protocol.Framing;

namespace FastChat.Transport.Tests;

public sealed class FramedConnectionTests
{
    /// <summary>Guards the framed echo path under concurrency: 1,000 connections, each echoing several frames through one server.</summary>
    [Fact]
    public async Task EchoServer_ThousandConcurrentConnections_EchoesEveryFrame()
    {
        const int connections = 1000;
        const int framesPerConnection = 3;
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(o => o.Backlog = 2048));
        using var stop = new CancellationTokenSource();
        Task server = FramedServer.RunAsync(listener, EchoFrameHandler.Instance, stop.Token);

        async Task RunClientAsync(int index)
        {
            await using FastChatConnection connection = await FastChatConnector.ConnectAsync(listener.EndPoint).WithTimeout();
            await using var framed = new FramedConnection(connection);
            var handler = new CollectingHandler(framesPerConnection);
            Task run = framed.RunAsync(handler);
            for (int i = 0; i < framesPerConnection; i++)
            {
                Assert.True(framed.TryWriteFrame(TestData.Pattern(16 + i, seed: index)));
            }

            Assert.True(framed.TryFlush());
            await handler.Completed.WithTimeout();
            List<byte[]> frames = handler.Frames;
            for (int i = 0; i < framesPerConnection; i++)
            {
                Assert.Equal(TestData.Pattern(16 + i, seed: index), frames[i]);
            }

            await framed.CloseAsync().WithTimeout();
            await run.WithTimeout();
        }

        var clients = new Task[connections];
        for (int i = 0; i < connections; i++)
        {
            clients[i] = RunClientAsync(i);
        }

        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await server.WithTimeout();
        Assert.Equal(0, listener.ConnectionCount);
    }

    /// <summary>Guards isolation: a peer that sends half a frame and then resets closes only its own connection.</summary>
    [Fact]
    public async Task PeerSendsHalfFrameThenResets_OnlyItsConnectionCloses()
    {
        await using var server = await ObservedServer.StartAsync();
        await using FramedConnection healthy = await ConnectFramedAsync(server.EndPoint);
        FramedConnection healthyOnServer = await server.NextAsync();
        await AssertEchoesAsync(healthy, 1);

        using (Socket hostile = await Loopback.ConnectRawAsync(server.EndPoint))
        {
            byte[] frame = TestData.Frame(TestData.Pattern(100));
            await hostile.SendAsync(frame.AsMemory(0, 50), SocketFlags.None).WithTimeout();
            FramedConnection victim = await server.NextAsync();
            hostile.LingerState = new LingerOption(true, 0);
            hostile.Close();
            await ConnectionTests.WaitCancelledAsync(victim.ConnectionClosed);
            Assert.Equal(CloseReason.ConnectionReset, victim.CloseReason);
        }

        await AssertEchoesAsync(healthy, 5);
        Assert.Equal(CloseReason.None, healthyOnServer.CloseReason);
    }

    /// <summary>
    /// Guards the size limit: a prefix over MaxFrameSize closes that connection alone with FrameTooLarge, as soon as
    /// the prefix arrives, after the handler's final error frame is sent.
    /// </summary>
    [Fact]
    public async Task OversizedLengthPrefix_ClosesOnlyThatConnectionWithFrameTooLarge()
    {
        byte[] errorPayload = [0xEE, 0x01];
        await using var server = await ObservedServer.StartAsync(
            configure: o => o.MaxFrameSize = 64 * 1024,
            onViolation: (connection, _) => connection.TryWriteFrame(errorPayload));
        await using FramedConnection healthy = await ConnectFramedAsync(server.EndPoint);
        FramedConnection healthyOnServer = await server.NextAsync();

        using Socket hostile = await Loopback.ConnectRawAsync(server.EndPoint);
        byte[] prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (64 * 1024) + 1);
        await hostile.SendAsync(prefix, SocketFlags.None).WithTimeout();
        FramedConnection victim = await server.NextAsync();

        byte[] received = await Loopback.ReadToEndAsync(hostile);
        Assert.Equal(TestData.Frame(errorPayload), received);
        await ConnectionTests.WaitCancelledAsync(victim.ConnectionClosed);
        Assert.Equal(CloseReason.FrameTooLarge, victim.CloseReason);
        var tooLarge = Assert.IsType<FrameTooLargeException>(victim.Connection.CloseException);
        Assert.Equal((64 * 1024) + 1, tooLarge.FrameLength);

        await AssertEchoesAsync(healthy, 3);
        Assert.Equal(CloseReason.None, healthyOnServer.CloseReason);
    }

    /// <summary>Hostile input table: streams that end inside a frame (or inside a prefix) close with ProtocolViolation.</summary>
    [Theory]
    [InlineData(new byte[] { 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 10, 1, 2, 3 })]
    [InlineData(new byte[] { 0, 0, 0, 1, 42, 0, 0, 0, 200, 0xFF })]
    public async Task StreamEndsInsideFrame_ClosesWithProtocolViolation(byte[] input)
    {
        await using var server = await ObservedServer.StartAsync();
        using Socket hostile = await Loopback.ConnectRawAsync(server.EndPoint);
        await hostile.SendAsync(input, SocketFlags.None).WithTimeout();
        hostile.Shutdown(SocketShutdown.Send);
        FramedConnection victim = await server.NextAsync();

        await Loopback.ReadToEndAsync(hostile);
        await ConnectionTests.WaitCancelledAsync(victim.ConnectionClosed);
        Assert.Equal(CloseReason.ProtocolViolation, victim.CloseReason);
        Assert.IsType<ProtocolViolationException>(victim.Connection.CloseException);
        Assert.NotNull(server.Violation);
        Assert.Contains("ended inside a frame", server.Violation!.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards that a clean end of stream between frames is not a violation: every frame is handled and the connection closes normally.</summary>
    [Fact]
    public async Task StreamEndsBetweenFrames_HandlesAllFramesAndClosesNormally()
    {
        await using var server = await ObservedServer.StartAsync();
        using Socket peer = await Loopback.ConnectRawAsync(server.EndPoint);
        byte[] frames = [.. TestData.Frame([1]), .. TestData.Frame([]), .. TestData.Frame([2, 3])];
        await peer.SendAsync(frames, SocketFlags.None).WithTimeout();
        peer.Shutdown(SocketShutdown.Send);
        FramedConnection connection = await server.NextAsync();

        byte[] echoed = await Loopback.ReadToEndAsync(peer);
        Assert.Equal(frames, echoed);
        await ConnectionTests.WaitCancelledAsync(connection.ConnectionClosed);
        Assert.Equal(CloseReason.RemoteClose, connection.CloseReason);
        Assert.Null(server.Violation);
    }

    /// <summary>Guards DESIGN §6: a recipient past MaxPendingSendBytes is aborted with SlowConsumer while another connection keeps working.</summary>
    [Fact]
    public async Task RelayToPeerThatDoesNotRead_AbortsItAsSlowConsumerWhileOthersWork()
    {
        const int maxPending = 256 * 1024;
        await using var server = await ObservedServer.StartAsync(configure: o =>
        {
            o.MaxFrameSize = 16 * 1024;
            o.OutputPauseThreshold = 128 * 1024;
            o.MaxPendingSendBytes = maxPending;
        });

        using Socket slow = await Loopback.ConnectRawAsync(server.EndPoint);
        FramedConnection recipient = await server.NextAsync();
        await using FramedConnection healthy = await ConnectFramedAsync(server.EndPoint);
        FramedConnection healthyOnServer = await server.NextAsync();

        // Relay as a server would: write, flush, never wait. The kernel buffers fill first, then pending grows.
        byte[] payload = TestData.Pattern(16 * 1024);
        long frames = 0;
        while (recipient.TryWriteFrame(payload))
        {
            Assert.True(recipient.TryFlush());
            frames++;
            Assert.True(frames < 64 * 1024, "the recipient was never aborted");
            Assert.True(recipient.PendingSendBytes <= maxPending);
        }

        Assert.Equal(CloseReason.SlowConsumer, recipient.CloseReason);
        Assert.False(recipient.TryWriteFrame(payload));
        Assert.False(recipient.TryFlush());

        await AssertEchoesAsync(healthy, 3);
        Assert.Equal(CloseReason.None, healthyOnServer.CloseReason);
    }

    /// <summary>
    /// Guards FlushAsync backpressure: against a peer that does not read, FlushAsync pauses, the bytes waiting stay
    /// within the pause threshold plus one write, and everything arrives once the peer reads.
    /// </summary>
    [Fact]
    public async Task FlushAsync_PeerNotReading_PausesWithBoundedPendingBytes()
    {
        const int pause = 128 * 1024;
        const int payloadSize = 16 * 1024;
        const int frames = 4096;
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        var options = new ConnectorOptions { MaxFrameSize = payloadSize, OutputPauseThreshold = pause, OutputResumeThreshold = pause / 2 };
        await using var framed = new FramedConnection(await FastChatConnector.ConnectAsync(listener.EndPoint, options).WithTimeout());
        await using FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;

        var firstPause = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long maxPending = 0;
        async Task WriteAllAsync()
        {
            for (int i = 0; i < frames; i++)
            {
                Assert.True(framed.TryWriteFrame(TestData.Pattern(payloadSize, seed: i)));
                maxPending = Math.Max(maxPending, framed.PendingSendBytes);
                ValueTask<bool> flush = framed.FlushAsync();
                if (!flush.IsCompleted)
                {
                    firstPause.TrySetResult();
                }

                Assert.True(await flush);
            }
        }

        // 64 MiB: far more than the kernel buffers and the peer's input pipe can hold, so the writer must pause.
        Task writer = WriteAllAsync();
        await Task.WhenAny(firstPause.Task, writer).WithTimeout();
        Assert.True(firstPause.Task.IsCompleted, "FlushAsync never paused against a peer that does not read.");

        for (int i = 0; i < frames; i++)
        {
            byte[] frame = await Loopback.ReadExactlyAsync(server.Input, 4 + payloadSize).WithTimeout();
            Assert.Equal(TestData.Frame(TestData.Pattern(payloadSize, seed: i)), frame);
        }

        await writer.WithTimeout();
        Assert.InRange(maxPending, 1, pause + 4 + payloadSize);
        Assert.Equal(CloseReason.None, framed.CloseReason);
    }

    /// <summary>Guards the write lock: frames written concurrently from many threads arrive whole, none interleaved.</summary>
    [Fact]
    public async Task TryWriteFrame_FromManyThreads_EveryFrameArrivesWhole()
    {
        const int writers = 8;
        const int framesPerWriter = 500;
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        await using FramedConnection sender = new(await FastChatConnector.ConnectAsync(listener.EndPoint).WithTimeout());
        await using FramedConnection receiver = new((await listener.AcceptAsync().WithTimeout())!);
        var handler = new CollectingHandler(writers * framesPerWriter);
        Task run = receiver.RunAsync(handler);

        var threads = new Task[writers];
        for (int w = 0; w < writers; w++)
        {
            int writer = w;
            threads[w] = Task.Run(() =>
            {
                for (int i = 0; i < framesPerWriter; i++)
                {
                    // Sizes vary so frames straddle segments; the first byte names the writer.
                    byte[] payload = TestData.Pattern(1 + ((i * 37) % 1000), seed: writer);
                    payload[0] = (byte)writer;
                    if ((i & 1) == 0)
                    {
                        Assert.True(sender.TryWriteFrame(payload));
                    }
                    else
                    {
                        Assert.True(sender.TryWriteFrame(new ReadOnlySequence<byte>(payload)));
                    }

                    if (i % 10 == 0)
                    {
                        Assert.True(sender.TryFlush());
                    }
                }

                Assert.True(sender.TryFlush());
            });
        }

        await Task.WhenAll(threads).WithTimeout();
        await handler.Completed.WithTimeout();

        var perWriter = new int[writers];
        foreach (byte[] frame in handler.Frames)
        {
            int writer = frame[0];
            int i = perWriter[writer]++;
            byte[] expected = TestData.Pattern(1 + ((i * 37) % 1000), seed: writer);
            expected[0] = (byte)writer;
            Assert.Equal(expected, frame);
        }

        Assert.All(perWriter, count => Assert.Equal(framesPerWriter, count));
        await sender.CloseAsync().WithTimeout();
        await run.WithTimeout();
    }

    /// <summary>Guards BeginWrite: a frame written through the scope's IBufferWriter with FrameWriter arrives intact.</summary>
    [Fact]
    public async Task BeginWrite_FrameWrittenThroughBufferWriter_Arrives()
    {
        await using var server = await ObservedServer.StartAsync();
        await using FramedConnection client = await ConnectFramedAsync(server.EndPoint);
        var handler = new CollectingHandler(2);
        Task run = client.RunAsync(handler);

        using (FrameWriteScope scope = client.BeginWrite())
        {
            Assert.True(scope.IsActive);
            FrameWriter.WriteFrameHeader(scope.Writer, 3);
            scope.Writer.Write(new byte[] { 7, 8, 9 });
        }

        using (FrameWriteScope scope = client.BeginWrite())
        {
            FrameWriter.WriteFrame(scope.Writer, new byte[] { 4 });
        }

        Assert.True(client.TryFlush());
        await handler.Completed.WithTimeout();
        Assert.Equal(new byte[] { 7, 8, 9 }, handler.Frames[0]);
        Assert.Equal(new byte[] { 4 }, handler.Frames[1]);

        await client.CloseAsync().WithTimeout();
        await run.WithTimeout();
        using FrameWriteScope closed = client.BeginWrite();
        Assert.False(closed.IsActive);
        Assert.False(client.TryWriteFrame([1]));
    }

    /// <summary>Guards against torn frames: opening a second scope on the same thread is refused.</summary>
    [Fact]
    public async Task BeginWrite_NestedOnSameThread_Throws()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        var framed = new FramedConnection(pair.Client);

        using (FrameWriteScope scope = framed.BeginWrite())
        {
            Assert.True(scope.IsActive);
            Assert.Throws<InvalidOperationException>(() => framed.TryWriteFrame([1]));
        }

        Assert.True(framed.TryWriteFrame([1]));
    }

    /// <summary>Guards the outgoing limit: a payload over MaxFrameSize is refused before anything is written.</summary>
    [Fact]
    public async Task TryWriteFrame_PayloadOverMaxFrameSize_Throws()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync(configureClient: o => o.MaxFrameSize = 1024);
        var framed = new FramedConnection(pair.Client);

        Assert.Throws<FrameTooLargeException>(() => framed.TryWriteFrame(new byte[1025]));
        Assert.Equal(0, framed.PendingSendBytes);
        Assert.True(framed.TryWriteFrame(new byte[1024]));
    }

    /// <summary>Guards graded errors: a handler's ProtocolViolationException closes that connection with ProtocolViolation.</summary>
    [Fact]
    public async Task HandlerThrowsProtocolViolation_ClosesWithProtocolViolation()
    {
        await using var server = await ObservedServer.StartAsync(onFrame: payload =>
        {
            if (payload.FirstSpan[0] == 0xBA)
            {
                throw new ProtocolViolationException("Malformed message.");
            }
        });
        await using FramedConnection client = await ConnectFramedAsync(server.EndPoint);
        await AssertEchoesAsync(client, 1);

        Assert.True(client.TryWriteFrame([0xBA, 0xD0]));
        Assert.True(client.TryFlush());
        FramedConnection onServer = server.Accepted[0];
        await ConnectionTests.WaitCancelledAsync(onServer.ConnectionClosed);

        Assert.Equal(CloseReason.ProtocolViolation, onServer.CloseReason);
        Assert.Equal("Malformed message.", server.Violation?.Message);
    }

    /// <summary>Guards that any other handler failure aborts that connection (ApplicationError) and never escapes RunAsync.</summary>
    [Fact]
    public async Task HandlerThrowsUnexpectedException_AbortsWithApplicationError()
    {
        await using var server = await ObservedServer.StartAsync(onFrame: _ => throw new InvalidOperationException("bug"));
        using Socket peer = await Loopback.ConnectRawAsync(server.EndPoint);
        await peer.SendAsync(TestData.Frame([1]), SocketFlags.None).WithTimeout();
        FramedConnection onServer = await server.NextAsync();

        await Loopback.ReadToEndAsync(peer);
        await ConnectionTests.WaitCancelledAsync(onServer.ConnectionClosed);
        Assert.Equal(CloseReason.ApplicationError, onServer.CloseReason);
        Assert.IsType<InvalidOperationException>(onServer.Connection.CloseException);
        await server.RunTasks[0].WithTimeout();
    }

    /// <summary>Guards graceful close: frames queued before CloseAsync are all sent before the FIN.</summary>
    [Fact]
    public async Task CloseAsync_QueuedFrames_AreSentBeforeFin()
    {
        await using FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions());
        using Socket peer = await Loopback.ConnectRawAsync(listener.EndPoint);
        var framed = new FramedConnection((await listener.AcceptAsync().WithTimeout())!);
        var expected = new List<byte>();
        for (int i = 0; i < 100; i++)
        {
            byte[] payload = TestData.Pattern(1000, seed: i);
            Assert.True(framed.TryWriteFrame(payload));
            expected.AddRange(TestData.Frame(payload));
        }

        Task close = framed.DisposeAsync().AsTask();
        byte[] received = await Loopback.ReadToEndAsync(peer);
        await close.WithTimeout();

        Assert.Equal(expected.ToArray(), received);
        Assert.Equal(CloseReason.LocalClose, framed.CloseReason);
        Assert.False(framed.TryWriteFrame([1]));
    }

    /// <summary>Guards RunAsync's cancellation: the loop stops, the connection stays open for writing.</summary>
    [Fact]
    public async Task RunAsync_Cancelled_StopsReadingButKeepsConnectionOpen()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        var framed = new FramedConnection(pair.Server);
        using var cancel = new CancellationTokenSource();
        Task run = framed.RunAsync(new CollectingHandler(1), cancel.Token);

        await cancel.CancelAsync();
        await run.WithTimeout();
        Assert.Equal(CloseReason.None, framed.CloseReason);
        Assert.True(framed.TryWriteFrame([5]));
        Assert.True(framed.TryFlush());
        byte[] received = await Loopback.ReadExactlyAsync(pair.Client.Input, 5).WithTimeout();
        Assert.Equal(TestData.Frame([5]), received);
        Assert.Throws<InvalidOperationException>(() => { _ = framed.RunAsync(new CollectingHandler(1)); });
    }

    private static async Task<FramedConnection> ConnectFramedAsync(EndPoint endPoint) =>
        new(await FastChatConnector.ConnectAsync(endPoint).WithTimeout());

    // Sends frames and checks each echo, on a client that is read with RunAsync here.
    private static async Task AssertEchoesAsync(FramedConnection client, int count)
    {
        var received = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            byte[] payload = TestData.Pattern(10 + i, seed: 77);
            Assert.True(client.TryWriteFrame(payload));
            Assert.True(client.TryFlush());
            byte[] echo = await ReadFrameAsync(client);
            Assert.Equal(payload, echo);
        }
    }

    private static async Task<byte[]> ReadFrameAsync(FramedConnection client)
    {
        byte[] prefix = await Loopback.ReadExactlyAsync(client.Connection.Input, 4).WithTimeout();
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(prefix);
        return await Loopback.ReadExactlyAsync(client.Connection.Input, length).WithTimeout();
    }
}
