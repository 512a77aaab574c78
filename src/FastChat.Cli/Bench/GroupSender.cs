using FastChat.Client;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// One group member's sending side: its window, its counters, and how many members each of its messages still has to
/// reach. Those counts live in chunks that only the sender adds (before it publishes the sequence), so a receiver
/// never sees a chunk array that lacks the chunk of a sequence it may accept.
/// </summary>
internal sealed class GroupSender : IBenchSender
{
    // 4096 counts (16 KiB) a chunk: few enough allocations for a long run, little waste for a short one.
    private const int ChunkBits = 12;
    private const int ChunkMask = (1 << ChunkBits) - 1;

    private readonly BenchGroup _group;
    private readonly ChatClient _client;
    private readonly int _receivers;
    private readonly SendTracker _sends;
    private readonly BenchIdentity? _identity;
    private int[][] _remaining = new int[4][];
    private long _issued;

    /// <param name="identity">With <c>--e2e</c>, the sender's identity (messages are sealed under the group's key); <see langword="null"/> sends opaque random bodies.</param>
    public GroupSender(BenchGroup group, int size, int window, ChatClient client, int receivers, BenchIdentity? identity = null)
    {
        _group = group;
        _client = client;
        _receivers = receivers;
        _identity = identity;
        Window = new SemaphoreSlim(window, window);
        _sends = new SendTracker(size, prefill: Math.Min(window, 16), plaintext: identity is not null);
    }

    /// <inheritdoc/>
    public SemaphoreSlim Window { get; }

    /// <summary>How many sequence numbers were handed out (every one below is a message that went or failed).</summary>
    public long Issued => Volatile.Read(ref _issued);

    public long Sent => _sends.Sent;

    public long Acked => _sends.Acked;

    public long Failed => _sends.Failed;

    public long LastSend => _sends.LastSend;

    /// <inheritdoc/>
    public void Send(long intendedTimestamp)
    {
        long sequence = _issued;
        long chunk = sequence >> ChunkBits;
        int[][] chunks = _remaining;
        if (chunk >= chunks.Length)
        {
            // Published whole: a receiver reads either the old array or this one, and both hold every chunk it needs.
            var bigger = new int[chunks.Length * 2][];
            Array.Copy(chunks, bigger, chunks.Length);
            chunks = bigger;
            Volatile.Write(ref _remaining, chunks);
        }

        chunks[chunk] ??= new int[1 << ChunkBits];
        chunks[chunk][sequence & ChunkMask] = _receivers;

        // Published after the count, before the send: a receiver never takes this sequence for one that was not sent.
        Volatile.Write(ref _issued, sequence + 1);
        SendTracker.Body body = _sends.Begin(intendedTimestamp, sequence);
        Task<MessageId> sending;
        try
        {
            // Opaque bodies go under key epoch 0 (the server relays whatever epoch a message names); sealed ones under
            // the group key's. Not the run's token: a message already on its way at the end of sending should still
            // arrive.
            sending = _identity is null
                ? _client.SendGroupAsync(_group.Name, 0, body.Bytes, CancellationToken.None)
                : BenchE2e.SendGroup(_client, _identity, _group.Name, _group.SendingKey!, body.Bytes);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ChatException or ObjectDisposedException)
        {
            // A full outbox or a lost session: the message counts as failed (and its deliveries as lost); its window
            // slot goes back, since no member will ever complete it.
            _sends.Fail(body);
            Window.Release();
            return;
        }

        _sends.Track(sending, body);
    }

    /// <summary>A member received <paramref name="sequence"/> for the first time; the last of them frees a window slot.</summary>
    /// <param name="sequence">A sequence below <see cref="Issued"/>.</param>
    public void OnDelivered(long sequence)
    {
        int[] chunk = Volatile.Read(ref _remaining)[sequence >> ChunkBits];
        if (Interlocked.Decrement(ref chunk[sequence & ChunkMask]) == 0)
        {
            Window.Release();
        }
    }
}
