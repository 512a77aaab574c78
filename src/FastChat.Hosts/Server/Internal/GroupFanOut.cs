using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// Counts the member copies of one group message still waiting for an ack (live or relayed) and acks the sender once
/// the last is acked or stored. Pooled: one is rented per group message and returned after it completes.
/// </summary>
/// <remarks>
/// The count starts at one, held by the dispatcher itself, so copies completing while others are still being sent
/// (or stored) cannot ack the sender early; <see cref="CopyDone"/> for that first reference comes once dispatching ends.
/// </remarks>
internal sealed class GroupFanOut
{
    private static readonly ObjectPool<GroupFanOut> s_pool = new(256);

    private int _remaining;
    private volatile bool _failed;

    private GroupFanOut()
    {
    }

    public MessageId Id { get; private set; }

    /// <summary>Who gets the <c>Ack</c>: the sending session and its request id.</summary>
    public DeliveryOrigin Origin { get; private set; }

    public static GroupFanOut Rent(MessageId id, in DeliveryOrigin origin)
    {
        GroupFanOut fanOut = s_pool.Rent() ?? new GroupFanOut();
        fanOut.Id = id;
        fanOut.Origin = origin;
        fanOut._remaining = 1;
        fanOut._failed = false;
        return fanOut;
    }

    /// <summary>One more copy is in flight.</summary>
    public void AddCopy() => Interlocked.Increment(ref _remaining);

    /// <summary>Takes back a copy that was counted but not sent (the dispatcher still holds its own reference, so this never completes).</summary>
    public void RemoveCopy() => Interlocked.Decrement(ref _remaining);

    /// <summary>A copy could not be stored: the sender gets an error instead of the ack, and resends.</summary>
    public void Fail() => _failed = true;

    /// <summary>A copy is acked or stored (or the dispatcher is done); the last one acks the sender.</summary>
    public void CopyDone(MessageRouter router, FlushBatch batch)
    {
        if (Interlocked.Decrement(ref _remaining) != 0)
        {
            return;
        }

        DeliveryOrigin origin = Origin;
        MessageId id = Id;
        bool failed = _failed;
        Origin = default;
        _ = s_pool.Return(this);
        if (failed)
        {
            router.FailOrigin(in origin, id, batch);
        }
        else
        {
            router.CompleteOrigin(in origin, id, delivered: false, recipient: string.Empty, batch);
        }
    }
}
