using System.Runtime.InteropServices;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// The connections written to while one batch of frames was handled (recipients, senders waiting for acks, peer
/// links), flushed together once the batch is done: one flush per connection per batch instead of one per frame.
/// Owned by one read loop (or one background operation) at a time; not thread-safe.
/// </summary>
/// <remarks>
/// It also coalesces acknowledgements for senders that negotiated <see cref="ProtocolFeatures.AckBatch"/>: the
/// <c>Ack</c>s and <c>Delivered</c>s produced during the batch are written at <see cref="Flush"/> as one
/// <c>AckBatch</c> per sender, then one <c>DeliveredBatch</c> per sender and recipient, so each ack still reaches its
/// sender before the <c>Delivered</c> of the same id.
/// </remarks>
internal sealed class FlushBatch
{
    // Past this many entries the batch flushes early rather than grow without bound. A group fan-out adds every member
    // once per message, so the bound must leave room for several messages to a large group: each member should get
    // all of a read batch's messages in one flush (one send), not one send per message. At 256 a group of 1,000 got
    // one send per message per member and relayed 40 % fewer deliveries (docs/benchmarks.md). 16,384 entries is
    // 16 messages to a group of 1,000 (128 KiB of list, kept by the sessions that send to such groups).
    private const int MaxPending = 16_384;

    // Past this many coalesced acks the batch writes them early: it bounds the frames and the grouping work at Flush.
    private const int MaxPendingAcks = 256;

    // Empty until the first write: every session and peer link owns a batch, and an idle one should not hold an array
    // (the per-connection budget is 4 KiB). The list grows to its working size once and is reused from then on.
    private readonly List<FramedConnection> _connections = [];
    private readonly List<PendingAck> _acks = [];
    private MessageId[]? _ids;

    /// <summary>Remembers that <paramref name="connection"/> has unflushed frames.</summary>
    public void Add(FramedConnection connection)
    {
        List<FramedConnection> connections = _connections;

        // Consecutive writes usually go to the same recipient: a cheap check keeps most duplicates out.
        if (connections.Count != 0 && ReferenceEquals(connections[^1], connection))
        {
            return;
        }

        if (connections.Count == MaxPending)
        {
            Flush();
        }

        connections.Add(connection);
    }

    /// <summary>Queues an <c>Ack</c> (and a <c>Delivered</c> when <paramref name="deliveredTo"/> is set) for <paramref name="sender"/>, written at <see cref="Flush"/>.</summary>
    public void AddAck(ClientSession sender, MessageId id, string? deliveredTo)
    {
        if (_acks.Count == MaxPendingAcks)
        {
            WriteAcks();
        }

        _acks.Add(new PendingAck(sender, id, deliveredTo));
    }

    /// <summary>Writes the coalesced acks, then hands every remembered connection's frames to its send loop.</summary>
    public void Flush()
    {
        WriteAcks();
        List<FramedConnection> connections = _connections;
        for (int i = 0; i < connections.Count; i++)
        {
            connections[i].TryFlush();
        }

        connections.Clear();
    }

    // Groups the queued acks by sender (in the order they were produced) without allocating: a batch rarely holds more
    // than a few senders, so the quadratic scan over at most MaxPendingAcks entries costs less than a dictionary would.
    private void WriteAcks()
    {
        Span<PendingAck> acks = CollectionsMarshal.AsSpan(_acks);
        if (acks.IsEmpty)
        {
            return;
        }

        MessageId[] ids = _ids ??= new MessageId[MaxPendingAcks];
        for (int i = 0; i < acks.Length; i++)
        {
            ClientSession? sender = acks[i].Sender;
            if (sender is null)
            {
                continue;
            }

            int count = 0;
            for (int j = i; j < acks.Length; j++)
            {
                if (ReferenceEquals(acks[j].Sender, sender))
                {
                    ids[count++] = acks[j].Id;
                }
            }

            sender.TryWriteAckBatch(ids.AsSpan(0, count));
            for (int j = i; j < acks.Length; j++)
            {
                if (!ReferenceEquals(acks[j].Sender, sender) || acks[j].DeliveredTo is not { } recipient)
                {
                    continue;
                }

                count = 0;
                for (int k = j; k < acks.Length; k++)
                {
                    if (ReferenceEquals(acks[k].Sender, sender) && string.Equals(acks[k].DeliveredTo, recipient, StringComparison.Ordinal))
                    {
                        ids[count++] = acks[k].Id;
                        acks[k] = acks[k] with { DeliveredTo = null };
                    }
                }

                sender.TryWriteDeliveredBatch(recipient, ids.AsSpan(0, count));
            }

            for (int j = i; j < acks.Length; j++)
            {
                if (ReferenceEquals(acks[j].Sender, sender))
                {
                    acks[j] = default;
                }
            }

            // Flushed even if a write failed: flushing a closed connection is a no-op.
            AddConnection(sender.Connection);
        }

        _acks.Clear();
    }

    // As Add, without the early flush: WriteAcks runs inside Flush and must not start another.
    private void AddConnection(FramedConnection connection)
    {
        List<FramedConnection> connections = _connections;
        if (connections.Count == 0 || !ReferenceEquals(connections[^1], connection))
        {
            connections.Add(connection);
        }
    }

    private readonly record struct PendingAck(ClientSession? Sender, MessageId Id, string? DeliveredTo);
}
