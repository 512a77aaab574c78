using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using FastChat.Client;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// One sender and one receiver, each a signed-in client, with the pair's counters. The sender writes the intended send
/// time (a <see cref="Stopwatch"/> timestamp: both clients live in this process) and the sequence number into the first
/// 16 bytes of every body; whoever completes the message (the receiver for dm, the sender on the echo for pingpong)
/// records now minus the intended time.
/// </summary>
internal sealed class BenchPair : IBenchSender
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly BenchScenario _scenario;
    private readonly int _size;
    private readonly ConcurrentQueue<SendSlot> _freeSlots = new();
    private readonly SequenceSet _seenBySender = new();
    private readonly SequenceSet _seenByReceiver = new();
    private long _issued;
    private long _sent;
    private long _acked;
    private long _failed;
    private long _delivered;
    private long _duplicates;
    private long _unexpected;
    private long _lastDelivery;
    private long _lastSend;

    public BenchPair(BenchScenario scenario, int size, int window, ChatClient sender, string senderName, ChatClient receiver, string receiverName)
    {
        _scenario = scenario;
        _size = size;
        Sender = sender;
        SenderName = senderName;
        Receiver = receiver;
        ReceiverName = receiverName;
        Window = new SemaphoreSlim(window, window);

        // Enough bodies for the usual in-flight count up front; more are made only if acknowledgements lag deliveries.
        for (int i = 0; i < Math.Min(window, 16); i++)
        {
            _freeSlots.Enqueue(new SendSlot(this, size));
        }
    }

    public ChatClient Sender { get; }

    public string SenderName { get; }

    public ChatClient Receiver { get; }

    public string ReceiverName { get; }

    /// <inheritdoc/>
    public SemaphoreSlim Window { get; }

    /// <summary>The latencies this pair measured (written by one reader only: the receiver's for dm, the sender's for pingpong).</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Every send started: messages and, for pingpong, echoes.</summary>
    public long Sent => Volatile.Read(ref _sent);

    public long Acked => Volatile.Read(ref _acked);

    public long Failed => Volatile.Read(ref _failed);

    /// <summary>First deliveries: messages and, for pingpong, echoes.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Messages that were no part of the run: a malformed body, a sequence never sent, a stranger as sender.</summary>
    public long Unexpected => Volatile.Read(ref _unexpected);

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest send, message or echo (0 if none).</summary>
    public long LastSend => Volatile.Read(ref _lastSend);

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest first delivery (0 if none).</summary>
    public long LastDelivery => Volatile.Read(ref _lastDelivery);

    /// <summary>Sends message number <see cref="_issued"/> from the sender to the receiver; the caller holds a window slot.</summary>
    /// <param name="intendedTimestamp">When the message was meant to go (closed loop: now).</param>
    public void Send(long intendedTimestamp)
    {
        if (!_freeSlots.TryDequeue(out SendSlot? slot))
        {
            slot = new SendSlot(this, _size);
        }

        // Published before the send so that a receiver never takes this sequence for one that was not sent.
        long sequence = _issued;
        Volatile.Write(ref _issued, sequence + 1);
        Span<byte> header = slot.Body.AsSpan(0, BenchSettings.HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(header, intendedTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], sequence);
        Interlocked.Increment(ref _sent);
        Volatile.Write(ref _lastSend, Stopwatch.GetTimestamp());
        Task<MessageId> sending;
        try
        {
            // Not the run's token: a message already on its way at the end of sending should still arrive.
            sending = Sender.SendDirectAsync(ReceiverName, slot.Body, CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ChatException or ObjectDisposedException)
        {
            // A full outbox or a lost session: the message counts as failed (and lost).
            Interlocked.Increment(ref _failed);
            _freeSlots.Enqueue(slot);
            return;
        }

        sending.ContinueWith(SendSlot.OnCompleted, slot, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Reads one client's events until <paramref name="cancellationToken"/> fires; every client must be read, or it stops reading from its server.</summary>
    public async Task ReadAsync(bool isSender, CancellationToken cancellationToken)
    {
        ChatClient client = isSender ? Sender : Receiver;
        string peer = isSender ? ReceiverName : SenderName;
        try
        {
            await foreach (ChatEvent item in client.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (item is DirectMessageReceived message)
                {
                    OnMessage(isSender, peer, message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    private void OnMessage(bool atSender, string peer, DirectMessageReceived message)
    {
        long now = Stopwatch.GetTimestamp();
        ReadOnlySpan<byte> body = message.Body.Span;
        bool expected = message.From == peer && body.Length >= BenchSettings.HeaderSize && (_scenario == BenchScenario.PingPong || !atSender);
        long intended = expected ? BinaryPrimitives.ReadInt64LittleEndian(body) : 0;
        long sequence = expected ? BinaryPrimitives.ReadInt64LittleEndian(body[8..]) : -1;
        if (sequence < 0 || sequence >= Volatile.Read(ref _issued))
        {
            Interlocked.Increment(ref _unexpected);
            return;
        }

        if (!(atSender ? _seenBySender : _seenByReceiver).Add(sequence))
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        if (_scenario == BenchScenario.PingPong && !atSender)
        {
            // Counted as sent before the ping counts as delivered, so that "every sent message delivered" never holds
            // while an echo is still to go.
            Echo(message.Body);
        }

        Interlocked.Increment(ref _delivered);
        Volatile.Write(ref _lastDelivery, now);
        if (_scenario == BenchScenario.Dm || atSender)
        {
            Latency.Record((long)((now - intended) * NanosecondsPerTick));
            Window.Release();
        }
    }

    private void Echo(ReadOnlyMemory<byte> body)
    {
        Interlocked.Increment(ref _sent);
        Volatile.Write(ref _lastSend, Stopwatch.GetTimestamp());
        Task<MessageId> sending;
        try
        {
            // The received body is the event's own copy and nothing changes it: it can go back as it is.
            sending = Receiver.SendDirectAsync(SenderName, body, CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ChatException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _failed);
            return;
        }

        sending.ContinueWith(OnEchoCompleted, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static void OnEchoCompleted(Task<MessageId> sending, object? state)
    {
        var pair = (BenchPair)state!;
        Interlocked.Increment(ref sending.IsCompletedSuccessfully ? ref pair._acked : ref pair._failed);
    }

    /// <summary>A body and its pair, passed as the acknowledgement continuation's state so that nothing is captured.</summary>
    private sealed class SendSlot
    {
        public static readonly Action<Task<MessageId>, object?> OnCompleted = static (sending, state) =>
        {
            var slot = (SendSlot)state!;
            BenchPair pair = slot._pair;
            Interlocked.Increment(ref sending.IsCompletedSuccessfully ? ref pair._acked : ref pair._failed);

            // Only now may the body change: until the acknowledgement the client may resend it after a reconnect.
            pair._freeSlots.Enqueue(slot);
        };

        private readonly BenchPair _pair;

        public SendSlot(BenchPair pair, int size)
        {
            _pair = pair;
            Body = new byte[size];

            // Opaque random bytes, as ciphertext would be; the header is overwritten per send.
            RandomNumberGenerator.Fill(Body);
        }

        public byte[] Body { get; }
    }
}
