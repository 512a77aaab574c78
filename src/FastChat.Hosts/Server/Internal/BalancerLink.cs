using System.Buffers;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// The chat server's persistent link to the balancer (docs/protocol.md §5.3): <c>Hello</c>, <c>RegisterServer</c> with
/// the cluster-key proof ("register"), then <c>LoadReport</c> every <see cref="ChatServerOptions.LoadReportInterval"/>
/// (connections, the process's CPU share since the previous report, working set). When the balancer is unreachable
/// or goes away the link reconnects with exponential backoff, forever, so a restarted balancer gets the server back
/// without anyone's help. The first failure in a row logs a warning, the rest at debug level.
/// </summary>
internal sealed class BalancerLink : IFrameHandler
{
    private static readonly TimeSpan s_firstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_registrationTimeout = TimeSpan.FromSeconds(10);

    private readonly ServerContext _context;
    private readonly string _balancerHost;
    private readonly int _balancerPort;
    private readonly string _advertisedHost;
    private readonly int _advertisedPort;
    private readonly Func<int> _connections;
    private readonly ConnectorOptions _connectorOptions;
    private TaskCompletionSource<Error?> _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan _lastCpuTime;
    private long _lastCpuTimestamp;

    public BalancerLink(ServerContext context, string balancerHost, int balancerPort, string advertisedHost, int advertisedPort, Func<int> connections)
    {
        _context = context;
        _balancerHost = balancerHost;
        _balancerPort = balancerPort;
        _advertisedHost = advertisedHost;
        _advertisedPort = advertisedPort;
        _connections = connections;
        _connectorOptions = new ConnectorOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),

            // The balancer answers the registration and then only listens: silence from it is normal.
            IdleTimeout = Timeout.InfiniteTimeSpan,
            LoggerFactory = context.LoggerFactory,
        };
    }

    private string BalancerText => $"{_balancerHost}:{_balancerPort}";

    /// <summary>Registers and reports until <paramref name="cancellationToken"/> is cancelled, reconnecting whenever the link drops.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        TimeSpan delay = s_firstRetryDelay;
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                bool registered = await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                if (registered)
                {
                    // It worked until the balancer went away: start over quickly, and warn again if it stays away.
                    failures = 0;
                    delay = s_firstRetryDelay;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is FastChatException or TimeoutException or OperationCanceledException or IOException)
            {
                if (failures++ == 0)
                {
                    ServerLog.BalancerUnavailable(_context.Logger, BalancerText, ex.Message);
                }
                else
                {
                    ServerLog.BalancerStillUnavailable(_context.Logger, BalancerText, ex.Message, delay);
                }
            }

            try
            {
                await Task.Delay(delay, _context.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxRetryDelay.Ticks));
        }
    }

    // One connection: returns true if the registration succeeded (and the link later dropped).
    private async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        FastChatConnection connection = await FastChatConnector.ConnectAsync(_balancerHost, _balancerPort, _connectorOptions, cancellationToken).ConfigureAwait(false);
        var framed = new FramedConnection(connection);
        await using (framed.ConfigureAwait(false))
        {
            _registered = new TaskCompletionSource<Error?>(TaskCreationOptions.RunContinuationsAsynchronously);
            Task reading = framed.RunAsync(this, cancellationToken);
            DateTime issuedAt = _context.UtcNow;
            framed.TryWriteMessage(0, ConnectionHandler.ServerHello);
            framed.TryWriteMessage(1, new RegisterServer
            {
                ServerId = _context.ServerId,
                Host = _advertisedHost,
                Port = _advertisedPort,
                IssuedAt = issuedAt,
                Proof = new ReadOnlySequence<byte>(_context.ClusterKey.ComputeProof("register", _context.ServerId, issuedAt, Security.ClusterKey.EndpointContext(_advertisedHost, _advertisedPort))),
            });
            framed.TryFlush();

            Task<Error?> registration = _registered.Task;
            if (await Task.WhenAny(registration, reading).WaitAsync(s_registrationTimeout, _context.TimeProvider, cancellationToken).ConfigureAwait(false) != registration)
            {
                throw new TransportException("the balancer closed the connection during registration", null);
            }

            if (registration.Result is { } error)
            {
                ServerLog.BalancerRejected(_context.Logger, error.Code, error.Message);
                throw new TransportException($"registration refused: {error.Message}", null);
            }

            ServerLog.BalancerRegistered(_context.Logger, BalancerText);
            _lastCpuTime = CurrentCpuTime();
            _lastCpuTimestamp = _context.TimeProvider.GetTimestamp();
            await ReportLoadAsync(framed, reading, cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    private async Task ReportLoadAsync(FramedConnection framed, Task reading, CancellationToken cancellationToken)
    {
        TimeSpan interval = _context.Options.LoadReportInterval;
        while (!framed.IsClosed)
        {
            if (await Task.WhenAny(reading, Task.Delay(interval, _context.TimeProvider, cancellationToken)).ConfigureAwait(false) == reading)
            {
                // The balancer went away (or closed its side).
                return;
            }

            cancellationToken.ThrowIfCancellationRequested();
            LoadReport report = MeasureLoad();
            if (!framed.TryWriteMessage(0, in report) || !framed.TryFlush())
            {
                return;
            }
        }
    }

    private LoadReport MeasureLoad()
    {
        TimeSpan cpuTime = CurrentCpuTime();
        long now = _context.TimeProvider.GetTimestamp();
        double wallSeconds = _context.TimeProvider.GetElapsedTime(_lastCpuTimestamp, now).TotalSeconds;
        double cpu = wallSeconds <= 0 ? 0 : (cpuTime - _lastCpuTime).TotalSeconds / (wallSeconds * Environment.ProcessorCount);
        _lastCpuTime = cpuTime;
        _lastCpuTimestamp = now;
        return new LoadReport
        {
            ServerId = _context.ServerId,
            Connections = _connections(),
            Cpu = Math.Clamp(cpu, 0, 1),
            MemoryBytes = Environment.WorkingSet,
        };
    }

    private static TimeSpan CurrentCpuTime() => Environment.CpuUsage.TotalTime;

    // ---- Frames from the balancer ---------------------------------------------------------------------------

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        switch (header.Opcode)
        {
            case Opcode.Hello:
                Hello hello = MessageSerializer.ReadBody<Hello>(ref reader, header);
                if (hello.ProtocolVersion != ProtocolConstants.ProtocolVersion)
                {
                    _registered.TrySetResult(new Error { Code = ErrorCode.UnsupportedVersion, Message = $"the balancer speaks protocol version {hello.ProtocolVersion}" });
                }

                break;
            case Opcode.Ok:
                _registered.TrySetResult(null);
                break;
            case Opcode.Error:
                _registered.TrySetResult(MessageSerializer.ReadBody<Error>(ref reader, header));
                break;
            case Opcode.Ping:
                connection.TryWriteMessage(header.RequestId, new Pong { Timestamp = MessageSerializer.ReadBody<Ping>(ref reader, header).Timestamp });
                break;
        }

        return default;
    }

    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        connection.TryFlush();
        return default;
    }

    /// <summary>Parses <c>HOST:PORT</c> (an IPv6 address in brackets).</summary>
    public static bool TryParseEndPoint(string? text, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1 || !int.TryParse(text.AsSpan(colon + 1), out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = text[..colon].Trim('[', ']');
        return host.Length != 0;
    }
}
