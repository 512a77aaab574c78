using FastChat.Client.Crypto;

namespace FastChat.Client.Secure.Internal;

/// <summary>What this client knows of one of its groups during a session: the keys it holds, who it believes is the admin, and the newest epoch the server announced.</summary>
/// <remarks>Rebuilt at every sign-in from the key envelopes the server delivers at <c>Resume</c>. Safe for concurrent use.</remarks>
internal sealed class GroupState
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _unwrapped = new(StringComparer.Ordinal);
    private string? _admin;
    private int _serverEpoch = -1;

    public GroupState(string name)
    {
        Name = name;
        Ring = new GroupKeyRing(name);
    }

    public string Name { get; }

    public GroupKeyRing Ring { get; }

    /// <summary>The admin as this client last learned it (a key envelope's sender, a membership change's actor); null when unknown, for example right after the admin left.</summary>
    public string? Admin
    {
        get
        {
            lock (_lock)
            {
                return _admin;
            }
        }

        set
        {
            lock (_lock)
            {
                _admin = value;
            }
        }
    }

    /// <summary>The newest key epoch the server announced (a membership change, a member list); -1 if none yet.</summary>
    public int ServerEpoch
    {
        get
        {
            lock (_lock)
            {
                return _serverEpoch;
            }
        }
    }

    /// <summary>Whether this client, as the admin, confirmed with the server in this session that it holds the key of the group's current epoch.</summary>
    public bool AdminChecked { get; set; }

    /// <summary>The newest epoch this client holds a key for; -1 if none.</summary>
    public int LatestEpoch => Ring.Latest?.Epoch ?? -1;

    public void ObserveEpoch(int epoch)
    {
        lock (_lock)
        {
            _serverEpoch = Math.Max(_serverEpoch, epoch);
        }
    }

    /// <summary>Remembers a member the admin could not wrap the current key for (its identity key changed), to wrap it once the new key is trusted.</summary>
    public void AddUnwrapped(string member)
    {
        lock (_lock)
        {
            _unwrapped.Add(member);
        }
    }

    public bool RemoveUnwrapped(string member)
    {
        lock (_lock)
        {
            return _unwrapped.Remove(member);
        }
    }
}
