using System.Runtime.InteropServices;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Server.Internal;

/// <summary>One message written live to a recipient and not yet acknowledged.</summary>
internal struct InFlightDelivery
{
    public MessageId Id;

    /// <summary>The payload, kept to store it if the recipient never acks; one reference is this entry's.</summary>
    public PayloadBuffer Payload;

    /// <summary>Who waits for the outcome.</summary>
    public DeliveryOrigin Origin;

    /// <summary>A second sender of the same id (a resend while the first copy was in flight), completed with the first.</summary>
    public DeliveryOrigin Duplicate;

    /// <summary>When to give up waiting and store the message (a <see cref="TimeProvider.GetTimestamp"/> value).</summary>
    public long Deadline;
}

/// <summary>What <see cref="DeliveryTracker.TryBegin"/> decided.</summary>
internal enum BeginResult
{
    /// <summary>Tracked: write the payload to the recipient now.</summary>
    Begun,

    /// <summary>The same id is already in flight to this recipient: the origin was attached to it; write nothing.</summary>
    AlreadyInFlight,

    /// <summary>The id was already written to this session (acked, or stored after a timeout): write nothing, ack the origin.</summary>
    AlreadyDelivered,

    /// <summary>The session is ending: deliver some other way (store it).</summary>
    Closed,
}

/// <summary>
/// The in-flight table of one recipient session: messages written to it and not yet acknowledged, plus the ids
/// recently written (duplicate suppression). Thread-safe: senders add from their own read loops, the recipient's
/// acks remove from its loop, the sweeper expires entries and the session's end takes what is left.
/// </summary>
/// <remarks>
/// A dictionary of structs under a short lock: adding and removing entries allocates nothing once the table has
/// grown to its working size. The lock is held only for dictionary operations, never while writing or awaiting.
/// </remarks>
internal sealed class DeliveryTracker
{
    private readonly Lock _lock = new();
    private readonly Dictionary<MessageId, InFlightDelivery> _inFlight = [];
    private readonly RecentIds _recent = new();
    private bool _closed;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _inFlight.Count;
            }
        }
    }

    public BeginResult TryBegin(MessageId id, PayloadBuffer payload, in DeliveryOrigin origin, long deadline)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return BeginResult.Closed;
            }

            ref InFlightDelivery entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_inFlight, id, out bool exists);
            if (exists)
            {
                entry.Duplicate = origin;
                return BeginResult.AlreadyInFlight;
            }

            if (_recent.Contains(id))
            {
                _inFlight.Remove(id);
                return BeginResult.AlreadyDelivered;
            }

            entry.Id = id;
            entry.Payload = payload;
            entry.Origin = origin;
            entry.Duplicate = default;
            entry.Deadline = deadline;
            return BeginResult.Begun;
        }
    }

    /// <summary>The recipient acked <paramref name="id"/>: takes its entry, if it is in flight.</summary>
    public bool TryComplete(MessageId id, out InFlightDelivery delivery)
    {
        lock (_lock)
        {
            if (!_inFlight.Remove(id, out delivery))
            {
                return false;
            }

            _recent.Add(id);
            return true;
        }
    }

    /// <summary>Whether <paramref name="id"/> is in flight or was recently written to this session.</summary>
    public bool IsKnown(MessageId id)
    {
        lock (_lock)
        {
            return _inFlight.ContainsKey(id) || _recent.Contains(id);
        }
    }

    /// <summary>Records that <paramref name="id"/> was written from the store, so a resend is not written again.</summary>
    public void MarkWritten(MessageId id)
    {
        lock (_lock)
        {
            _recent.Add(id);
        }
    }

    /// <summary>Takes the entries whose deadline has passed (they will be stored); their ids stay known.</summary>
    public void TakeExpired(long now, List<InFlightDelivery> expired)
    {
        lock (_lock)
        {
            foreach (KeyValuePair<MessageId, InFlightDelivery> entry in _inFlight)
            {
                if (entry.Value.Deadline <= now)
                {
                    expired.Add(entry.Value);
                    _recent.Add(entry.Key);

                    // Removing the current entry while enumerating is allowed for Dictionary.
                    _inFlight.Remove(entry.Key);
                }
            }
        }
    }

    /// <summary>The session is ending: refuses further deliveries and takes every entry (they will be stored).</summary>
    public void Close(List<InFlightDelivery> remaining)
    {
        lock (_lock)
        {
            _closed = true;
            foreach (KeyValuePair<MessageId, InFlightDelivery> entry in _inFlight)
            {
                remaining.Add(entry.Value);
            }

            _inFlight.Clear();
        }
    }
}
