using System.Buffers;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// The frame handler of one accepted connection: <c>Hello</c> first (version checked, answered), then, by the role the
/// peer announced, a <see cref="ClientSession"/> or an inbound <see cref="PeerConnection"/> takes over.
/// </summary>
internal sealed class ConnectionHandler : IFrameHandler
{
    /// <summary>The <c>Hello</c> this server sends, to clients and peers alike (peers ignore the client features).</summary>
    public static readonly Hello ServerHello = new()
    {
        ProtocolVersion = ProtocolConstants.ProtocolVersion,
        Role = PeerRole.Server,
        Features = [ProtocolFeatures.AckBatch],
        Agent = "FastChat.Server/" + typeof(ConnectionHandler).Assembly.GetName().Version?.ToString(3),
    };

    private readonly ServerContext _context;
    private readonly FramedConnection _connection;
    private ClientSession? _client;
    private PeerConnection? _peer;

    public ConnectionHandler(ServerContext context, FramedConnection connection)
    {
        _context = context;
        _connection = connection;
    }

    public FramedConnection Connection => _connection;

    public ClientSession? Client => _client;

    /// <summary>Whether this is an authenticated link from another server (it stays open until the end of a shutdown).</summary>
    public bool IsPeerLink => _peer is { IsReady: true };

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        if (_client is not null)
        {
            return _client.OnMessageAsync(in payload, in header, ref reader, cancellationToken);
        }

        if (_peer is not null)
        {
            return _peer.OnMessageAsync(in header, ref reader, cancellationToken);
        }

        OnHello(in header, ref reader);
        return default;
    }

    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        _connection.TryFlush();
        _client?.Batch.Flush();
        _peer?.Batch.Flush();
        return default;
    }

    public void OnProtocolViolation(FramedConnection connection, ProtocolViolationException exception)
    {
        // A broken frame: say why (request id 0); the connection closes right after (docs/protocol.md §4).
        ErrorCode code = exception is FrameTooLargeException ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolViolation;
        _connection.TryWriteError(0, code, exception.Message);
    }

    /// <summary>The read loop ended: end the session or the link.</summary>
    public async Task OnClosedAsync()
    {
        if (_client is not null)
        {
            await _client.OnClosedAsync().ConfigureAwait(false);
        }
        else if (_peer is not null)
        {
            await _context.Peers.OnClosedAsync(_peer).ConfigureAwait(false);
        }
    }

    private void OnHello(in MessageHeader header, ref MessagePackReader reader)
    {
        if (header.Opcode != Opcode.Hello)
        {
            Reject(header.RequestId, ErrorCode.Unexpected, $"The first frame must be Hello, not {header.Opcode}.");
            return;
        }

        Hello hello;
        try
        {
            hello = MessageSerializer.ReadBody<Hello>(ref reader, header);
        }
        catch (ProtocolViolationException ex)
        {
            Reject(header.RequestId, ErrorCode.ProtocolViolation, ex.Message);
            return;
        }

        if (hello.ProtocolVersion != ProtocolConstants.ProtocolVersion)
        {
            Reject(header.RequestId, ErrorCode.UnsupportedVersion, $"Protocol version {hello.ProtocolVersion} is not supported; this server speaks version {ProtocolConstants.ProtocolVersion}.");
            return;
        }

        switch (hello.Role)
        {
            case PeerRole.Client:
                _connection.TryWriteMessage(header.RequestId, ServerHello);
                _client = new ClientSession(_context, _connection, ProtocolFeatures.Contains(hello.Features, ProtocolFeatures.AckBatch));
                break;
            case PeerRole.Server:
                _connection.TryWriteMessage(header.RequestId, ServerHello);
                _peer = PeerConnection.Inbound(_context, _connection);
                break;
            default:
                Reject(header.RequestId, ErrorCode.Unexpected, $"A chat server serves clients and other chat servers, not {hello.Role}.");
                break;
        }
    }

    private void Reject(uint requestId, ErrorCode code, string message)
    {
        ServerLog.HandshakeRejected(_context.Logger, _connection.Id, message);
        _connection.TryWriteError(requestId, code, message);
        _ = _connection.CloseAsync(CloseReason.ProtocolViolation).AsTask();
    }
}
