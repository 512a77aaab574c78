using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// The signed-in sessions on this server by user name: the in-memory presence map the relay path consults instead of
/// the store. A user has at most one session here; a newer one replaces the older.
/// </summary>
internal sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<string, ClientSession> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public bool TryGet(string userName, [NotNullWhen(true)] out ClientSession? session) => _sessions.TryGetValue(userName, out session);

    /// <summary>Registers <paramref name="session"/> for its user; returns the session it replaced, if any.</summary>
    public ClientSession? Register(ClientSession session)
    {
        ClientSession? previous = null;
        _sessions.AddOrUpdate(
            session.UserName,
            static (_, added) => added,
            (_, existing, added) =>
            {
                previous = existing;
                return added;
            },
            session);
        return previous;
    }

    /// <summary>Removes <paramref name="session"/> if it is still the user's registered session.</summary>
    public bool Remove(ClientSession session) =>
        _sessions.TryRemove(new KeyValuePair<string, ClientSession>(session.UserName, session));

    /// <summary>
    /// Enumerates the sessions in place, for the sweeper: it runs several times a second, and a copy of every session
    /// (what <see cref="Snapshot"/> makes) is a large-object-heap array once there are more than about 10,000 of them.
    /// Sessions registered or removed meanwhile may or may not be seen.
    /// </summary>
    public Enumerator GetEnumerator() => new(_sessions.GetEnumerator());

    /// <summary>A snapshot of every session (for shutdown, which awaits while it walks them).</summary>
    public List<ClientSession> Snapshot()
    {
        var sessions = new List<ClientSession>(_sessions.Count);
        foreach (KeyValuePair<string, ClientSession> entry in _sessions)
        {
            sessions.Add(entry.Value);
        }

        return sessions;
    }

    /// <summary>Walks the live dictionary (its enumerator is the one allocation), yielding the sessions.</summary>
    internal struct Enumerator(IEnumerator<KeyValuePair<string, ClientSession>> inner) : IDisposable
    {
        public readonly ClientSession Current => inner.Current.Value;

        public readonly bool MoveNext() => inner.MoveNext();

        public readonly void Dispose() => inner.Dispose();
    }
}
