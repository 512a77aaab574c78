using System.Text;

namespace FastChat.Compare.Targets;

/// <summary>What a connection does in a workload; a target may open fewer or more sockets accordingly.</summary>
[Flags]
internal enum PeerRoles
{
    /// <summary>It publishes.</summary>
    Publisher = 1,

    /// <summary>It subscribes and receives.</summary>
    Subscriber = 2,

    /// <summary>Both (pingpong).</summary>
    Both = Publisher | Subscriber,
}

/// <summary>Hears every payload a peer receives, on that peer's receive loop (one thread at a time per peer).</summary>
internal interface IMessageSink
{
    /// <summary>A payload arrived; it is borrowed for the call only.</summary>
    void OnMessage(ReadOnlySpan<byte> payload);
}

/// <summary>Where publishers send: a topic, a user or a group, encoded once for every protocol.</summary>
internal sealed class Destination
{
    /// <summary>A destination named <paramref name="topic"/>; <paramref name="isGroup"/> for FastChat groups.</summary>
    public Destination(string topic, bool isGroup = false)
    {
        Topic = topic;
        IsGroup = isGroup;
        Utf8 = Encoding.UTF8.GetBytes(topic);
        Number = NumberOf(topic);
    }

    /// <summary>The topic, user or group name.</summary>
    public string Topic { get; }

    /// <summary>Whether FastChat sends to a group rather than to a user.</summary>
    public bool IsGroup { get; }

    /// <summary>The name in UTF-8, for the text protocols.</summary>
    public byte[] Utf8 { get; }

    /// <summary>The raw forwarder's numeric topic: FNV-1a of the name (the workloads' few names never collide).</summary>
    public uint Number { get; }

    /// <summary>The raw forwarder's numeric topic for <paramref name="topic"/>.</summary>
    public static uint NumberOf(string topic)
    {
        uint hash = 2166136261;
        foreach (char c in topic)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }
}

/// <summary>One client connection of a target (for Redis, its publishing and subscribing sockets).</summary>
internal interface IPeer : IAsyncDisposable
{
    /// <summary>Messages sent and confirmed by the target (acked targets only; 0 otherwise).</summary>
    long Acked { get; }

    /// <summary>Messages the target refused or failed to confirm (acked targets only).</summary>
    long AckFailures { get; }

    /// <summary>Why the connection failed, or <see langword="null"/> while it works.</summary>
    Exception? Failure { get; }

    /// <summary>Subscribes to <paramref name="topic"/> and waits until the target confirms it; returns where to publish to reach this peer.</summary>
    /// <exception cref="IOException">The connection failed.</exception>
    Task<Destination> SubscribeAsync(string topic, CancellationToken cancellationToken);

    /// <summary>Publishes <paramref name="payload"/> (copied before returning); never waits for the network.</summary>
    /// <exception cref="IOException">The connection can no longer send.</exception>
    void Publish(Destination destination, ReadOnlySpan<byte> payload);
}

/// <summary>A system under comparison: makes connections and, for a group, forms it.</summary>
internal interface ITarget
{
    /// <summary>The target's name in results (fastchat, fastchat-sdk, nats, redis, signalr, raw).</summary>
    string Name { get; }

    /// <summary>Whether every publish is confirmed by the target (FastChat's acknowledgements), counted in the results.</summary>
    bool IsAcked { get; }

    /// <summary>Opens a connection for <paramref name="roles"/> whose received payloads go to <paramref name="sink"/>.</summary>
    /// <exception cref="IOException">The target cannot be reached or refused the connection.</exception>
    Task<IPeer> ConnectAsync(PeerRoles roles, IMessageSink sink, CancellationToken cancellationToken);

    /// <summary>Makes every receiver a member of <paramref name="topic"/> (confirmed) and lets the senders publish to it.</summary>
    /// <exception cref="IOException">A connection failed.</exception>
    Task<Destination> FormGroupAsync(string topic, IReadOnlyList<IPeer> senders, IReadOnlyList<IPeer> receivers, CancellationToken cancellationToken);
}

/// <summary>The plain pub/sub group: every receiver subscribes to the topic; senders need nothing.</summary>
internal static class PubSubGroup
{
    /// <summary>Subscribes every receiver to <paramref name="topic"/>, a few at a time.</summary>
    /// <exception cref="IOException">A connection failed.</exception>
    public static async Task<Destination> FormAsync(string topic, IReadOnlyList<IPeer> receivers, CancellationToken cancellationToken)
    {
        Destination? destination = null;
        const int Batch = 64;
        var pending = new List<Task<Destination>>(Batch);
        for (int first = 0; first < receivers.Count; first += Batch)
        {
            pending.Clear();
            for (int i = first; i < Math.Min(receivers.Count, first + Batch); i++)
            {
                pending.Add(receivers[i].SubscribeAsync(topic, cancellationToken));
            }

            foreach (Task<Destination> subscribing in pending)
            {
                destination = await subscribing.ConfigureAwait(false);
            }
        }

        return destination ?? new Destination(topic);
    }
}
