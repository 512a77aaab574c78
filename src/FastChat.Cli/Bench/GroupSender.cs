using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
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
    private readonly int _size;
    private readonly int _receivers;
    private readonly ConcurrentQueue<SendSlot> _freeSlots = new();
    private int[][] _remaining = new int[4][];
    private long _issued;
    private long _sent;
    private long _acked;
    private long _failed;
    private long _lastSend;

    public GroupSender(BenchGroup group, int size, int window, ChatClient client, int receivers)
    {
        _group = group;
        _size = size;
        _client = client;
        _receivers = receivers;
        Window = new SemaphoreSlim(window, window);
        for (int i = 0; i < Math.Min(window, 16); i++)
        {
            _freeSlots.Enqueue(new SendSlot(this, size));
        }
    }

    /// <inheritdoc/>
    public SemaphoreSlim Window { get; }

    /// <summary>How many sequence numbers were handed out (every one below is a message that went or failed).</summary>
    public long Issued => Volatile.Read(ref _issued);

    public long Sent => Volatile.Read(ref _sent);

    public long Acked => Volatile.Read(ref _acked);

    public long Failed => Volatile.Read(ref _failed);

    public long LastSend => Volatile.Read(ref _lastSend);

    /// <inheritdoc/>
    public void Send(long intendedTimestamp)
    {
        if (!_freeSlots.TryDequeue(out SendSlot? slot))
        {
            slot = new SendSlot(this, _size);
        }

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
        Span<byte> header = slot.Body.AsSpan(0, BenchSettings.HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(header, intendedTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], sequence);
        Interlocked.Increment(ref _sent);
        Volatile.Write(ref _lastSend, Stopwatch.GetTimestamp());
        Task<MessageId> sending;
        try
        {
            // Key epoch 0: the bodies are opaque here and the server relays them whatever epoch they name. Not the
            // run's token: a message already on its way at the end of sending should still arrive.
            sending = _client.SendGroupAsync(_group.Name, 0, slot.Body, CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ChatException or ObjectDisposedException)
        {
            // A full outbox or a lost session: the message counts as failed (and its deliveries as lost); its window
            // slot goes back, since no member will ever complete it.
            Interlocked.Increment(ref _failed);
            _freeSlots.Enqueue(slot);
            Window.Release();
            return;
        }

        sending.ContinueWith(SendSlot.OnCompleted, slot, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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

    /// <summary>A body and its sender, passed as the acknowledgement continuation's state so that nothing is captured.</summary>
    private sealed class SendSlot
    {
        public static readonly Action<Task<MessageId>, object?> OnCompleted = static (sending, state) =>
        {
            var slot = (SendSlot)state!;
            GroupSender sender = slot._sender;
            Interlocked.Increment(ref sending.IsCompletedSuccessfully ? ref sender._acked : ref sender._failed);

            // Only now may the body change: until the acknowledgement the client may resend it after a reconnect.
            sender._freeSlots.Enqueue(slot);
        };

        private readonly GroupSender _sender;

        public SendSlot(GroupSender sender, int size)
        {
            _sender = sender;
            Body = new byte[size];

            // Opaque random bytes, as ciphertext would be; the header is overwritten per send.
            RandomNumberGenerator.Fill(Body);
        }

        public byte[] Body { get; }
    }
}
