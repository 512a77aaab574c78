using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Server.Internal;

/// <summary>One message copy relayed to another server, waiting for that server's receipt.</summary>
internal sealed class RelayedCopy
{
    public required string Sender { get; init; }

    public required MessageId Id { get; init; }

    public required string Recipient { get; init; }

    public required string ServerId { get; init; }

    /// <summary>The payload, kept to store it if no receipt comes; one reference is this copy's.</summary>
    public required PayloadBuffer Payload { get; init; }

    public required DeliveryOrigin Origin { get; init; }

    public required long Deadline { get; init; }

    /// <summary>The next copy with the same sender and id (the other members of a group message).</summary>
    public RelayedCopy? Next { get; set; }
}

/// <summary>
/// The copies this server relayed to peers and not yet settled, keyed by (sender, message id): a receipt comes back
/// as <c>Relay{peer, sender, Ack{id}}</c> (the peer stored it) or <c>Relay{peer, sender, Delivered{id, recipient}}</c>
/// (the recipient acked it, or for a group copy: that member's copy is settled). Thread-safe.
/// </summary>
internal sealed class RelayedDeliveries
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Sender, MessageId Id), RelayedCopy> _copies = [];

    public void Add(RelayedCopy copy)
    {
        lock (_lock)
        {
            if (_copies.TryGetValue((copy.Sender, copy.Id), out RelayedCopy? first))
            {
                copy.Next = first.Next;
                first.Next = copy;
            }
            else
            {
                _copies.Add((copy.Sender, copy.Id), copy);
            }
        }
    }

    /// <summary>Takes the copy a receipt settles: the one for <paramref name="recipient"/>, or any (the only one of a direct message) when it is empty.</summary>
    public RelayedCopy? TryTake(string sender, MessageId id, string recipient)
    {
        lock (_lock)
        {
            if (!_copies.TryGetValue((sender, id), out RelayedCopy? first))
            {
                return null;
            }

            RelayedCopy? previous = null;
            for (RelayedCopy? copy = first; copy is not null; previous = copy, copy = copy.Next)
            {
                if (recipient.Length == 0 || string.Equals(copy.Recipient, recipient, StringComparison.Ordinal))
                {
                    Unlink(previous, copy);
                    return copy;
                }
            }

            return null;
        }
    }

    /// <summary>Takes a copy that could not be sent after all.</summary>
    public bool Remove(RelayedCopy target)
    {
        lock (_lock)
        {
            return RemoveUnsynchronized(target);
        }
    }

    /// <summary>Takes every copy that matches: relayed to <paramref name="serverId"/> (its link is gone), or expired.</summary>
    public void TakeWhere(string? serverId, long expiredBefore, List<RelayedCopy> taken)
    {
        lock (_lock)
        {
            int start = taken.Count;
            foreach (KeyValuePair<(string Sender, MessageId Id), RelayedCopy> entry in _copies)
            {
                for (RelayedCopy? copy = entry.Value; copy is not null; copy = copy.Next)
                {
                    bool match = serverId is null
                        ? copy.Deadline <= expiredBefore
                        : string.Equals(copy.ServerId, serverId, StringComparison.Ordinal);
                    if (match)
                    {
                        taken.Add(copy);
                    }
                }
            }

            // Unlinked after the enumeration: replacing a chain's head would otherwise change the dictionary under it.
            for (int i = start; i < taken.Count; i++)
            {
                RemoveUnsynchronized(taken[i]);
            }
        }
    }

    private bool RemoveUnsynchronized(RelayedCopy target)
    {
        if (!_copies.TryGetValue((target.Sender, target.Id), out RelayedCopy? first))
        {
            return false;
        }

        RelayedCopy? previous = null;
        for (RelayedCopy? copy = first; copy is not null; previous = copy, copy = copy.Next)
        {
            if (ReferenceEquals(copy, target))
            {
                Unlink(previous, copy);
                return true;
            }
        }

        return false;
    }

    // The caller holds the lock.
    private void Unlink(RelayedCopy? previous, RelayedCopy copy)
    {
        if (previous is not null)
        {
            previous.Next = copy.Next;
        }
        else if (copy.Next is not null)
        {
            _copies[(copy.Sender, copy.Id)] = copy.Next;
        }
        else
        {
            _copies.Remove((copy.Sender, copy.Id));
        }

        copy.Next = null;
    }
}
