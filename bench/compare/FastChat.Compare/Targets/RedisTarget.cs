using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastChat.Compare.Targets;

/// <summary>
/// The redis target: RESP2 pub/sub. A subscribed connection can do nothing but (un)subscribe, so a peer that both
/// publishes and receives holds two sockets: one for PUBLISH (whose integer replies are read and dropped) and one
/// for SUBSCRIBE (whose subscribe reply confirms the subscription, and whose message pushes carry the payloads).
/// </summary>
internal sealed class RedisTarget : ITarget
{
    private readonly EndPoint _endPoint;
    private readonly int _maxBulkLength;

    /// <summary>A target at <paramref name="endPoint"/>.</summary>
    public RedisTarget(EndPoint endPoint, int maxBulkLength = 2 * 1024 * 1024)
    {
        _endPoint = endPoint;
        _maxBulkLength = maxBulkLength;
    }

    /// <inheritdoc/>
    public string Name => "redis";

    /// <inheritdoc/>
    public bool IsAcked => false;

    /// <inheritdoc/>
    public async Task<IPeer> ConnectAsync(PeerRoles roles, IMessageSink sink, CancellationToken cancellationToken)
    {
        RedisLink? publisher = null;
        RedisLink? subscriber = null;
        try
        {
            if ((roles & PeerRoles.Publisher) != 0)
            {
                publisher = new RedisLink(await SocketLink.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false), null, _maxBulkLength);
                publisher.Start();
            }

            if ((roles & PeerRoles.Subscriber) != 0)
            {
                subscriber = new RedisLink(await SocketLink.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false), sink, _maxBulkLength);
                subscriber.Start();
            }

            return new RedisPeer(publisher, subscriber);
        }
        catch
        {
            if (publisher is not null)
            {
                await publisher.DisposeAsync().ConfigureAwait(false);
            }

            if (subscriber is not null)
            {
                await subscriber.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <inheritdoc/>
    public Task<Destination> FormGroupAsync(string topic, IReadOnlyList<IPeer> senders, IReadOnlyList<IPeer> receivers, CancellationToken cancellationToken) =>
        PubSubGroup.FormAsync(topic, receivers, cancellationToken);

    private sealed class RedisPeer : IPeer
    {
        private readonly RedisLink? _publisher;
        private readonly RedisLink? _subscriber;

        public RedisPeer(RedisLink? publisher, RedisLink? subscriber)
        {
            _publisher = publisher;
            _subscriber = subscriber;
        }

        public long Acked => 0;

        public long AckFailures => 0;

        public Exception? Failure => _publisher?.Failure ?? _subscriber?.Failure;

        public async Task<Destination> SubscribeAsync(string topic, CancellationToken cancellationToken)
        {
            RedisLink subscriber = _subscriber ?? throw new InvalidOperationException("This peer was connected to publish only.");
            var destination = new Destination(topic);
            Task subscribed = subscriber.ExpectConfirmation();
            RespProtocol.WriteSubscribe(subscriber.Sender, destination.Utf8);
            await subscribed.WaitAsync(cancellationToken).ConfigureAwait(false);
            return destination;
        }

        public void Publish(Destination destination, ReadOnlySpan<byte> payload)
        {
            RedisLink publisher = _publisher ?? throw new InvalidOperationException("This peer was connected to subscribe only.");
            RespProtocol.WritePublish(publisher.Sender, destination.Utf8, payload);
        }

        public async ValueTask DisposeAsync()
        {
            if (_publisher is not null)
            {
                await _publisher.DisposeAsync().ConfigureAwait(false);
            }

            if (_subscriber is not null)
            {
                await _subscriber.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class RedisLink : SocketLink
    {
        private readonly IMessageSink? _sink;
        private readonly int _maxBulkLength;

        public RedisLink(Socket socket, IMessageSink? sink, int maxBulkLength)
            : base(socket)
        {
            _sink = sink;
            _maxBulkLength = maxBulkLength;
        }

        protected override int OnReceived(ReadOnlySpan<byte> input)
        {
            int total = 0;
            while (RespProtocol.TryRead(input[total..], _maxBulkLength, out RespReply reply, out int consumed))
            {
                total += consumed;
                RespValue value = reply.Value;
                if (value.Type == RespType.Error)
                {
                    throw new IOException("redis-server: " + Encoding.UTF8.GetString(value.Bytes));
                }

                if (value.Type != RespType.Array || reply.Count < 3)
                {
                    // PUBLISH's integer reply (how many subscribers heard it): nothing to do.
                    continue;
                }

                ReadOnlySpan<byte> kind = reply.First.Bytes;
                if (kind.SequenceEqual("message"u8))
                {
                    _sink?.OnMessage(reply.Third.Bytes);
                }
                else if (kind.SequenceEqual("subscribe"u8))
                {
                    Confirm();
                }
            }

            return total;
        }
    }
}
