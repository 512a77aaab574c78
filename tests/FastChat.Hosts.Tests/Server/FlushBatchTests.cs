using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using FastChat.Hosts.Server.Internal;
using FastChat.Transport;

namespace FastChat.Hosts.Tests.Server;

// The transport's meter is process-wide: this test runs alone so that other tests' flushes do not blur its count.
[CollectionDefinition(nameof(FlushBatchTests), DisableParallelization = true)]
public sealed class FlushBatchCollection
{
}

[Collection(nameof(FlushBatchTests))]
public sealed class FlushBatchTests
{
    // More members than the batch once flushed early at (256), as in a group of a few hundred.
    private const int Members = 300;
    private const int MessagesInOneReadBatch = 3;

    /// <summary>
    /// Guards that several group messages handled in one read batch reach each member in one flush: the batch must not
    /// flush early after a few hundred connections, or every member gets each message in a send of its own (a group of
    /// 1,000 ran 40 % slower that way).
    /// </summary>
    [Fact]
    public async Task Flush_FanOutOfSeveralMessages_FlushesEachMemberOnceWithAllItsFrames()
    {
        var flushSizes = new ConcurrentQueue<long>();
        using var meterListener = new MeterListener();
        meterListener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "FastChat.Transport" && instrument.Name == "fastchat.transport.frames.sent")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meterListener.SetMeasurementEventCallback<long>((_, frames, _, _) => flushSizes.Enqueue(frames));

        await using FastChatListener listener = FastChatListener.Bind(new ListenerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var members = new List<FramedConnection>(Members);
        var accepted = new List<FastChatConnection>(Members);
        try
        {
            for (int i = 0; i < Members; i++)
            {
                members.Add(new FramedConnection(await FastChatConnector.ConnectAsync(listener.EndPoint).AsTask().WaitAsync(ServerHarness.Timeout)));
                accepted.Add((await listener.AcceptAsync().AsTask().WaitAsync(ServerHarness.Timeout))!);
            }

            meterListener.Start();
            var batch = new FlushBatch();
            byte[] payload = new byte[64];
            for (int message = 0; message < MessagesInOneReadBatch; message++)
            {
                payload[0] = (byte)message;
                foreach (FramedConnection member in members)
                {
                    Assert.True(member.TryWriteFrame(payload));
                    batch.Add(member);
                }
            }

            batch.Flush();
            meterListener.Dispose();

            int complete = flushSizes.Count(size => size == MessagesInOneReadBatch);
            Assert.True(
                complete == Members,
                $"{complete} of {Members} members got their {MessagesInOneReadBatch} frames in one flush; flush sizes seen: {string.Join(", ", flushSizes.GroupBy(size => size).Select(group => $"{group.Count()}×{group.Key}"))}.");
        }
        finally
        {
            foreach (FramedConnection member in members)
            {
                await member.DisposeAsync();
            }

            foreach (FastChatConnection connection in accepted)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
