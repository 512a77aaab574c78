using System.Globalization;
using System.Security.Cryptography;
using FastChat.Client;
using FastChat.Protocol.Messages;

namespace FastChat.Compare.Targets;

/// <summary>
/// The fastchat-sdk target, through the client SDK against a running balancer: every peer is a user signed up for the
/// run, a dm goes to the receiver's user name, a group is a FastChat group the first sender creates and fills. Every
/// send is acknowledged by the server (stored before it is relayed); the acknowledgements are counted, and a run is
/// only over once each one is in. It measures the SDK's overhead (an outbox entry, a task and an event per message)
/// on top of the server's; <see cref="FastChatWireTarget"/> (the fastchat target) speaks the protocol directly.
/// </summary>
internal sealed class FastChatTarget : ITarget
{
    private readonly string _host;
    private readonly int _port;
    private readonly int _window;
    private readonly int _maxBody;
    private readonly string _run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private int _nextUser;

    /// <summary>A target whose balancer listens on <paramref name="host"/>:<paramref name="port"/>; <paramref name="window"/> and <paramref name="maxBody"/> size the clients' outboxes and frames.</summary>
    public FastChatTarget(string host, int port, int window, int maxBody)
    {
        _host = host;
        _port = port;
        _window = window;
        _maxBody = maxBody;
    }

    /// <inheritdoc/>
    public string Name => "fastchat-sdk";

    /// <inheritdoc/>
    public bool IsAcked => true;

    /// <inheritdoc/>
    public async Task<IPeer> ConnectAsync(PeerRoles roles, IMessageSink sink, CancellationToken cancellationToken)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"cmp-{_run}-{Interlocked.Increment(ref _nextUser)}");
        var client = new ChatClient(new ChatClientOptions
        {
            BalancerHost = _host,
            BalancerPort = _port,

            // The PBKDF2 floor: the comparison measures messaging, not sign-up.
            KdfIterations = ChatClientOptions.MinimumKdfIterations,
            MaxFrameSize = Math.Max(ProtocolConstants.DefaultMaxFrameSize, _maxBody + ChatClient.FrameOverhead),

            // Acknowledgements can trail deliveries, and pingpong echoes add their own: room for twice the window.
            OutboxCapacity = (2 * _window) + 1024,
            RequestTimeout = TimeSpan.FromSeconds(30),
        });
        try
        {
            await client.SignUpAsync(name, Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)), AccountKeys.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChatException or ChatConnectionException)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"FastChat sign-up of {name} failed: {ex.Message}", ex);
        }

        var peer = new FastChatPeer(client, name, sink);
        peer.Start();
        return peer;
    }

    /// <inheritdoc/>
    public async Task<Destination> FormGroupAsync(string topic, IReadOnlyList<IPeer> senders, IReadOnlyList<IPeer> receivers, CancellationToken cancellationToken)
    {
        string group = $"{topic}-{_run}";
        var admin = (FastChatPeer)senders[0];
        try
        {
            await admin.Client.CreateGroupAsync(group, cancellationToken).ConfigureAwait(false);
            for (int i = 1; i < senders.Count; i++)
            {
                await admin.Client.AddMemberAsync(group, ((FastChatPeer)senders[i]).Name, cancellationToken).ConfigureAwait(false);
            }

            foreach (IPeer receiver in receivers)
            {
                await admin.Client.AddMemberAsync(group, ((FastChatPeer)receiver).Name, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ChatException ex)
        {
            throw new IOException($"FastChat refused to form group {group}: {ex.Message}", ex);
        }

        return new Destination(group, isGroup: true);
    }

    private sealed class FastChatPeer : IPeer
    {
        private readonly IMessageSink _sink;
        private readonly CancellationTokenSource _stopping = new();
        private Task _reading = Task.CompletedTask;
        private long _acked;
        private long _ackFailures;
        private Exception? _failure;

        public FastChatPeer(ChatClient client, string name, IMessageSink sink)
        {
            Client = client;
            Name = name;
            _sink = sink;
        }

        public ChatClient Client { get; }

        public string Name { get; }

        public long Acked => Volatile.Read(ref _acked);

        public long AckFailures => Volatile.Read(ref _ackFailures);

        public Exception? Failure => Volatile.Read(ref _failure);

        public void Start() => _reading = ReadAsync();

        /// <summary>A FastChat user receives what is sent to its name: nothing to subscribe to.</summary>
        public Task<Destination> SubscribeAsync(string topic, CancellationToken cancellationToken) =>
            Task.FromResult(new Destination(Name));

        public void Publish(Destination destination, ReadOnlySpan<byte> payload)
        {
            // The client keeps the body until the acknowledgement (it resends it after a reconnect): a copy of its own.
            byte[] body = payload.ToArray();
            Task<MessageId> sending;
            try
            {
                sending = destination.IsGroup
                    ? Client.SendGroupAsync(destination.Topic, 0, body, CancellationToken.None)
                    : Client.SendDirectAsync(destination.Topic, body, CancellationToken.None);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ChatException or ObjectDisposedException)
            {
                Interlocked.Increment(ref _ackFailures);
                Interlocked.CompareExchange(ref _failure, ex, null);
                return;
            }

            _ = CountAckAsync(sending);
        }

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _reading.ConfigureAwait(false);
            await Client.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
        }

        private async Task CountAckAsync(Task<MessageId> sending)
        {
            try
            {
                await sending.ConfigureAwait(false);
                Interlocked.Increment(ref _acked);
            }
            catch (Exception ex) when (ex is ChatException or ChatConnectionException or OperationCanceledException or ObjectDisposedException or TimeoutException)
            {
                Interlocked.Increment(ref _ackFailures);
                Interlocked.CompareExchange(ref _failure, ex, null);
            }
        }

        private async Task ReadAsync()
        {
            try
            {
                await foreach (ChatEvent item in Client.ReadEventsAsync(_stopping.Token).ConfigureAwait(false))
                {
                    switch (item)
                    {
                        case DirectMessageReceived direct:
                            _sink.OnMessage(direct.Body.Span);
                            break;
                        case GroupMessageReceived group:
                            _sink.OnMessage(group.Body.Span);
                            break;
                        default:
                            // Group changes, delivery receipts, connection states: not part of the measurement.
                            break;
                    }
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // Disposed.
            }
        }
    }
}
