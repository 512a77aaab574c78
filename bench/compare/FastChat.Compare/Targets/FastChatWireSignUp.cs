using System.Buffers;
using System.Security.Cryptography;
using FastChat.Client;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Compare.Targets;

/// <summary>Where the balancer sent a new account: the chat server to resume on and the session token to resume with.</summary>
/// <param name="Host">The chat server's host.</param>
/// <param name="Port">The chat server's port.</param>
/// <param name="SessionToken">The session token, copied out of the frame.</param>
internal sealed record FastChatWireAssignment(string Host, int Port, byte[] SessionToken);

/// <summary>
/// One sign-up the way a client does it, on a balancer connection of its own: <c>Hello</c>, <c>SignUp</c>, the
/// balancer's <c>Assigned</c>, then the connection is closed.
/// </summary>
/// <remarks>
/// The authentication key is 32 random bytes rather than PBKDF2 of a password: nobody signs in to these accounts again,
/// and the balancer cannot tell the difference (it stores only a salted hash of the key), so it does exactly the work
/// of a real sign-up while the generator skips the key derivation. The accounts publish no identity keys: the
/// comparison sends opaque bodies.
/// </remarks>
internal sealed class FastChatWireSignUp : IFrameHandler
{
    private const uint HelloRequestId = 1;
    private const uint SignUpRequestId = 2;

    private readonly TaskCompletionSource<FastChatWireAssignment> _assigned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FastChatWireSignUp()
    {
    }

    /// <summary>Signs up <paramref name="userName"/> through the balancer at <paramref name="host"/>:<paramref name="port"/> and returns its assignment.</summary>
    /// <exception cref="IOException">The balancer cannot be reached, refused the sign-up, closed the connection, or did not answer within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<FastChatWireAssignment> SignUpAsync(
        string host, int port, string userName, ConnectorOptions options, TimeSpan timeout, CancellationToken cancellationToken)
    {
        FastChatConnection connection = await FastChatWireFrames.ConnectAsync(host, port, options, "balancer", cancellationToken).ConfigureAwait(false);
        var framed = new FramedConnection(connection);
        var signUp = new FastChatWireSignUp();
        Task reading = signUp.ReadLoopAsync(framed);
        try
        {
            byte[] salt = RandomNumberGenerator.GetBytes(PasswordKeys.SaltSize);
            byte[] authKey = RandomNumberGenerator.GetBytes(PasswordKeys.KeySize);
            bool written = FastChatWireFrames.TryWrite(framed, HelloRequestId, FastChatWireFrames.ClientHello)
                && FastChatWireFrames.TryWrite(framed, SignUpRequestId, new SignUp
                {
                    UserName = userName,
                    KdfAlgorithm = PasswordKeys.Algorithm,
                    KdfSalt = new(salt),
                    KdfIterations = ChatClientOptions.MinimumKdfIterations,
                    AuthKey = new(authKey),
                })
                && framed.TryFlush();
            if (!written)
            {
                throw new IOException($"The balancer at {host}:{port} closed the connection before the sign-up of {userName} was sent ({framed.CloseReason}).");
            }

            try
            {
                return await signUp._assigned.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new IOException($"The balancer at {host}:{port} did not answer the sign-up of {userName} within {timeout.TotalSeconds:0} s.", ex);
            }
        }
        finally
        {
            // The client's part is over once it has its assignment: the balancer connection closes, as a client's does.
            await framed.DisposeAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        switch (header.Opcode)
        {
            case Opcode.Assigned when header.RequestId == SignUpRequestId:
                Assigned assigned = MessageSerializer.ReadBody<Assigned>(ref reader, header);
                _assigned.TrySetResult(new FastChatWireAssignment(assigned.Host, assigned.Port, assigned.SessionToken.ToArray()));
                break;
            case Opcode.Error:
                // A refused Hello (a version mismatch) or sign-up (a name taken, no server available): either ends it.
                Error error = MessageSerializer.ReadBody<Error>(ref reader, header);
                string what = header.RequestId == HelloRequestId ? "Hello" : "sign-up";
                _assigned.TrySetException(new IOException($"The balancer refused the {what}: {error.Code}: {error.Message}"));
                break;
            default:
                // The balancer's Hello: nothing to do.
                break;
        }

        return default;
    }

    private async Task ReadLoopAsync(FramedConnection connection)
    {
        // RunAsync never faults: a reset or a broken frame ends it, and the close reason says which.
        await connection.RunAsync(this).ConfigureAwait(false);
        _assigned.TrySetException(new IOException($"The balancer closed the connection before assigning a server ({connection.CloseReason})."));
    }
}
