using System.Collections.Concurrent;
using FastChat.Hosts.Storage;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// Recently read groups (admin and members), so a group message fans out without a store round trip. An entry is
/// dropped when this server changes the group, when a <c>GroupChanged</c> notice for it arrives from a peer, and after
/// <see cref="Lifetime"/> at the latest (a change made elsewhere while none of the group's members was here).
/// A sender the cached list does not show as a member is checked against the store before being refused.
/// </summary>
internal sealed class GroupCache
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _groups = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly long _lifetimeTicks;

    public GroupCache(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _lifetimeTicks = (long)(Lifetime.TotalSeconds * timeProvider.TimestampFrequency);
    }

    public GroupInfo? TryGet(string group)
    {
        if (_groups.TryGetValue(group, out Entry? entry) && _timeProvider.GetTimestamp() - entry.ReadAt < _lifetimeTicks)
        {
            return entry.Group;
        }

        return null;
    }

    public async ValueTask<GroupInfo?> GetAsync(IChatStore store, string group, CancellationToken cancellationToken)
    {
        GroupInfo? cached = TryGet(group);
        if (cached is not null)
        {
            return cached;
        }

        return await RefreshAsync(store, group, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<GroupInfo?> RefreshAsync(IChatStore store, string group, CancellationToken cancellationToken)
    {
        long readAt = _timeProvider.GetTimestamp();
        GroupInfo? info = await store.GetGroupAsync(group, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            _groups.TryRemove(group, out _);
            return null;
        }

        if (_groups.Count >= MaxEntries)
        {
            _groups.Clear();
        }

        _groups[group] = new Entry(info, readAt);
        return info;
    }

    public void Invalidate(string group) => _groups.TryRemove(group, out _);

    public static bool IsMember(GroupInfo group, string userName)
    {
        IReadOnlyList<string> members = group.Members;
        for (int i = 0; i < members.Count; i++)
        {
            if (string.Equals(members[i], userName, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private sealed record Entry(GroupInfo Group, long ReadAt);
}
