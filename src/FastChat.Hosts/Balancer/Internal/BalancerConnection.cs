using System.Buffers;
using System.Runtime.CompilerServices;
using FastChat.Hosts.Storage;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Balancer.Internal;

/// <summary>
/// One connection to the balancer: <c>Hello</c> decides whether the peer is a client (key-derivation parameters,
/// sign-up, sign-in, cluster status) or a chat server (registration, then load reports). See docs/protocol.md §5.1
/// and §5.3.
/// </summary>
/// <remarks>
/// <para>Errors follow docs/protocol.md §4. A broken frame escapes <see cref="OnFrameAsync"/> as a
/// <see cref="ProtocolViolationException"/>, and the transport closes this connection only (after
/// <see cref="OnProtocolViolation"/> wrote the final <c>Error</c>). A bad message gets an <c>Error</c> with its request
/// id and the connection lives, except before the peer has identified itself (a bad <c>Hello</c> or registration), where
/// there is nothing to go on with. Unknown opcodes are skipped (answered with <c>UnknownOpcode</c> when they carry a
/// request id, so the requester is not left waiting).</para>
/// <para>Calls for one connection never overlap (the transport awaits each), so the state needs no lock. Replies are
/// flushed once per batch of frames read.</para>
/// </remarks>
internal sealed class BalancerConnection : IFrameHandler
{
    private static readonly string s_agent = "FastChat.Balancer/" + (typeof(BalancerConnection).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    private readonly BalancerContext _context;
    private readonly FramedConnection _connection;
    private Phase _phase;
    private string? _serverId;

    public BalancerConnection(BalancerContext context, FramedConnection connection)
    {
        _context = context;
        _connection = connection;
    }

    private enum Phase
    {
        AwaitingHello,
        Client,
        AwaitingRegistration,
        Server,
        Closing,
    }

    /// <summary>The id of the chat server this link registered, if it is one.</summary>
    public string? RegisteredServerId => _serverId;

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);

