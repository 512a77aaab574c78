using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using FastChat.Client;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Cli.Bench;

/// <summary>A session the balancer handed out: the chat server to resume on and the token to resume with.</summary>
/// <param name="UserName">The account.</param>
/// <param name="ServerId">The assigned chat server.</param>
/// <param name="Host">The server's host.</param>
/// <param name="Port">The server's port.</param>
/// <param name="SessionToken">The session token, copied out of the frame.</param>
internal sealed record BenchAssignment(string UserName, string ServerId, string Host, int Port, byte[] SessionToken);

/// <summary>
/// Signs up the <c>connections</c> scenario's accounts over a plain balancer connection, many per connection: a
/// <c>SignUp</c> with the same fields a client sends, answered with the session to resume.
/// </summary>
/// <remarks>
/// The authentication key is 32 random bytes rather than PBKDF2 of a password: nobody ever signs in to these accounts
/// again, and the balancer cannot tell the difference (it only stores a salted hash of the key). The balancer and the
/// store do exactly the work of a real sign-up; only the client's key derivation, which would make 10⁵ sign-ups take
/// hours on the generator, is left out. The accounts carry no identity keys: the scenario sends opaque bodies.
/// </remarks>
internal sealed class BenchConnectionsSignUp : IFrameHandler, IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    private readonly FramedConnection _connection;
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<BenchAssignment>> _pending = new();
    private Task _reading = Task.CompletedTask;
    private int _lastRequestId = 1;

    private BenchConnectionsSignUp(FramedConnection connection) => _connection = connection;

    /// <summary>Connects to the balancer and says Hello as a client.</summary>
    /// <exception cref="ChatConnectionException">The balancer cannot be reached.</exception>
    public static async Task<BenchConnectionsSignUp> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        FastChatConnection connection;
        try
        {
            connection = await FastChatConnector.ConnectAsync(host, port, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (FastChatException ex)
        {
            throw new ChatConnectionException($"Could not connect to the balancer at {host}:{port}: {ex.Message}", ex);
        }

        var link = new BenchConnectionsSignUp(new FramedConnection(connection));
        link._reading = link.ReadLoopAsync();
        link.Write(1, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Client, Features = [], Agent = "fastchat-bench" });
        return link;
    }

    /// <summary>Signs up <paramref name="userName"/> and returns the session the balancer assigned.</summary>
    /// <exception cref="ChatException">The balancer refused the sign-up.</exception>
    /// <exception cref="ChatConnectionException">The balancer closed the connection.</exception>
    /// <exception cref="TimeoutException">No answer within 30 s.</exception>
    public async Task<BenchAssignment> SignUpAsync(string userName, CancellationToken cancellationToken)
    {
        uint requestId = (uint)Interlocked.Increment(ref _lastRequestId);
        var reply = new TaskCompletionSource<BenchAssignment>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[requestId] = reply;
        byte[] salt = RandomNumberGenerator.GetBytes(PasswordKeys.SaltSize);
        byte[] authKey = RandomNumberGenerator.GetBytes(PasswordKeys.KeySize);
        bool written = Write(requestId, new SignUp
        {
            UserName = userName,
            KdfAlgorithm = PasswordKeys.Algorithm,
            KdfSalt = new(salt),
            KdfIterations = ChatClientOptions.MinimumKdfIterations,
            AuthKey = new(authKey),
        });
        if (!written)
        {
            _pending.TryRemove(requestId, out _);
            throw new ChatConnectionException($"The balancer closed the connection ({_connection.CloseReason}).");
        }

        try
        {
            return await reply.Task.WaitAsync(ReplyTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(requestId, out _);
        }
    }

    /// <inheritdoc/>
    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        if (!_pending.TryGetValue(header.RequestId, out TaskCompletionSource<BenchAssignment>? reply))
        {
            // The balancer's Hello, or anything else it may say unasked.
            return default;
        }

        switch (header.Opcode)
        {
            case Opcode.Assigned:
                Assigned assigned = MessageSerializer.ReadBody<Assigned>(ref reader, header);
                reply.TrySetResult(new BenchAssignment(assigned.UserName, assigned.ServerId, assigned.Host, assigned.Port, assigned.SessionToken.ToArray()));
                break;
            case Opcode.Error:
                Error error = MessageSerializer.ReadBody<Error>(ref reader, header);
                reply.TrySetException(new ChatException(error.Code, error.Message));
                break;
        }

        return default;
    }

    /// <summary>Closes the connection and waits for its read loop.</summary>
    public async ValueTask DisposeAsync()
    {
        await _connection.CloseAsync().ConfigureAwait(false);
        await _reading.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            await _connection.RunAsync(this).ConfigureAwait(false);
        }
        catch (FastChatException)
        {
            // The balancer broke the connection: every pending sign-up fails below.
        }
        finally
        {
            foreach (KeyValuePair<uint, TaskCompletionSource<BenchAssignment>> pending in _pending)
            {
                pending.Value.TrySetException(new ChatConnectionException($"The balancer closed the connection ({_connection.CloseReason})."));
            }
        }
    }

    private bool Write<T>(uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        using (FrameWriteScope scope = _connection.BeginWrite())
        {
            if (!scope.IsActive)
            {
                return false;
            }

            MessageSerializer.WriteFrame(scope.Writer, requestId, in message, _connection.MaxFrameSize);
        }

        return _connection.TryFlush();
    }
}
