namespace FastChat.Hosts.Balancer.Internal;

/// <summary>One registered server as the selector sees it: a snapshot taken under the registry's lock.</summary>
/// <param name="Id">The server's id.</param>
/// <param name="Connections">The connections it last reported plus the clients assigned to it since.</param>
/// <param name="Cpu">The CPU use it last reported (0..1).</param>
/// <param name="MemoryBytes">The memory use it last reported.</param>
/// <param name="IsLive">Whether its last report is recent enough for it to be assigned.</param>
internal readonly record struct ServerLoad(string Id, long Connections, double Cpu, long MemoryBytes, bool IsLive);

/// <summary>
/// Picks a server for one assignment by a <see cref="BalancingStrategy"/>: pure, with no I/O, clock or locking, so
/// every strategy can be tested on hand-made snapshots. Not thread-safe: the registry calls it under its lock (the
/// round-robin position and the random generator are its only state).
/// </summary>
/// <remarks>
/// Dead servers are never picked. Ties go to the server whose id sorts first (ordinally); the snapshot's order does
/// not matter.
/// </remarks>
internal sealed class ServerSelector
{
    private readonly Random _random;

    // Round-robin remembers the id it picked last, not an index: servers joining or leaving then do not shift the
    // cycle, and the next pick is simply the live server whose id follows that one.
    private string? _lastRoundRobinId;

    public ServerSelector(BalancingStrategy strategy, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Strategy = strategy;
        _random = random;
    }

    public BalancingStrategy Strategy { get; }

    /// <summary>Chooses a server.</summary>
    /// <param name="servers">Every registered server (in any order).</param>
    /// <returns>The index of the chosen server in <paramref name="servers"/>, or -1 when none is live.</returns>
    public int Select(ReadOnlySpan<ServerLoad> servers) => Strategy switch
    {
        BalancingStrategy.RoundRobin => SelectRoundRobin(servers),
        BalancingStrategy.Random => SelectRandom(servers),
        BalancingStrategy.LeastConnections => SelectMinimum(servers, static s => s.Connections),
        BalancingStrategy.LeastCpu => SelectMinimumCpu(servers),
        BalancingStrategy.LeastMemory => SelectMinimum(servers, static s => s.MemoryBytes),
        BalancingStrategy.PowerOfTwo => SelectPowerOfTwo(servers),
        _ => SelectRoundRobin(servers),
    };

    private static int CountLive(ReadOnlySpan<ServerLoad> servers)
    {
        int live = 0;
        foreach (ServerLoad server in servers)
        {
            if (server.IsLive)
            {
                live++;
            }
        }

        return live;
    }

    // The index of the n-th live server (0-based) in id order.
    private static int NthLiveById(ReadOnlySpan<ServerLoad> servers, int n)
    {
        // Snapshots are small (a cluster has a handful of servers) and the registry keeps them sorted by id, so the
        // selection sort below is a single pass in practice; it only guards the selector's independence from order.
        string? previous = null;
        int chosen = -1;
        for (int rank = 0; rank <= n; rank++)
        {
            chosen = -1;
            for (int i = 0; i < servers.Length; i++)
            {
                ServerLoad server = servers[i];
                if (!server.IsLive || (previous is not null && string.CompareOrdinal(server.Id, previous) <= 0))
                {
                    continue;
                }

                if (chosen < 0 || string.CompareOrdinal(server.Id, servers[chosen].Id) < 0)
                {
                    chosen = i;
                }
            }

            if (chosen < 0)
            {
                return -1;
            }

            previous = servers[chosen].Id;
        }

        return chosen;
    }

    private static bool IsBetter(long value, string id, long bestValue, string bestId) =>
        value < bestValue || (value == bestValue && string.CompareOrdinal(id, bestId) < 0);

    private static int SelectMinimum(ReadOnlySpan<ServerLoad> servers, Func<ServerLoad, long> metric)
    {
        int best = -1;
        long bestValue = 0;
        for (int i = 0; i < servers.Length; i++)
        {
            ServerLoad server = servers[i];
            if (!server.IsLive)
            {
                continue;
            }

            long value = metric(server);
            if (best < 0 || IsBetter(value, server.Id, bestValue, servers[best].Id))
            {
                best = i;
                bestValue = value;
            }
        }

        return best;
    }

    private static int SelectMinimumCpu(ReadOnlySpan<ServerLoad> servers)
    {
        int best = -1;
        for (int i = 0; i < servers.Length; i++)
        {
            ServerLoad server = servers[i];
            if (!server.IsLive)
            {
                continue;
            }

            if (best < 0)
            {
                best = i;
                continue;
            }

            ServerLoad current = servers[best];
            if (server.Cpu < current.Cpu || (server.Cpu == current.Cpu && string.CompareOrdinal(server.Id, current.Id) < 0))
            {
                best = i;
            }
        }

        return best;
    }

    private int SelectRoundRobin(ReadOnlySpan<ServerLoad> servers)
    {
        // The live server with the smallest id after the last one picked; past the end, wrap to the smallest id.
        int next = -1;
        int first = -1;
        for (int i = 0; i < servers.Length; i++)
        {
            ServerLoad server = servers[i];
            if (!server.IsLive)
            {
                continue;
            }

            if (first < 0 || string.CompareOrdinal(server.Id, servers[first].Id) < 0)
            {
                first = i;
            }

            if (_lastRoundRobinId is not null
                && string.CompareOrdinal(server.Id, _lastRoundRobinId) > 0
                && (next < 0 || string.CompareOrdinal(server.Id, servers[next].Id) < 0))
            {
                next = i;
            }
        }

        int chosen = next >= 0 ? next : first;
        if (chosen >= 0)
        {
            _lastRoundRobinId = servers[chosen].Id;
        }

        return chosen;
    }

    private int SelectRandom(ReadOnlySpan<ServerLoad> servers)
    {
        int live = CountLive(servers);
        return live == 0 ? -1 : NthLiveById(servers, _random.Next(live));
    }

    private int SelectPowerOfTwo(ReadOnlySpan<ServerLoad> servers)
    {
        int live = CountLive(servers);
        if (live <= 1)
        {
            return live == 0 ? -1 : NthLiveById(servers, 0);
        }

        // Two distinct servers: draw the second from the remaining live - 1 and skip over the first.
        int a = _random.Next(live);
        int b = _random.Next(live - 1);
        if (b >= a)
        {
            b++;
        }

        int first = NthLiveById(servers, a);
        int second = NthLiveById(servers, b);
        return IsBetter(servers[second].Connections, servers[second].Id, servers[first].Connections, servers[first].Id) ? second : first;
    }
}
