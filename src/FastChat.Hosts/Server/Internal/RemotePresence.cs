using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// A cache of which other server a user is connected to, so relaying to a remote user needs no store round trip.
/// Only positive answers are cached: an offline recipient costs a store write anyway, and presence is re-read from the
/// store after every store. Entries are corrected by <c>Presence</c> frames from peers (a peer that receives a relay
/// for a user it no longer has says where the user is now) and dropped when a link to the server closes.
/// </summary>
internal sealed class RemotePresence
{
    // Bounded: a server relaying to more distinct users than this starts over rather than grow without limit.
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, string> _servers = new(StringComparer.Ordinal);

    public bool TryGet(string userName, [NotNullWhen(true)] out string? serverId) => _servers.TryGetValue(userName, out serverId);

    public void Set(string userName, string serverId)
    {
        if (_servers.Count >= MaxEntries)
        {
            _servers.Clear();
        }

        _servers[userName] = serverId;
    }

    /// <summary>Forgets a user (it is here now, or went offline); with <paramref name="serverId"/>, only if it names that server.</summary>
    public void Forget(string userName, string? serverId = null)
    {
        if (serverId is null || serverId.Length == 0)
        {
            _servers.TryRemove(userName, out _);
        }
        else
        {
            _servers.TryRemove(new KeyValuePair<string, string>(userName, serverId));
        }
    }

    /// <summary>Forgets every user cached on <paramref name="serverId"/> (its link closed: it may have gone away).</summary>
    public void ForgetServer(string serverId)
    {
        foreach (KeyValuePair<string, string> entry in _servers)
        {
            if (string.Equals(entry.Value, serverId, StringComparison.Ordinal))
            {
                _servers.TryRemove(entry);
            }
        }
    }
}
