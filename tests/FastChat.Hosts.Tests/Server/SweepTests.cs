using System.Reflection;
using FastChat.Hosts.Server;
using FastChat.Hosts.Server.Internal;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

public sealed class SweepTests
{
    // A snapshot of this many sessions is a List of 1 KiB; everything else a sweep allocates does not grow with
    // the number of sessions, so a growth well under that size means the sweep walked them in place.
    private const int IdleSessions = 128;
    private const long MaxGrowthBytes = 512;

    /// <summary>
    /// Guards that a session nothing was ever delivered to pays only for the tracker object: the lock, the in-flight
    /// table and the recent ids (about half a kilobyte) are created on first use.
    /// </summary>
    [Fact]
    public void DeliveryTracker_New_AllocatesOnlyItself()
    {
        Assert.InRange(BytesToCreate(static () => new DeliveryTracker()), 1, 64);
    }

    /// <summary>
    /// Guards that a session's flush batch costs only its own objects until something is written: the list of
    /// connections to flush gets its array at the first write (an eight-slot array up front was 88 bytes per idle
    /// connection).
    /// </summary>
    [Fact]
    public void FlushBatch_New_AllocatesNoConnectionArray()
    {
        // The batch object and two empty lists (about 110 bytes on x64); an eight-slot array would add 88.
        Assert.InRange(BytesToCreate(static () => new FlushBatch()), 1, 128);
    }

    /// <summary>Guards that a tracker whose parts were never created answers every question as an empty one.</summary>
    [Fact]
    public void DeliveryTracker_Untouched_BehavesAsEmpty()
    {
        var tracker = new DeliveryTracker();
        var taken = new List<InFlightDelivery>();
        MessageId id = MessageId.NewId();

        Assert.True(tracker.IsEmpty);
        Assert.Equal(0, tracker.Count);
        Assert.False(tracker.IsKnown(id));
        Assert.False(tracker.TryComplete(id, out _));
        tracker.TakeExpired(long.MaxValue, taken);
        Assert.Empty(taken);
        tracker.Close(taken);
        Assert.Empty(taken);
        PayloadBuffer payload = PayloadBuffer.Rent(16);
        Assert.Equal(BeginResult.Closed, tracker.TryBegin(id, payload, default, deadline: 0));
        payload.Release();
    }

    /// <summary>Guards the sweeper's view of a tracker: an overdue entry is taken once, leaves it empty, and its id stays known.</summary>
    [Fact]
    public void DeliveryTracker_Overdue_IsTakenOnceAndRemembered()
    {
        var tracker = new DeliveryTracker();
        MessageId overdue = MessageId.NewId();
        MessageId pending = MessageId.NewId();
        PayloadBuffer first = PayloadBuffer.Rent(16);
        PayloadBuffer second = PayloadBuffer.Rent(16);
        var expired = new List<InFlightDelivery>();

        Assert.Equal(BeginResult.Begun, tracker.TryBegin(overdue, first, default, deadline: 10));
        Assert.False(tracker.IsEmpty);
        Assert.Equal(BeginResult.Begun, tracker.TryBegin(pending, second, default, deadline: 100));

        tracker.TakeExpired(now: 50, expired);
        tracker.TakeExpired(now: 50, expired);

        Assert.Equal(overdue, Assert.Single(expired).Id);
        Assert.Equal(1, tracker.Count);
        Assert.True(tracker.IsKnown(overdue));
        Assert.Equal(BeginResult.AlreadyDelivered, tracker.TryBegin(overdue, first, default, deadline: 200));

        Assert.True(tracker.TryComplete(pending, out InFlightDelivery completed));
        Assert.Equal(pending, completed.Id);
        Assert.True(tracker.IsEmpty);
        first.Release();
        second.Release();
    }

    /// <summary>
    /// Guards that the sweeper walks the sessions in place: it runs several times a second, and copying every session
    /// each time was a large-object-heap list per sweep once a server held more than about 10,000 connections.
    /// </summary>
    [Fact]
    public async Task Sweep_ManyIdleSessions_AllocatesNoMoreThanWithOne()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        string[] users = new string[IdleSessions];
        for (int i = 0; i < users.Length; i++)
        {
            users[i] = $"idle-{i}";
        }

        await harness.CreateUsersAsync(users);
        MessageRouter router = RouterOf(harness.First);
        var clients = new List<RawClient>();
        try
        {
            clients.Add(await harness.SignInAsync(users[0]));
            long withOne = await MeasureSweepAsync(router);

            for (int i = 1; i < users.Length; i++)
            {
                clients.Add(await harness.SignInAsync(users[i]));
            }

            long withMany = await MeasureSweepAsync(router);

            Assert.True(
                withMany - withOne < MaxGrowthBytes,
                $"A sweep allocated {withOne} bytes with one session and {withMany} with {IdleSessions}.");
        }
        finally
        {
            foreach (RawClient client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    // The bytes one call of create allocates on this thread, after a first call (type loading is not counted).
    private static long BytesToCreate(Func<object> create)
    {
        GC.KeepAlive(create());

        long before = GC.GetAllocatedBytesForCurrentThread();
        object created = create();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        GC.KeepAlive(created);
        return allocated;
    }

    // The least of a few runs, so one run that happens to grow a pool or a cache is not mistaken for the sweep.
    private static async Task<long> MeasureSweepAsync(MessageRouter router)
    {
        long least = long.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Task sweep = router.SweepAsync(CancellationToken.None);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            await sweep.WaitAsync(ServerHarness.Timeout);
            least = Math.Min(least, allocated);
        }

        return least;
    }

    // The server keeps its parts private; the test reaches the router the sweep loop calls.
    private static MessageRouter RouterOf(ChatServer server)
    {
        FieldInfo field = typeof(ChatServer).GetField("_context", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("ChatServer no longer has a _context field.");
        return ((ServerContext)field.GetValue(server)!).Router;
    }
}
