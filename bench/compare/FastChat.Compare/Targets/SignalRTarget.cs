using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using FastChat.Compare.Raw;

namespace FastChat.Compare.Targets;

/// <summary>
/// The signalr target: one WebSocket per peer straight to the hub (no negotiate round trip, which SignalR allows for
/// WebSockets), the JSON hub protocol, Subscribe confirmed by its completion, Publish sent without an id.
/// </summary>
internal sealed class SignalRTarget : ITarget
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(15);

    private readonly Uri _hub;

    /// <summary>A target at <paramref name="hub"/> (ws://host:port/hub).</summary>
    public SignalRTarget(Uri hub) => _hub = hub;

    /// <inheritdoc/>
    public string Name => "signalr";

    /// <inheritdoc/>
    public bool IsAcked => false;

    /// <inheritdoc/>
    public async Task<IPeer> ConnectAsync(PeerRoles roles, IMessageSink sink, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            await socket.ConnectAsync(_hub, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw new IOException($"Cannot connect to {_hub}: {ex.Message}", ex);
        }

        var peer = new SignalRPeer(socket, sink);
        try
        {
            Task handshake = peer.ExpectConfirmation();
            peer.Start();
            peer.Sender.Write(SignalRProtocol.Handshake);
            await handshake.WaitAsync(timeout.Token).ConfigureAwait(false);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    public Task<Destination> FormGroupAsync(string topic, IReadOnlyList<IPeer> senders, IReadOnlyList<IPeer> receivers, CancellationToken cancellationToken) =>
        PubSubGroup.FormAsync(topic, receivers, cancellationToken);

    private sealed class SignalRPeer : IPeer
    {
        private readonly ClientWebSocket _socket;
        private readonly IMessageSink _sink;
        private readonly ConcurrentQueue<TaskCompletionSource> _confirmations = new();
        private Task _receiving = Task.CompletedTask;
        private Exception? _failure;
        private int _nextInvocation;

        public SignalRPeer(ClientWebSocket socket, IMessageSink sink)
        {
            _socket = socket;
            _sink = sink;
            Sender = new WebSocketSender(socket, Fail);
        }

        public BatchingSender Sender { get; }

        public long Acked => 0;

        public long AckFailures => 0;

        public Exception? Failure => Volatile.Read(ref _failure) ?? Sender.Failure;

        public void Start() => _receiving = ReceiveLoopAsync();

        /// <summary>Waits for the next confirmation: the handshake response first, then each Subscribe's completion, in order.</summary>
        public Task ExpectConfirmation()
        {
            var confirmation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _confirmations.Enqueue(confirmation);
            if (Failure is { } failure)
            {
                FailConfirmations(failure);
            }

            return confirmation.Task;
        }

        public async Task<Destination> SubscribeAsync(string topic, CancellationToken cancellationToken)
        {
            var destination = new Destination(topic);
            if (!SignalRProtocol.IsPlainTopic(destination.Utf8))
            {
                throw new ArgumentException($"A SignalR topic here is letters, digits, '.', '_' and '-', not '{topic}'.", nameof(topic));
            }

            Task subscribed = ExpectConfirmation();
            SignalRProtocol.WriteSubscribe(Sender, Interlocked.Increment(ref _nextInvocation), destination.Utf8);
            await subscribed.WaitAsync(cancellationToken).ConfigureAwait(false);
            return destination;
        }

        public void Publish(Destination destination, ReadOnlySpan<byte> payload) =>
            SignalRProtocol.WritePublish(Sender, destination.Utf8, payload);

        public async ValueTask DisposeAsync()
        {
            Sender.Close();
            _socket.Abort();
            _socket.Dispose();
            await _receiving.ConfigureAwait(false);
        }

        private void Fail(Exception error)
        {
            Interlocked.CompareExchange(ref _failure, error, null);
            FailConfirmations(error);
            Sender.Close();
            _socket.Abort();
        }

        private void FailConfirmations(Exception error)
        {
            while (_confirmations.TryDequeue(out TaskCompletionSource? confirmation))
            {
                confirmation.TrySetException(new IOException("The connection failed: " + error.Message, error));
            }
        }

        private void Confirm()
        {
            if (!_confirmations.TryDequeue(out TaskCompletionSource? confirmation))
            {
                throw new IOException("The hub completed an invocation that was never made.");
            }

            confirmation.TrySetResult();
        }

        private async Task ReceiveLoopAsync()
        {
            await Task.Yield();
            using var buffer = new ReceiveBuffer();
            byte[] scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
            bool handshaken = false;
            try
            {
                while (true)
                {
                    ValueWebSocketReceiveResult result = await _socket.ReceiveAsync(buffer.FreeSpace(), CancellationToken.None).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        Fail(new IOException($"The hub closed the WebSocket: {_socket.CloseStatus} {_socket.CloseStatusDescription}"));
                        return;
                    }

                    buffer.Advance(result.Count);
                    int total = 0;
                    ReadOnlySpan<byte> unread = buffer.Unread;
                    while (SignalRProtocol.TryReadRecord(unread[total..], SignalRProtocol.DefaultMaxRecord, out ReadOnlySpan<byte> record, out int consumed))
                    {
                        total += consumed;
                        if (!handshaken)
                        {
                            if (SignalRProtocol.ParseHandshakeResponse(record) is { } error)
                            {
                                throw new IOException("The hub refused the handshake: " + error);
                            }

                            handshaken = true;
                            Confirm();
                            continue;
                        }

                        if (scratch.Length < record.Length)
                        {
                            ArrayPool<byte>.Shared.Return(scratch);
                            scratch = ArrayPool<byte>.Shared.Rent(record.Length);
                        }

                        Handle(SignalRProtocol.Parse(record, scratch));
                    }

                    buffer.Consume(total);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or IOException or InvalidDataException or OperationCanceledException)
            {
                Fail(ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        private void Handle(HubMessage message)
        {
            switch (message.Type)
            {
                case HubMessageType.Invocation when message.IsMessageTarget && message.HasPayload:
                    _sink.OnMessage(message.Payload);
                    break;
                case HubMessageType.Completion when message.Error is { } error:
                    throw new IOException("The hub failed an invocation: " + error);
                case HubMessageType.Completion:
                    Confirm();
                    break;
                case HubMessageType.Ping:
                    // The hub drops a client it has not heard from for 30 s; answering its pings keeps a quiet receiver alive.
                    Sender.Write(SignalRProtocol.Ping);
                    break;
                case HubMessageType.Close:
                    throw new IOException("The hub closed the connection: " + (message.Error ?? "no reason given"));
                default:
                    throw new InvalidDataException($"Unexpected SignalR message type {message.Type} (target '{message.Target}').");
            }
        }
    }

    private sealed class WebSocketSender : BatchingSender
    {
        private readonly ClientWebSocket _socket;
        private readonly Action<Exception> _failed;

        public WebSocketSender(ClientWebSocket socket, Action<Exception> failed)
        {
            _socket = socket;
            _failed = failed;
        }

        /// <summary>One text message per batch: the hub splits records on their separators, not on WebSocket messages.</summary>
        protected override ValueTask SendAsync(ReadOnlyMemory<byte> batch) =>
            _socket.SendAsync(batch, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        protected override void OnFailed(Exception failure) => _failed(failure);
    }
}
