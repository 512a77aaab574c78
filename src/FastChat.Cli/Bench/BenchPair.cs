using System.Buffers.Binary;
using System.Diagnostics;
using FastChat.Client;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// One sender and one receiver, each a signed-in client, with the pair's counters. The sender writes the intended send
/// time (a <see cref="Stopwatch"/> timestamp: both clients live in this process) and the sequence number into the first
/// 16 bytes of every body; whoever completes the message (the receiver for dm, the sender on the echo for pingpong)
/// records now minus the intended time. With <c>--e2e</c> those 16 bytes are the start of the plaintext: every message
/// (and every pingpong echo) is sealed for its recipient, who verifies and opens it before reading them.
/// </summary>
internal sealed class BenchPair : IBenchSender
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly BenchScenario _scenario;
    private readonly SendTracker _sends;
    private readonly SequenceSet _seenBySender = new();
    private readonly SequenceSet _seenByReceiver = new();
    private readonly BenchPairKeys? _keys;

    // Each side's reader opens envelopes into its own buffer (one reader per side, so no sharing).
    private readonly byte[]? _senderPlaintext;
    private readonly byte[]? _receiverPlaintext;
    private long _issued;
    private long _delivered;
    private long _duplicates;
    private long _unexpected;
    private long _lastDelivery;

    /// <param name="keys">With <c>--e2e</c>, the pair's keys; <see langword="null"/> sends opaque random bodies.</param>
    public BenchPair(BenchScenario scenario, int size, int window, ChatClient sender, string senderName, ChatClient receiver, string receiverName, BenchPairKeys? keys = null)
    {
        _scenario = scenario;
        Sender = sender;
        SenderName = senderName;
        Receiver = receiver;
        ReceiverName = receiverName;
        Window = new InFlightWindow(window);
        _sends = new SendTracker(size, prefill: Math.Min(window, 16), plaintext: keys is not null, Window);
        _keys = keys;
        if (keys is not null)
        {
            _senderPlaintext = new byte[size];
            _receiverPlaintext = new byte[size];
        }
    }

    public ChatClient Sender { get; }

    public string SenderName { get; }

    public ChatClient Receiver { get; }

    public string ReceiverName { get; }

    /// <inheritdoc/>
    public InFlightWindow Window { get; }

    /// <summary>The latencies this pair measured (written by one reader only: the receiver's for dm, the sender's for pingpong).</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Every send started: messages and, for pingpong, echoes.</summary>
    public long Sent => _sends.Sent;

    public long Acked => _sends.Acked;

    public long Failed => _sends.Failed;

    /// <summary>First deliveries: messages and, for pingpong, echoes.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    public long Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Messages that were no part of the run: a malformed body, a sequence never sent, a stranger as sender.</summary>
    public long Unexpected => Volatile.Read(ref _unexpected);

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest send, message or echo (0 if none).</summary>
    public long LastSend => _sends.LastSend;

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest first delivery (0 if none).</summary>
    public long LastDelivery => Volatile.Read(ref _lastDelivery);

    /// <summary>Sends message number <see cref="_issued"/> from the sender to the receiver; the caller holds a window slot.</summary>
    /// <param name="intendedTimestamp">When the message was meant to go (closed loop: now).</param>
    public void Send(long intendedTimestamp)
    {
        // Published before the send so that a receiver never takes this sequence for one that was not sent.
        long sequence = _issued;

        // Two completions: the delivery (dm) or the echo's return (pingpong), and the server's ack of the send.
        Window.Issue(sequence, 2);
        Volatile.Write(ref _issued, sequence + 1);
        SendTracker.Body body = _sends.Begin(intendedTimestamp, sequence);
        Task<MessageId> sending;
        try
        {
            // Not the run's token: a message already on its way at the end of sending should still arrive.
            sending = _keys is null
                ? Sender.SendDirectAsync(ReceiverName, body.Bytes, CancellationToken.None)
                : BenchE2e.SendDirect(Sender, _keys.Sender, _keys.ReceiverPublic, body.Bytes);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ChatException or ObjectDisposedException)
        {
            // A full outbox or a lost session: the message counts as failed (and lost).
            _sends.Fail(body);
            return;
        }

        _sends.Track(sending, body);
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
        if (_keys is not null && message.From == peer)
        {
            // Verified and opened before anything is read from it: a forged or foreign envelope is unexpected.
            byte[] plaintext = atSender ? _senderPlaintext! : _receiverPlaintext!;
            bool opened = atSender
                ? BenchE2e.TryOpenDirect(_keys.Sender, _keys.ReceiverPublic, message, plaintext, out int length)
                : BenchE2e.TryOpenDirect(_keys.Receiver, _keys.SenderPublic, message, plaintext, out length);
            body = opened ? plaintext.AsSpan(0, length) : default;
        }

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
            Echo(message.Body, body);
        }

        Interlocked.Increment(ref _delivered);
        Volatile.Write(ref _lastDelivery, now);
        if (_scenario == BenchScenario.Dm || atSender)
        {
            Latency.Record((long)((now - intended) * NanosecondsPerTick));
            Window.Complete(sequence);
        }
    }

    /// <param name="body">The received body: the event's own copy, which nothing changes, so it can go back as it is.</param>
    /// <param name="plaintext">With <c>--e2e</c>, the opened body: the echo is a new message, sealed for the sender.</param>
    private void Echo(ReadOnlyMemory<byte> body, ReadOnlySpan<byte> plaintext)
    {
        _sends.CountSend();
        Task<MessageId> sending;
        try
        {
            sending = _keys is null
                ? Receiver.SendDirectAsync(SenderName, body, CancellationToken.None)
                : BenchE2e.SendDirect(Receiver, _keys.Receiver, _keys.SenderPublic, plaintext);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ChatException or ObjectDisposedException)
        {
            _sends.Fail(null);
            return;
        }

        _sends.Track(sending, null);
    }
}
