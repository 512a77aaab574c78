namespace FastChat.Client.Crypto;

/// <summary>
/// The group keys one member holds for one group, by epoch. A member can open exactly the messages of the epochs in
/// its ring: one who joined late never received the earlier keys, and one who was removed never receives the later
/// ones.
/// </summary>
/// <remarks>Safe for concurrent use.</remarks>
public sealed class GroupKeyRing
{
    private readonly Dictionary<int, GroupKey> _keys = [];
    private readonly Lock _lock = new();

    /// <summary>Creates an empty ring for a group.</summary>
    /// <param name="group">The group's name.</param>
    /// <exception cref="ArgumentException"><paramref name="group"/> is <see langword="null"/> or empty.</exception>
    public GroupKeyRing(string group)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        Group = group;
    }

    /// <summary>The group's name.</summary>
    public string Group { get; }

    /// <summary>How many epochs the ring holds keys for.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _keys.Count;
            }
        }
    }

    /// <summary>The key of the highest epoch held, or <see langword="null"/> if the ring is empty: the one to seal new messages with.</summary>
    public GroupKey? Latest
    {
        get
        {
            lock (_lock)
            {
                GroupKey? latest = null;
                foreach (GroupKey key in _keys.Values)
                {
                    if (latest is null || key.Epoch > latest.Epoch)
                    {
                        latest = key;
                    }
                }

                return latest;
            }
        }
    }

    /// <summary>Adds a key; a key already held for the same epoch is replaced (the admin's latest envelope wins).</summary>
    /// <param name="key">The key, typically from <see cref="GroupKeyWrap.Open"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    public void Add(GroupKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            _keys[key.Epoch] = key;
        }
    }

    /// <summary>Looks up the key of an epoch.</summary>
    /// <param name="epoch">The epoch.</param>
    /// <param name="key">The key, if held.</param>
    /// <returns><see langword="true"/> if the ring holds a key for <paramref name="epoch"/>.</returns>
    public bool TryGetKey(int epoch, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GroupKey? key)
    {
        lock (_lock)
        {
            return _keys.TryGetValue(epoch, out key);
        }
    }

    /// <summary>Returns the key of an epoch.</summary>
    /// <param name="epoch">The epoch.</param>
    /// <returns>The key.</returns>
    /// <exception cref="EnvelopeException"><see cref="EnvelopeFailure.UnknownEpoch"/>: the ring holds no key for <paramref name="epoch"/>.</exception>
    public GroupKey GetKey(int epoch)
    {
        if (!TryGetKey(epoch, out GroupKey? key))
        {
            ThrowUnknownEpoch(epoch);
        }

        return key;
    }

    /// <summary>Forgets the key of an epoch (messages of that epoch can no longer be opened).</summary>
    /// <param name="epoch">The epoch.</param>
    /// <returns><see langword="true"/> if a key was removed.</returns>
    public bool Remove(int epoch)
    {
        lock (_lock)
        {
            return _keys.Remove(epoch);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowUnknownEpoch(int epoch) =>
        throw new EnvelopeException(
            EnvelopeFailure.UnknownEpoch,
            $"No key for epoch {epoch} of group '{Group}': this member was not in the group when that key was issued (joined later or was removed), or its key envelope has not arrived.");
}
