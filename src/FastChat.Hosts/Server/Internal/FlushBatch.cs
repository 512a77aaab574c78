using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// The connections written to while one batch of frames was handled (recipients, senders waiting for acks, peer
/// links), flushed together once the batch is done: one flush per connection per batch instead of one per frame.
/// Owned by one read loop (or one background operation) at a time; not thread-safe.
/// </summary>
internal sealed class FlushBatch
{
    // Past this many distinct connections the batch flushes early rather than grow without bound (a big group fan-out).
    private const int MaxPending = 256;

    private readonly List<FramedConnection> _connections = new(8);

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

    /// <summary>Hands every remembered connection's frames to its send loop.</summary>
    public void Flush()
    {
        List<FramedConnection> connections = _connections;
        for (int i = 0; i < connections.Count; i++)
        {
            connections[i].TryFlush();
        }

        connections.Clear();
    }
}
