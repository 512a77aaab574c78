using FastChat.Client;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// One group member's sending side: its counters and its window, in which each message waits for every other member's
/// delivery and for the server's acknowledgement.
/// </summary>
internal sealed class GroupSender : IBenchSender
{
    private readonly BenchGroup _group;
    private readonly ChatClient _client;
    private readonly int _receivers;
    private readonly SendTracker _sends;
    private readonly BenchIdentity? _identity;
    private long _issued;

    /// <param name="identity">With <c>--e2e</c>, the sender's identity (messages are sealed under the group's key); <see langword="null"/> sends opaque random bodies.</param>
    public GroupSender(BenchGroup group, int size, int window, ChatClient client, int receivers, BenchIdentity? identity = null)
    {
        _group = group;
        _client = client;
        _receivers = receivers;
        _identity = identity;
        Window = new InFlightWindow(window);
        _sends = new SendTracker(size, prefill: Math.Min(window, 16), plaintext: identity is not null, Window);
    }

    /// <inheritdoc/>
    public InFlightWindow Window { get; }

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
        Window.Issue(sequence, _receivers + 1);

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
            return;
        }

        _sends.Track(sending, body);
    }

    /// <summary>A member received <paramref name="sequence"/> for the first time: one of the message's completions.</summary>
    /// <param name="sequence">A sequence below <see cref="Issued"/>.</param>
    public void OnDelivered(long sequence) => Window.Complete(sequence);
}
