using System.Net;
using System.Net.Sockets;
using FastChat.Compare.Raw;

namespace FastChat.Compare.Targets;

/// <summary>The raw target: the bare forwarder's length-prefixed frames over one socket per peer.</summary>
internal sealed class RawTarget : ITarget
{
    private readonly EndPoint _endPoint;

    /// <summary>A target at <paramref name="endPoint"/>.</summary>
    public RawTarget(EndPoint endPoint) => _endPoint = endPoint;

    /// <inheritdoc/>
    public string Name => "raw";

    /// <inheritdoc/>
    public bool IsAcked => false;

    /// <inheritdoc/>
    public async Task<IPeer> ConnectAsync(PeerRoles roles, IMessageSink sink, CancellationToken cancellationToken)
    {
        var peer = new RawPeer(await SocketLink.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false), sink);
        peer.Start();
        return peer;
    }

    /// <inheritdoc/>
    public Task<Destination> FormGroupAsync(string topic, IReadOnlyList<IPeer> senders, IReadOnlyList<IPeer> receivers, CancellationToken cancellationToken) =>
        PubSubGroup.FormAsync(topic, receivers, cancellationToken);

    private sealed class RawPeer : SocketLink, IPeer
    {
        private readonly IMessageSink _sink;

        public RawPeer(Socket socket, IMessageSink sink)
            : base(socket) => _sink = sink;

        public long Acked => 0;

        public long AckFailures => 0;

        public async Task<Destination> SubscribeAsync(string topic, CancellationToken cancellationToken)
        {
            var destination = new Destination(topic);
            Task subscribed = ExpectConfirmation();
            RawProtocol.Write(Sender, RawFrameKind.Subscribe, destination.Number, default);
            await subscribed.WaitAsync(cancellationToken).ConfigureAwait(false);
            return destination;
        }

        public void Publish(Destination destination, ReadOnlySpan<byte> payload) =>
            RawProtocol.Write(Sender, RawFrameKind.Publish, destination.Number, payload);

        protected override int OnReceived(ReadOnlySpan<byte> input)
        {
            int total = 0;
            while (RawProtocol.TryRead(input[total..], RawProtocol.DefaultMaxFrameLength, out RawFrame frame, out int consumed))
            {
                total += consumed;
                switch (frame.Kind)
                {
                    case RawFrameKind.Message:
                        _sink.OnMessage(frame.Payload);
                        break;
                    case RawFrameKind.Subscribed:
                        Confirm();
                        break;
                    default:
                        throw new RawProtocolException($"The forwarder sends Subscribed and Message frames, not {frame.Kind}.");
                }
            }

            return total;
        }
    }
}