        // A payload without a readable header is a broken frame: the exception closes the connection.
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        try
        {
            switch (_phase)
            {
                case Phase.AwaitingHello:
                    OnHello(ref reader, header);
                    return default;
                case Phase.Client:
                    return OnClientMessage(ref reader, header, cancellationToken);
                case Phase.AwaitingRegistration:
                    OnRegistration(ref reader, header);
                    return default;
                case Phase.Server:
                    OnServerMessage(ref reader, header);
                    return default;
                default:
                    // Closing: what the peer sent after the frame that ended it is not read.
                    return default;
            }
        }
        catch (ProtocolViolationException ex)
        {
            // A bad message inside an intact frame.
            BalancerLog.BadMessage(_context.Logger, _connection.Id, header.Opcode, ex.Message);
            if (_phase is Phase.AwaitingHello or Phase.AwaitingRegistration)
            {
                Fail(header.RequestId, ErrorCode.ProtocolViolation, ex.Message, CloseReason.ProtocolViolation);
            }
            else
            {
                WriteError(header.RequestId, ErrorCode.ProtocolViolation, ex.Message);
            }

            return default;
        }
    }

    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        connection.TryFlush();
        return default;
    }

    public void OnProtocolViolation(FramedConnection connection, ProtocolViolationException exception)
    {
        ErrorCode code = exception is FrameTooLargeException ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolViolation;
        Write(0, new Error { Code = code, Message = exception.Message });
    }

    /// <summary>Called once the connection has ended: a chat server's link closing removes it from the registry.</summary>
    public void OnClosed()
    {
        if (_serverId is not null && _context.Registry.Remove(_serverId, _connection))
        {
            BalancerLog.ServerDisconnected(_context.Logger, _serverId, _connection.CloseReason);
        }
    }

    /// <summary>Tells the peer the balancer is going away (best effort; the connection is closed next).</summary>
    public void OnShutdown()
    {
        if (_phase != Phase.Closing)
        {
            Write(0, new Error { Code = ErrorCode.ShuttingDown, Message = "The balancer is shutting down." });
        }
    }

    // Chat server ids travel in session tokens and logs: keep them short and plain.
    internal static bool IsValidServerId(string id)
    {
        if (id.Length is 0 or > 64)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private void OnHello(ref MessagePackReader reader, in MessageHeader header)
    {
        if (header.Opcode != Opcode.Hello)
        {
            BalancerLog.HelloRefused(_context.Logger, _connection.Id, $"the first frame was {header.Opcode}");
            Fail(header.RequestId, ErrorCode.Unexpected, $"The first message must be Hello, not {header.Opcode}.", CloseReason.ProtocolViolation);
            return;
        }

        Hello hello = MessageSerializer.ReadBody<Hello>(ref reader, header);
        if (hello.ProtocolVersion != ProtocolConstants.ProtocolVersion)
        {
            string message = $"Protocol version {hello.ProtocolVersion} is not supported; this balancer speaks version {ProtocolConstants.ProtocolVersion}.";
            BalancerLog.HelloRefused(_context.Logger, _connection.Id, message);
            Fail(header.RequestId, ErrorCode.UnsupportedVersion, message, CloseReason.ProtocolViolation);
            return;
        }

        switch (hello.Role)
        {
            case PeerRole.Client:
                _phase = Phase.Client;
                break;
            case PeerRole.Server:
                _phase = Phase.AwaitingRegistration;
                break;
            default:
                string message = $"Only clients and chat servers connect to the balancer; role {hello.Role} is not served.";
                BalancerLog.HelloRefused(_context.Logger, _connection.Id, message);
                Fail(header.RequestId, ErrorCode.Unexpected, message, CloseReason.ProtocolViolation);
                return;
        }

        Write(header.RequestId, new Hello
        {
            ProtocolVersion = ProtocolConstants.ProtocolVersion,
            Role = PeerRole.Balancer,
            Features = [],
            Agent = s_agent,
        });
    }

    private ValueTask OnClientMessage(ref MessagePackReader reader, in MessageHeader header, CancellationToken cancellationToken)
    {
        switch (header.Opcode)
        {
            case Opcode.KdfParametersRequest:
                KdfParametersRequest request = MessageSerializer.ReadBody<KdfParametersRequest>(ref reader, header);
                return KdfParametersAsync(header.RequestId, request.UserName, cancellationToken);

            case Opcode.SignUp:
                SignUp signUp = MessageSerializer.ReadBody<SignUp>(ref reader, header);
                if (!BalancerAccounts.TryValidateSignUp(in signUp, _context.Options.MinKdfIterations, out ErrorCode code, out string problem))
                {
                    _context.Accounts.RecordInvalidSignUp();
                    WriteError(header.RequestId, code, problem);
                    return default;
                }

                return SignUpAsync(header.RequestId, SignUpRequest.Copy(in signUp), cancellationToken);

            case Opcode.SignIn:
                SignIn signIn = MessageSerializer.ReadBody<SignIn>(ref reader, header);
                if (signIn.AuthKey.Length != BalancerAccounts.AuthKeyLength)
                {
                    _context.Accounts.RecordInvalidSignIn();
                    WriteError(header.RequestId, ErrorCode.ProtocolViolation, $"The authentication key must be {BalancerAccounts.AuthKeyLength} bytes; it is {signIn.AuthKey.Length}.");
                    return default;
                }

                return SignInAsync(header.RequestId, signIn.UserName, signIn.AuthKey.ToArray(), cancellationToken);

            case Opcode.ClusterStatusRequest:
                OnClusterStatusRequest(ref reader, header);
                return default;

            default:
                OnCommonMessage(ref reader, header, "client");
                return default;
        }
    }

    private void OnRegistration(ref MessagePackReader reader, in MessageHeader header)
    {
        if (header.Opcode != Opcode.RegisterServer)
        {
            BalancerLog.UnexpectedMessage(_context.Logger, _connection.Id, "unregistered server", header.Opcode);
            Fail(header.RequestId, ErrorCode.Unexpected, $"A chat server must send RegisterServer after Hello, not {header.Opcode}.", CloseReason.ProtocolViolation);
            return;
        }

        RegisterServer registration = MessageSerializer.ReadBody<RegisterServer>(ref reader, header);
        string id = registration.ServerId;
        if (!IsValidServerId(id))
        {
            Refuse(header.RequestId, id, ErrorCode.ProtocolViolation, "A server id is 1 to 64 ASCII letters, digits, '-', '_' or '.'.");
            return;
        }

        if (registration.Host.Length is 0 or > 255 || registration.Port is < 1 or > 65535)
        {
            Refuse(header.RequestId, id, ErrorCode.ProtocolViolation, $"The advertised endpoint '{registration.Host}:{registration.Port}' is not one clients can connect to.");
            return;
        }

        DateTime now = _context.TimeProvider.GetUtcNow().UtcDateTime;
        DateTime issuedAt = registration.IssuedAt.Kind == DateTimeKind.Local ? registration.IssuedAt.ToUniversalTime() : registration.IssuedAt;
        TimeSpan skew = (now - issuedAt).Duration();
        if (skew > BalancerContext.MaxProofSkew)
        {
            Refuse(header.RequestId, id, ErrorCode.AuthenticationFailed, $"The registration proof was issued {skew.TotalSeconds:0} s away from the balancer's clock; the limit is {BalancerContext.MaxProofSkew.TotalSeconds:0} s.");
            return;
        }

        if (!VerifyProof(id, issuedAt, registration.Proof, Security.ClusterKey.EndpointContext(registration.Host, registration.Port)))
        {
            Refuse(header.RequestId, id, ErrorCode.AuthenticationFailed, "The registration proof does not match the cluster key.");
            return;
        }

        object? replaced = _context.Registry.Register(new ServerRoute(id, registration.Host, registration.Port), _connection);
        _serverId = id;
        _phase = Phase.Server;
        if (replaced is FramedConnection previous)
        {
            // The same server again (a restart, or a link the server gave up on): one id, one link.
            BalancerLog.ServerReplaced(_context.Logger, id, _connection.RemoteEndPoint);
            _ = previous.CloseAsync(CloseReason.LocalClose).AsTask();
        }

        BalancerLog.ServerRegistered(_context.Logger, id, _connection.RemoteEndPoint, registration.Host, registration.Port);
        Write(header.RequestId, default(Ok));
    }

    private void OnServerMessage(ref MessagePackReader reader, in MessageHeader header)
    {
        switch (header.Opcode)
        {
            case Opcode.LoadReport:
                LoadReport report = MessageSerializer.ReadBody<LoadReport>(ref reader, header);
                if (!string.Equals(report.ServerId, _serverId, StringComparison.Ordinal))
                {
                    WriteError(header.RequestId, ErrorCode.ProtocolViolation, $"This link registered server '{_serverId}'; it cannot report for '{report.ServerId}'.");
                    return;
                }

                if (report.Connections < 0 || report.MemoryBytes < 0 || !double.IsFinite(report.Cpu) || report.Cpu < 0)
                {
                    WriteError(header.RequestId, ErrorCode.ProtocolViolation, "A load report's connections, CPU and memory are finite and not negative.");
                    return;
                }

                // False only if a newer link took the id over; that link's reports count, this one is being closed.
                _context.Registry.Report(_serverId!, _connection, report.Connections, report.Cpu, report.MemoryBytes);
                return;

            case Opcode.ClusterStatusRequest:
                OnClusterStatusRequest(ref reader, header);
                return;

            default:
                OnCommonMessage(ref reader, header, "server");
                return;
        }
    }

    // Messages either kind of peer may send at any time after Hello, and the answer to everything else.
    private void OnCommonMessage(ref MessagePackReader reader, in MessageHeader header, string role)
    {
        switch (header.Opcode)
        {
            case Opcode.Ping:
                Ping ping = MessageSerializer.ReadBody<Ping>(ref reader, header);
                Write(header.RequestId, new Pong { Timestamp = ping.Timestamp });
                return;

            case Opcode.Pong:
                return;

            default:
                if (!Enum.IsDefined(header.Opcode))
                {
                    // From a newer peer: skipped (docs/protocol.md §3), but a request is told so rather than left waiting.
                    if (header.RequestId != 0)
                    {
                        WriteError(header.RequestId, ErrorCode.UnknownOpcode, $"Opcode 0x{(byte)header.Opcode:x2} is not known to this balancer.");
                    }

                    return;
                }

                BalancerLog.UnexpectedMessage(_context.Logger, _connection.Id, role, header.Opcode);
                WriteError(header.RequestId, ErrorCode.Unexpected, $"{header.Opcode} is not served by the balancer on a {role} connection.");
                return;
        }
    }

    private void OnClusterStatusRequest(ref MessagePackReader reader, in MessageHeader header)
    {
        MessageSerializer.ReadBody<ClusterStatusRequest>(ref reader, header);
        Write(header.RequestId, new ClusterStatus { Servers = _context.Registry.Snapshot() });
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask KdfParametersAsync(uint requestId, string userName, CancellationToken cancellationToken)
    {
        KdfParameters parameters;
        try
        {
            parameters = await _context.Accounts.GetKdfParametersAsync(userName, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            OnStoreFailure(requestId, ex);
            return;
        }

        Write(requestId, parameters);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SignUpAsync(uint requestId, SignUpRequest request, CancellationToken cancellationToken)
    {
        SignInOutcome outcome;
        try
        {
            outcome = await _context.Accounts.SignUpAsync(request, _connection.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            _context.Accounts.RecordSignUpError();
            OnStoreFailure(requestId, ex);
            return;
        }

        WriteOutcome(requestId, in outcome);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SignInAsync(uint requestId, string userName, byte[] authKey, CancellationToken cancellationToken)
    {
        SignInOutcome outcome;
        try
        {
            outcome = await _context.Accounts.SignInAsync(userName, authKey, _connection.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            _context.Accounts.RecordSignInError();
            OnStoreFailure(requestId, ex);
            return;
        }

        WriteOutcome(requestId, in outcome);
    }

    private void WriteOutcome(uint requestId, in SignInOutcome outcome)
    {
        if (outcome.Succeeded)
        {
            Write(requestId, outcome.ToAssigned());
        }
        else
        {
            WriteError(requestId, outcome.Error, outcome.Message);
        }
    }

    private void OnStoreFailure(uint requestId, ChatStoreException exception)
    {
        // The store is down or locked: this request fails, the connection (and every other) goes on.
        BalancerLog.StoreFailed(_context.Logger, _connection.Id, exception);
        WriteError(requestId, ErrorCode.InternalError, "The account store is unavailable; try again shortly.");
    }

    private bool VerifyProof(string serverId, DateTime issuedAt, in ReadOnlySequence<byte> proof, string endpoint)
    {
        // HMAC-SHA256: anything but 32 bytes cannot match, and checking first bounds the copy below.
        if (proof.Length != 32)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[32];
        proof.CopyTo(bytes);
        return _context.ClusterKey.VerifyProof("register", serverId, issuedAt, bytes, endpoint);
    }

    private void Refuse(uint requestId, string serverId, ErrorCode code, string reason)
    {
        BalancerLog.RegistrationRefused(_context.Logger, serverId, _connection.RemoteEndPoint, reason);
        Fail(requestId, code, reason, CloseReason.LocalClose);
    }

    // Answers with an Error and closes: for a peer that cannot go on (wrong first message, wrong version, refused
    // registration). The Error frame is flushed before the FIN.
    private void Fail(uint requestId, ErrorCode code, string message, CloseReason reason)
    {
        WriteError(requestId, code, message);
        _phase = Phase.Closing;

        // Closing waits for the read loop, which is running this very call: let it finish in the background.
        // CloseAsync never faults.
        _ = _connection.CloseAsync(reason).AsTask();
    }

    private void WriteError(uint requestId, ErrorCode code, string message) =>
        Write(requestId, new Error { Code = code, Message = message });

    // Replies are flushed once per read batch (OnBatchCompletedAsync); a closed connection just drops them.
    private void Write<T>(uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        using FrameWriteScope scope = _connection.BeginWrite();
        if (scope.IsActive)
        {
            MessageSerializer.WriteFrame(scope.Writer, requestId, in message, _connection.MaxFrameSize);
        }
    }
}
