using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastChat.Compare.Targets;

/// <summary>The nats target: the NATS text protocol over one socket per peer; a subscription is confirmed by a PING's PONG.</summary>
internal sealed class NatsTarget : ITarget
{
    private readonly EndPoint _endPoint;
    private readonly int _maxPayload;

    /// <summary>A target at <paramref name="endPoint"/>.</summary>
    public NatsTarget(EndPoint endPoint, int maxPayload = 1024 * 1024)
    {
        _endPoint = endPoint;
        _maxPayload = maxPayload;
    }

    /// <inheritdoc/>
    public string Name => "nats";

    /// <inheritdoc/>
    public bool IsAcked => false;

    /// <inheritdoc/>
    public async Task<IPeer> ConnectAsync(PeerRoles roles, IMessageSink sink, CancellationToken cancellationToken)
    {
        Socket socket = await SocketLink.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false);
        var peer = new NatsPeer(socket, sink, _maxPayload);
        try
        {
            Task connected = peer.ExpectConfirmation();
            peer.Start();
            NatsProtocol.WriteConnect(peer.Sender);
            await connected.WaitAsync(cancellationToken).ConfigureAwait(false);
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

    private sealed class NatsPeer : SocketLink, IPeer
    {
        private readonly IMessageSink _sink;
        private readonly int _maxPayload;
        private int _nextSid;

        public NatsPeer(Socket socket, IMessageSink sink, int maxPayload)
            : base(socket)
        {
            _sink = sink;
            _maxPayload = maxPayload;
        }

        public long Acked => 0;

        public long AckFailures => 0;

        public async Task<Destination> SubscribeAsync(string topic, CancellationToken cancellationToken)
        {
            var destination = new Destination(topic);
            Task subscribed = ExpectConfirmation();
            NatsProtocol.WriteSubscribe(Sender, destination.Utf8, Interlocked.Increment(ref _nextSid));
            await subscribed.WaitAsync(cancellationToken).ConfigureAwait(false);
            return destination;
        }

        public void Publish(Destination destination, ReadOnlySpan<byte> payload) =>
            NatsProtocol.WritePublish(Sender, destination.Utf8, payload);

        protected override int OnReceived(ReadOnlySpan<byte> input)
        {
            int total = 0;
            while (NatsProtocol.TryRead(input[total..], _maxPayload, out NatsFrame frame, out int consumed))
            {
                total += consumed;
                switch (frame.Operation)
                {
                    case NatsOperation.Msg:
                        _sink.OnMessage(frame.Payload);
                        break;
                    case NatsOperation.Ping:
                        Sender.Write("PONG\r\n"u8);
                        break;
                    case NatsOperation.Pong:
                        Confirm();
                        break;
                    case NatsOperation.Err:
                        throw new IOException("nats-server: " + Encoding.UTF8.GetString(frame.Argument));
                    default:
                        // INFO (also sent again when the cluster changes) and +OK need nothing.
                        break;
                }
            }

            return total;
        }
    }
}
