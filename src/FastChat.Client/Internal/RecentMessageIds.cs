using FastChat.Protocol.Messages;

namespace FastChat.Client.Internal;

/// <summary>What <see cref="RecentMessageIds.TryAdd"/> found.</summary>
internal enum RecentIdState
{
    /// <summary>Not seen recently: it is now recorded as handed to the application but not yet acknowledged.</summary>
    New,

    /// <summary>Seen, and still waiting to be acknowledged: drop the copy, the first one will be acknowledged.</summary>
    Pending,

    /// <summary>Seen and acknowledged: drop the copy and acknowledge it again (the server did not get the first ack).</summary>
    Acknowledged,
}

/// <summary>
/// The ids of the last <see cref="Capacity"/> messages received, to drop the duplicates a server may deliver after a
/// reconnect (at-least-once delivery), with whether each was acknowledged.
/// </summary>
/// <remarks>Bounded: the oldest id is forgotten when a new one arrives at capacity. No allocation in steady state.</remarks>
internal sealed class RecentMessageIds
{
    // Redeliveries come from one server's pending queue after a reconnect, so a few thousand ids cover everything that
    // can be in flight at once (the event channel holds at most EventCapacity, 1024 by default).
    public const int Capacity = 8192;

    private readonly Dictionary<MessageId, bool> _acknowledged = new(Capacity);
    private readonly MessageId[] _order = new MessageId[Capacity];
    private readonly Lock _lock = new();
    private int _next;
    private int _count;

    public RecentIdState TryAdd(MessageId id)
    {
        lock (_lock)
        {
            if (_acknowledged.TryGetValue(id, out bool acknowledged))
            {
                return acknowledged ? RecentIdState.Acknowledged : RecentIdState.Pending;
            }

            if (_count == Capacity)
            {
                _acknowledged.Remove(_order[_next]);
            }
            else
            {
                _count++;
            }

            _order[_next] = id;
            _next = (_next + 1) % Capacity;
            _acknowledged[id] = false;
            return RecentIdState.New;
        }
    }

    public RecentIdState? Find(MessageId id)
    {
        lock (_lock)
        {
            return _acknowledged.TryGetValue(id, out bool acknowledged) ? (acknowledged ? RecentIdState.Acknowledged : RecentIdState.Pending) : null;
        }
    }

    public void MarkAcknowledged(MessageId id)
    {
        lock (_lock)
        {
            ref bool acknowledged = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_acknowledged, id);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref acknowledged))
            {
                acknowledged = true;
            }
        }
    }

    /// <summary>Forgets an id whose event never reached the application (the session ended first), so that its redelivery is not dropped.</summary>
    public void Remove(MessageId id)
    {
        lock (_lock)
        {
            // Its slot in _order stays; evicting it later removes nothing, or a newer copy of the same id a little early.
            _acknowledged.Remove(id);
        }
    }
}
