using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// The last <see cref="Capacity"/> message ids written to one session, so a resent message is not written twice.
/// A ring plus a set; both grow lazily, so a quiet session costs almost nothing. Not thread-safe (the owner locks).
/// </summary>
internal sealed class RecentIds
{
    // Enough to cover a client's outbox resending after a reconnect; older duplicates are caught by the client, which
    // drops ids it has seen.
    public const int Capacity = 512;

    private readonly HashSet<MessageId> _set = [];
    private MessageId[] _ring = new MessageId[16];
    private int _count;
    private int _next;

    public bool Contains(MessageId id) => _set.Contains(id);

    public void Add(MessageId id)
    {
        if (!_set.Add(id))
        {
            return;
        }

        if (_count < _ring.Length)
        {
            _ring[_count++] = id;
            return;
        }

        if (_ring.Length < Capacity)
        {
            Array.Resize(ref _ring, Math.Min(_ring.Length * 2, Capacity));
            _ring[_count++] = id;
            return;
        }

        // Full: the oldest id makes room.
        _set.Remove(_ring[_next]);
        _ring[_next] = id;
        _next = (_next + 1) % _ring.Length;
    }
}
