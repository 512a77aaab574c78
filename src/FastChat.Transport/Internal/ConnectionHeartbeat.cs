using System.Collections.Concurrent;

namespace FastChat.Transport.Internal;

// One process-wide timer that checks every registered connection for idleness once a second, instead of a
// timer per connection re-armed on every receive (which would take the timer queue's lock per read). The
// receive path only stores a timestamp. Connections register only when their idle timeout is finite.
internal static class ConnectionHeartbeat
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private static readonly ConcurrentDictionary<long, FastChatConnection> s_connections = new();
    private static readonly Lock s_timerLock = new();
    private static Timer? s_timer;
    private static int s_ticking;

    public static void Register(FastChatConnection connection)
    {
        s_connections.TryAdd(connection.Id, connection);
        if (Volatile.Read(ref s_timer) is null)
        {
            EnsureTimer();
        }
    }

    public static void Unregister(FastChatConnection connection) => s_connections.TryRemove(connection.Id, out _);

    private static void EnsureTimer()
    {
        using (s_timerLock.EnterScope())
        {
            // The timer lives for the process, like the thread pool it runs on; it is not rooted by any connection.
            s_timer ??= new Timer(static _ => Tick(), null, Interval, Interval);
        }
    }

    private static void Tick()
    {
        // A slow tick (thousands of connections on a busy machine) must not overlap the next one.
        if (Interlocked.Exchange(ref s_ticking, 1) != 0)
        {
            return;
        }

        try
        {
            long now = Environment.TickCount64;
            foreach (KeyValuePair<long, FastChatConnection> entry in s_connections)
            {
                entry.Value.OnHeartbeat(now);
            }
        }
        finally
        {
            Volatile.Write(ref s_ticking, 0);
        }
    }
}
