using System.Buffers;
using System.Globalization;
using System.Threading.Channels;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// Asks a balancer for the chat servers as it sees them (<c>ClusterStatusRequest</c> → <c>ClusterStatus</c>) on one
/// plain connection that says Hello as a client: no account needed. The connection stays open, so a caller that samples
/// the cluster (<c>fastchat bench</c>, once a second) pays for the connection once.
/// </summary>
/// <remarks>Not thread-safe: one query at a time.</remarks>
internal sealed class ClusterStatusQuery : IAsyncDisposable
{
    /// <summary>How long a query waits for its answer.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    // Request 1 is the Hello; queries count up from 2.
    private const uint FirstQueryId = 2;

    private readonly FramedConnection _framed;
    private readonly ReplyHandler _replies;
    private readonly Task _reading;
    private readonly string _target;
    private uint _nextRequestId = FirstQueryId;
    private bool _disposed;

    private ClusterStatusQuery(FramedConnection framed, string target, CancellationToken cancellationToken)
    {
        _framed = framed;
        _target = target;
        _replies = new ReplyHandler();
        _reading = _replies.RunAsync(framed, cancellationToken);
    }

    /// <summary>Connects to the balancer at <paramref name="host"/>:<paramref name="port"/> and says Hello.</summary>
    /// <param name="host">The balancer's host.</param>
    /// <param name="port">The balancer's port.</param>
    /// <param name="agent">The agent string the Hello carries (e.g. <c>fastchat-status</c>).</param>
    /// <param name="cancellationToken">Cancels the connect and, later, the connection's read loop.</param>
    /// <exception cref="ClusterStatusException">The balancer cannot be reached.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<ClusterStatusQuery> ConnectAsync(string host, int port, string agent, CancellationToken cancellationToken)
    {
        string target = UserCommandOptions.Describe((host, port));
        FastChatConnection connection;
        try
        {
            connection = await FastChatConnector.ConnectAsync(host, port, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FastChatException or System.Net.Sockets.SocketException)
        {
            throw new ClusterStatusException($"cannot reach the balancer at {target}: {ex.GetBaseException().Message.TrimEnd('.')}.");
        }

        var query = new ClusterStatusQuery(new FramedConnection(connection), target, cancellationToken);
        Send(query._framed, 1, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Client, Features = [], Agent = agent });
        return query;
    }

    /// <summary>Asks for the cluster's status and waits for the answer.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>Every chat server the balancer knows, live or not.</returns>
    /// <exception cref="ClusterStatusException">
    /// The balancer refused, did not answer within <see cref="ReplyTimeout"/>, or closed the connection.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<IReadOnlyList<ServerStatus>> QueryAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        uint requestId = _nextRequestId++;
        Send(_framed, requestId, default(ClusterStatusRequest));
        try
        {
            while (true)
            {
                Reply reply = await _replies.NextAsync(cancellationToken).ConfigureAwait(false);
                switch (reply.Opcode)
                {
                    // An answer to an earlier query that timed out is stale: only this one's counts.
                    case Opcode.ClusterStatus when reply.RequestId == requestId:
                        return reply.Servers;
                    case Opcode.Error:
                        throw new ClusterStatusException($"the balancer at {_target} refused the status request: {ExitCodes.Sentence(reply.ErrorMessage)}");
                    default:
                        // Its Hello, and anything else it may say first.
                        continue;
                }
            }
        }
        catch (TimeoutException)
        {
            throw new ClusterStatusException($"the balancer at {_target} did not answer within {ReplyTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");
        }
        catch (ChannelClosedException)
        {
            throw new ClusterStatusException($"the balancer at {_target} closed the connection ({_framed.CloseReason}); is it a FastChat balancer?");
        }
    }

    /// <summary>Closes the connection and waits for its read loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await _framed.CloseAsync().ConfigureAwait(false);
            await _reading.WaitAsync(ReplyTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _framed.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void Send<T>(FramedConnection connection, uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        connection.TryWriteMessage(requestId, in message);
        connection.TryFlush();
    }

    private readonly record struct Reply(Opcode Opcode, uint RequestId, IReadOnlyList<ServerStatus> Servers, string ErrorMessage);

    // Decodes replies on the read loop; ServerStatus holds strings and numbers only, so nothing borrows the payload.
    private sealed class ReplyHandler : IFrameHandler
    {
        private readonly Channel<Reply> _replies = Channel.CreateUnbounded<Reply>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

        public async ValueTask<Reply> NextAsync(CancellationToken cancellationToken) =>
            await _replies.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(ReplyTimeout, cancellationToken).ConfigureAwait(false);

        public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
        {
            var reader = new MessagePackReader(payload);
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            Reply reply = header.Opcode switch
            {
                Opcode.ClusterStatus => new Reply(Opcode.ClusterStatus, header.RequestId, MessageSerializer.ReadBody<ClusterStatus>(ref reader, header).Servers, string.Empty),
                Opcode.Error => new Reply(Opcode.Error, header.RequestId, [], MessageSerializer.ReadBody<Error>(ref reader, header).Message),
                _ => new Reply(header.Opcode, header.RequestId, [], string.Empty),
            };
            _replies.Writer.TryWrite(reply);
            return default;
        }

        /// <summary>Runs the read loop; once it ends, waiting for a reply fails at once instead of timing out.</summary>
        public async Task RunAsync(FramedConnection connection, CancellationToken cancellationToken)
        {
            try
            {
                await connection.RunAsync(this, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _replies.Writer.TryComplete();
            }
        }
    }
}

/// <summary>A failure of a cluster status query, already phrased as the sentence to print after <c>fastchat: </c>.</summary>
/// <param name="message">The sentence.</param>
internal sealed class ClusterStatusException(string message) : Exception(message);
