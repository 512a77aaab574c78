using FastChat.Hosts.Balancer;
using FastChat.Hosts.Balancer.Internal;
using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Hosts.Tests.Balancer;

public class ServerRegistryTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);

    private static ServerRegistry Create(BalancingStrategy strategy, ManualTimeProvider time) =>
        new(new ServerSelector(strategy, new Random(1)), s_timeout, time, NullLogger.Instance);

    private static string Assign(ServerRegistry registry)
    {
        Assert.True(registry.TryAssign(out ServerRoute? route));
        return route!.ServerId;
    }

    [Fact]
    public void TryAssign_Empty_ReturnsFalse()
    {
        ServerRegistry registry = Create(BalancingStrategy.RoundRobin, new ManualTimeProvider());

        Assert.False(registry.TryAssign(out ServerRoute? route));
        Assert.Null(route);
        Assert.False(registry.HasLiveServer());
    }

    [Fact]
    public void TryAssign_LeastConnections_CountsAssignmentsUntilTheNextReport()
    {
        var time = new ManualTimeProvider();
        ServerRegistry registry = Create(BalancingStrategy.LeastConnections, time);
        object linkA = new(), linkB = new();
        registry.Register(new ServerRoute("a", "127.0.0.1", 1001), linkA);
        registry.Register(new ServerRoute("b", "127.0.0.1", 1002), linkB);
        Assert.True(registry.Report("a", linkA, connections: 10, cpu: 0, memoryBytes: 0));
        Assert.True(registry.Report("b", linkB, connections: 7, cpu: 0, memoryBytes: 0));

        // b (7) gets three clients until it has 10 like a, then they alternate, a first on ties.
        Assert.Equal(["b", "b", "b", "a", "b", "a"], [Assign(registry), Assign(registry), Assign(registry), Assign(registry), Assign(registry), Assign(registry)]);

        // A report replaces the estimate: b now says 5 in all, so it is the emptier again.
        Assert.True(registry.Report("b", linkB, connections: 5, cpu: 0, memoryBytes: 0));
        Assert.Equal("b", Assign(registry));
    }

    [Fact]
    public void TryAssign_ServerStopsReporting_IsNoLongerAssignedAndListedNotLive()
    {
        var time = new ManualTimeProvider();
        ServerRegistry registry = Create(BalancingStrategy.RoundRobin, time);
        object linkA = new(), linkB = new();
        registry.Register(new ServerRoute("a", "127.0.0.1", 1001), linkA);
        registry.Register(new ServerRoute("b", "127.0.0.1", 1002), linkB);
        Assert.Equal(2, registry.CountLive());

        time.Advance(TimeSpan.FromSeconds(2));
        registry.Report("a", linkA, 0, 0, 0);
        time.Advance(TimeSpan.FromSeconds(2));

        // b was last heard from 4 s ago (over the 3 s timeout), a 2 s ago.
        Assert.Equal(1, registry.CountLive());
        Assert.Equal(["a", "a", "a"], [Assign(registry), Assign(registry), Assign(registry)]);
        ServerStatus[] servers = registry.Snapshot();
        Assert.Equal(["a", "b"], servers.Select(s => s.ServerId).ToArray());
        Assert.True(servers[0].Live);
        Assert.False(servers[1].Live);

        // Reports resume: b is assigned again.
        registry.Report("b", linkB, 0, 0, 0);
        Assert.Contains("b", new[] { Assign(registry), Assign(registry) });
    }

    [Fact]
    public void Register_SameIdFromNewLink_ReplacesAndTheOldLinkCanNeitherReportNorRemove()
    {
        ServerRegistry registry = Create(BalancingStrategy.RoundRobin, new ManualTimeProvider());
        object oldLink = new(), newLink = new();
        Assert.Null(registry.Register(new ServerRoute("a", "127.0.0.1", 1001), oldLink));

        Assert.Same(oldLink, registry.Register(new ServerRoute("a", "127.0.0.2", 2002), newLink));

        Assert.False(registry.Report("a", oldLink, 5, 0.5, 5));
        Assert.False(registry.Remove("a", oldLink));
        ServerStatus server = Assert.Single(registry.Snapshot());
        Assert.Equal("127.0.0.2", server.Host);
        Assert.Equal(2002, server.Port);
        Assert.True(registry.Remove("a", newLink));
        Assert.Empty(registry.Snapshot());
    }

    [Fact]
    public void Snapshot_ReportsTheLastLoadAndTime()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        ServerRegistry registry = Create(BalancingStrategy.RoundRobin, time);
        object link = new();
        registry.Register(new ServerRoute("s1", "chat.example", 7801), link);
        time.Advance(TimeSpan.FromSeconds(1));
        registry.Report("s1", link, connections: 42, cpu: 0.25, memoryBytes: 123_456_789);

        ServerStatus status = Assert.Single(registry.Snapshot());
        Assert.Equal(new ServerStatus
        {
            ServerId = "s1",
            Host = "chat.example",
            Port = 7801,
            Connections = 42,
            Cpu = 0.25,
            MemoryBytes = 123_456_789,
            LastReportAt = new DateTime(2030, 1, 2, 3, 4, 6, DateTimeKind.Utc),
            Live = true,
        }, status);
    }

    [Fact]
    public async Task TryAssign_ConcurrentCallers_EveryAssignmentCounted()
    {
        ServerRegistry registry = Create(BalancingStrategy.LeastConnections, new ManualTimeProvider());
        for (int i = 0; i < 4; i++)
        {
            registry.Register(new ServerRoute("s" + i, "127.0.0.1", 1000 + i), new object());
        }

        var counts = new int[4];
        Task[] workers = new Task[4];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(() =>
            {
                for (int i = 0; i < 100; i++)
                {
                    Assert.True(registry.TryAssign(out ServerRoute? route));
                    Interlocked.Increment(ref counts[route!.Port - 1000]);
                }
            });
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));

        // Least-connections over counted assignments spreads 400 exactly evenly, however the callers interleave.
        Assert.Equal([100, 100, 100, 100], counts);
    }
}
