using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastChat.Hosts.Balancer.Internal;

/// <summary>Where a client assigned to a server connects: fixed at the server's registration.</summary>
/// <param name="ServerId">The server's id.</param>
/// <param name="Host">The host it advertised.</param>
/// <param name="Port">The port it advertised.</param>
internal sealed record ServerRoute(string ServerId, string Host, int Port);

/// <summary>
/// The chat servers registered with the balancer: their advertised endpoints, last load reports and the clients
/// assigned to them since. Thread-safe (one short lock; a cluster has a handful of servers and the operations are a
/// pass over them).
/// </summary>
/// <remarks>
/// <para>A server is live while its last load report (or its registration) is younger than the server timeout;
/// liveness is computed when it is asked for, against the <see cref="TimeProvider"/>, so no timer is needed and tests
/// can move time by hand. A server that stops reporting stays listed (not live) until its link closes.</para>
/// <para>Each entry belongs to the link that registered it (an opaque owner object, the connection). A server that
/// restarts and registers again replaces its entry, and the old link closing later does not remove the new one.</para>
/// </remarks>
internal sealed class ServerRegistry
{
    private readonly Lock _lock = new();
    private readonly List<Entry> _servers = [];
    private readonly ServerSelector _selector;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _serverTimeout;
    private readonly ILogger _logger;
    private ServerLoad[] _scratch = new ServerLoad[4];

    public ServerRegistry(ServerSelector selector, TimeSpan serverTimeout, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _selector = selector;
        _serverTimeout = serverTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Registers a server, replacing any entry with the same id.</summary>
    /// <param name="route">Its id and advertised endpoint.</param>
    /// <param name="link">The link that registered it; it owns the entry.</param>
    /// <returns>The link of the entry replaced, if another link had registered the id; otherwise <see langword="null"/>.</returns>
    public object? Register(ServerRoute route, object link)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(link);
        DateTime now = UtcNow();
        using (_lock.EnterScope())
        {
            var entry = new Entry(route, link, now);
            int index = IndexOf(route.ServerId);
            if (index >= 0)
            {
                object previous = _servers[index].Link;
                _servers[index] = entry;
                return ReferenceEquals(previous, link) ? null : previous;
            }

            _servers.Insert(~index, entry);
            return null;
        }
    }

    /// <summary>Records a load report from the link that registered <paramref name="serverId"/>; it is also the server's heartbeat.</summary>
    /// <returns><see langword="false"/> if that link does not own the entry (it was replaced or removed).</returns>
    public bool Report(string serverId, object link, int connections, double cpu, long memoryBytes)
    {
        DateTime now = UtcNow();
        using (_lock.EnterScope())
        {
            int index = IndexOf(serverId);
            if (index < 0 || !ReferenceEquals(_servers[index].Link, link))
            {
                return false;
            }

            Entry entry = _servers[index];
            entry.ReportedConnections = connections;
            entry.Cpu = cpu;
            entry.MemoryBytes = memoryBytes;
            entry.LastSeen = now;

            // The report counts every client that connected, including those assigned since the last one.
            entry.AssignedSinceReport = 0;
            if (!entry.WasLive)
            {
                entry.WasLive = true;
                BalancerLog.ServerLiveAgain(_logger, serverId);
            }

            return true;
        }
    }

    /// <summary>Removes a server when the link that registered it closes.</summary>
    /// <returns><see langword="true"/> if the entry was removed; <see langword="false"/> if another link owns it now.</returns>
    public bool Remove(string serverId, object link)
    {
        using (_lock.EnterScope())
        {
            int index = IndexOf(serverId);
            if (index < 0 || !ReferenceEquals(_servers[index].Link, link))
            {
                return false;
            }

            _servers.RemoveAt(index);
            return true;
        }
    }

    /// <summary>Picks a live server by the strategy and counts the assignment toward its connections until its next report.</summary>
    /// <param name="route">The chosen server.</param>
    /// <returns><see langword="false"/> when no server is live.</returns>
    public bool TryAssign(out ServerRoute? route)
    {
        DateTime now = UtcNow();
        using (_lock.EnterScope())
        {
            int count = _servers.Count;
            if (_scratch.Length < count)
            {
                _scratch = new ServerLoad[Math.Max(count, _scratch.Length * 2)];
            }

            Span<ServerLoad> loads = _scratch.AsSpan(0, count);
            for (int i = 0; i < count; i++)
            {
                Entry entry = _servers[i];
                loads[i] = new ServerLoad(
                    entry.Route.ServerId,
                    (long)entry.ReportedConnections + entry.AssignedSinceReport,
                    entry.Cpu,
                    entry.MemoryBytes,
                    UpdateLiveness(entry, now));
            }

            int chosen = _selector.Select(loads);
            if (chosen < 0)
            {
                route = null;
                return false;
            }

            Entry selected = _servers[chosen];
            selected.AssignedSinceReport++;
            route = selected.Route;
            return true;
        }
    }

    /// <summary>Whether any server is live now.</summary>
    public bool HasLiveServer() => CountLive() > 0;

    /// <summary>The number of live servers now.</summary>
    public int CountLive()
    {
        DateTime now = UtcNow();
        using (_lock.EnterScope())
        {
            int live = 0;
            foreach (Entry entry in _servers)
            {
                if (UpdateLiveness(entry, now))
                {
                    live++;
                }
            }

            return live;
        }
    }

    /// <summary>Every registered server, live or not, ordered by id.</summary>
    public ServerStatus[] Snapshot()
    {
        DateTime now = UtcNow();
        using (_lock.EnterScope())
        {
            var servers = new ServerStatus[_servers.Count];
            for (int i = 0; i < servers.Length; i++)
            {
                Entry entry = _servers[i];
                servers[i] = new ServerStatus
                {
                    ServerId = entry.Route.ServerId,
                    Host = entry.Route.Host,
                    Port = entry.Route.Port,
                    Connections = entry.ReportedConnections,
                    Cpu = entry.Cpu,
                    MemoryBytes = entry.MemoryBytes,
                    LastReportAt = entry.LastSeen,
                    Live = UpdateLiveness(entry, now),
                };
            }

            return servers;
        }
    }

    private DateTime UtcNow() => _timeProvider.GetUtcNow().UtcDateTime;

    // Binary search by ordinal id; the complement of the insertion point when absent (List<T>.BinarySearch's convention).
    private int IndexOf(string serverId)
    {
        int low = 0;
        int high = _servers.Count - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            int order = string.CompareOrdinal(_servers[middle].Route.ServerId, serverId);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low;
    }

    // The caller holds the lock. Logs the moment a server is first seen without recent reports.
    private bool UpdateLiveness(Entry entry, DateTime now)
    {
        TimeSpan silence = now - entry.LastSeen;
        bool live = silence < _serverTimeout;
        if (!live && entry.WasLive)
        {
            entry.WasLive = false;
            BalancerLog.ServerStale(_logger, entry.Route.ServerId, silence, _serverTimeout);
        }

        return live;
    }

    private sealed class Entry(ServerRoute route, object link, DateTime registeredAt)
    {
        public ServerRoute Route { get; } = route;

        public object Link { get; } = link;

        public DateTime LastSeen { get; set; } = registeredAt;

        public bool WasLive { get; set; } = true;

        public int ReportedConnections { get; set; }

        public int AssignedSinceReport { get; set; }

        public double Cpu { get; set; }

        public long MemoryBytes { get; set; }
    }
}
