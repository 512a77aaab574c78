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
/// Every part is created on first use: most sessions are idle, and the lock, table and recent ids cost about half a
/// kilobyte that a session nothing was ever delivered to should not pay (the per-connection budget is 4 KiB).
/// </remarks>
internal sealed class DeliveryTracker
{
    private Lock? _lock;
    private Dictionary<MessageId, InFlightDelivery>? _inFlight;
    private RecentIds? _recent;
    private bool _closed;

    public int Count
    {
        get
        {
            lock (Sync)
            {
                return _inFlight?.Count ?? 0;
            }
        }
    }

    /// <summary>
    /// Whether nothing is in flight, read without the lock so the sweeper can pass over idle sessions cheaply. A hint
    /// only: an entry added during the read is seen by the next sweep, which is all the sweeper needs.
    /// </summary>
    public bool IsEmpty => Volatile.Read(ref _inFlight) is not { Count: > 0 };

    private Lock Sync => Volatile.Read(ref _lock) ?? CreateLock();

    private Dictionary<MessageId, InFlightDelivery> InFlight => _inFlight ??= [];

    private RecentIds Recent => _recent ??= new RecentIds();

    public BeginResult TryBegin(MessageId id, PayloadBuffer payload, in DeliveryOrigin origin, long deadline)
    {
        lock (Sync)
        {
            if (_closed)
            {
                return BeginResult.Closed;
            }

            Dictionary<MessageId, InFlightDelivery> inFlight = InFlight;
            ref InFlightDelivery entry = ref CollectionsMarshal.GetValueRefOrAddDefault(inFlight, id, out bool exists);
            if (exists)
            {
                entry.Duplicate = origin;
                return BeginResult.AlreadyInFlight;
            }

            if (_recent is { } recent && recent.Contains(id))
            {
                inFlight.Remove(id);
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
        lock (Sync)
        {
            if (_inFlight is null || !_inFlight.Remove(id, out delivery))
            {
                delivery = default;
                return false;
            }

            Recent.Add(id);
            return true;
        }
    }

    /// <summary>
    /// The recipient acked every id of <paramref name="ids"/> (an <c>AckBatch</c>): takes the entries in flight into
    /// <paramref name="completed"/> under one lock, and leaves in <paramref name="ids"/> only the ids that were not in
    /// flight, in order. The same as <see cref="TryComplete"/> for each id in turn.
    /// </summary>
    public void CompleteAll(List<MessageId> ids, List<InFlightDelivery> completed)
    {
        Span<MessageId> span = CollectionsMarshal.AsSpan(ids);
        int notInFlight = 0;
        lock (Sync)
        {
            Dictionary<MessageId, InFlightDelivery>? inFlight = _inFlight;
            for (int i = 0; i < span.Length; i++)
            {
                MessageId id = span[i];
                if (inFlight is not null && inFlight.Remove(id, out InFlightDelivery delivery))
                {
                    Recent.Add(id);
                    completed.Add(delivery);
                }
                else
                {
                    span[notInFlight++] = id;
                }
            }
        }

        ids.RemoveRange(notInFlight, ids.Count - notInFlight);
    }

    /// <summary>Whether <paramref name="id"/> is in flight or was recently written to this session.</summary>
    public bool IsKnown(MessageId id)
    {
        lock (Sync)
        {
            return (_inFlight?.ContainsKey(id) ?? false) || (_recent?.Contains(id) ?? false);
        }
    }

    /// <summary>Records that <paramref name="id"/> was written from the store, so a resend is not written again.</summary>
    public void MarkWritten(MessageId id)
    {
        lock (Sync)
        {
            Recent.Add(id);
        }
    }

    /// <summary>Takes the entries whose deadline has passed (they will be stored); their ids stay known.</summary>
    public void TakeExpired(long now, List<InFlightDelivery> expired)
    {
        lock (Sync)
        {
            if (_inFlight is not { } inFlight)
            {
                return;
            }

            foreach (KeyValuePair<MessageId, InFlightDelivery> entry in inFlight)
            {
                if (entry.Value.Deadline <= now)
                {
                    expired.Add(entry.Value);
                    Recent.Add(entry.Key);

                    // Removing the current entry while enumerating is allowed for Dictionary.
                    inFlight.Remove(entry.Key);
                }
            }
        }
    }

    /// <summary>The session is ending: refuses further deliveries and takes every entry (they will be stored).</summary>
    public void Close(List<InFlightDelivery> remaining)
    {
        lock (Sync)
        {
            _closed = true;
            if (_inFlight is not { } inFlight)
            {
                return;
            }

            foreach (KeyValuePair<MessageId, InFlightDelivery> entry in inFlight)
            {
                remaining.Add(entry.Value);
            }

            inFlight.Clear();
        }
    }

    // Created by whichever thread needs it first; a losing thread's instance is dropped before anyone locks it.
    private Lock CreateLock()
    {
        Interlocked.CompareExchange(ref _lock, new Lock(), null);
        return _lock!;
    }
}
