using System.Net;
using System.Net.Sockets;

namespace FastChat.Compare.Raw;

/// <summary>
/// The raw target: accepts connections, keeps each topic's subscribers, and copies every published payload once into
/// each subscriber's send batch. One receive loop per connection; sending is each connection's
/// <see cref="BatchingSender"/>, so a publisher never waits on a subscriber's socket.
/// </summary>
/// <remarks>No chat semantics on purpose: no acknowledgements, no storage, no accounts, no limits beyond frame size.</remarks>
internal sealed class RawForwarder : IAsyncDisposable
{
    private static readonly Connection[] s_none = [];

    private readonly Socket _listener;
    private readonly int _maxFrameLength;
    private readonly Lock _sync = new();

    // Copy on write, swapped whole under _sync: publishers read it on every frame without a lock, subscriptions
    // (which only happen while a run sets up) pay for the copy.
    private Dictionary<uint, Connection[]> _topics = [];
    private readonly HashSet<Connection> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task _accepting = Task.CompletedTask;

    private RawForwarder(Socket listener, int maxFrameLength)
    {
        _listener = listener;
        _maxFrameLength = maxFrameLength;
    }

    /// <summary>Where the forwarder listens.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Starts listening on <paramref name="endPoint"/> (port 0 picks a free one).</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static RawForwarder Start(IPEndPoint endPoint, int maxFrameLength = RawProtocol.DefaultMaxFrameLength)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(endPoint);
            listener.Listen(1024);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var forwarder = new RawForwarder(listener, maxFrameLength);
        forwarder._accepting = forwarder.AcceptLoopAsync();
        return forwarder;
    }

    /// <summary>Stops accepting, closes every connection and waits for the accept loop.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        Connection[] open;
        using (_sync.EnterScope())
        {
            open = [.. _connections];
        }

        foreach (Connection connection in open)
        {
            connection.Socket.Dispose();
        }

        await _accepting.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // Stopping (or the listener was closed under the loop).
                return;
            }

            socket.NoDelay = true;
            var connection = new Connection(socket);
            using (_sync.EnterScope())
            {
                _connections.Add(connection);
            }

            _ = ReceiveLoopAsync(connection);
        }
    }

    private async Task ReceiveLoopAsync(Connection connection)
    {
        using var buffer = new ReceiveBuffer();
        try
        {
            while (true)
            {
                int received = await connection.Socket.ReceiveAsync(buffer.FreeSpace(), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    return;
                }

                buffer.Advance(received);
                int consumed = Dispatch(connection, buffer.Unread);
                buffer.Consume(consumed);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException or RawProtocolException)
        {
            // The client went away, broke the format, or stopped reading (its batch hit the cap): drop it.
        }
        finally
        {
            Remove(connection);
        }
    }

    /// <summary>Handles every whole frame in <paramref name="input"/>; returns the bytes they took.</summary>
    private int Dispatch(Connection connection, ReadOnlySpan<byte> input)
    {
        int total = 0;
        while (RawProtocol.TryRead(input[total..], _maxFrameLength, out RawFrame frame, out int consumed))
        {
            total += consumed;
            switch (frame.Kind)
            {
                case RawFrameKind.Publish:
                    Forward(frame.Topic, frame.Payload);
                    break;
                case RawFrameKind.Subscribe:
                    Subscribe(connection, frame.Topic);
                    RawProtocol.Write(connection.Sender, RawFrameKind.Subscribed, frame.Topic, default);
                    break;
                default:
                    throw new RawProtocolException($"A client may send Subscribe and Publish frames, not {frame.Kind}.");
            }
        }

        return total;
    }

    private void Forward(uint topic, ReadOnlySpan<byte> payload)
    {
        Connection[] subscribers = Volatile.Read(ref _topics).GetValueOrDefault(topic, s_none);
        foreach (Connection subscriber in subscribers)
        {
            try
            {
                RawProtocol.Write(subscriber.Sender, RawFrameKind.Message, topic, payload);
            }
            catch (IOException)
            {
                // That subscriber can no longer take messages; its own receive loop removes it. Others still get theirs.
                subscriber.Socket.Dispose();
            }
        }
    }

    private void Subscribe(Connection connection, uint topic)
    {
        using (_sync.EnterScope())
        {
            Connection[] current = _topics.GetValueOrDefault(topic, s_none);
            if (Array.IndexOf(current, connection) < 0)
            {
                var topics = new Dictionary<uint, Connection[]>(_topics) { [topic] = [.. current, connection] };
                Volatile.Write(ref _topics, topics);
                connection.Topics.Add(topic);
            }
        }
    }

    private void Remove(Connection connection)
    {
        using (_sync.EnterScope())
        {
            _connections.Remove(connection);
            if (connection.Topics.Count > 0)
            {
                var topics = new Dictionary<uint, Connection[]>(_topics);
                foreach (uint topic in connection.Topics)
                {
                    Connection[] current = topics.GetValueOrDefault(topic, s_none);
                    int at = Array.IndexOf(current, connection);
                    if (at < 0)
                    {
                        continue;
                    }

                    if (current.Length == 1)
                    {
                        topics.Remove(topic);
                    }
                    else
                    {
                        var rest = new Connection[current.Length - 1];
                        current.AsSpan(0, at).CopyTo(rest);
                        current.AsSpan(at + 1).CopyTo(rest.AsSpan(at));
                        topics[topic] = rest;
                    }
                }

                Volatile.Write(ref _topics, topics);
            }
        }

        connection.Sender.Close();
        connection.Socket.Dispose();
    }

    private sealed class Connection
    {
        public Connection(Socket socket)
        {
            Socket = socket;
            Sender = new SocketBatchingSender(socket);
        }

        public Socket Socket { get; }

        public SocketBatchingSender Sender { get; }

        /// <summary>The topics it subscribed to (guarded by the forwarder's lock).</summary>
        public List<uint> Topics { get; } = [];
    }
}
