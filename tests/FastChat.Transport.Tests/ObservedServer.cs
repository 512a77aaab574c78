using System.Buffers;
using System.Net;
using System.Threading.Channels;
using FastChat.Protocol;
using ProtocolViolationException = FastChat.Protocol.ProtocolViolationException;

namespace FastChat.Transport.Tests;

// A framed echo server that lets a test see the server side of each connection and hook into frames and violations.
internal sealed class ObservedServer : IFrameHandler, IAsyncDisposable
{
    private readonly FastChatListener _listener;
    private readonly Channel<FramedConnection> _accepted = Channel.CreateUnbounded<FramedConnection>();
    private readonly List<FramedConnection> _all = [];
    private readonly List<Task> _runs = [];
    private readonly Action<ReadOnlySequence<byte>>? _onFrame;
    private readonly Action<FramedConnection, ProtocolViolationException>? _onViolation;
    private readonly Task _acceptLoop;
    private ProtocolViolationException? _violation;

    private ObservedServer(FastChatListener listener, Action<ReadOnlySequence<byte>>? onFrame, Action<FramedConnection, ProtocolViolationException>? onViolation)
    {
        _listener = listener;
        _onFrame = onFrame;
        _onViolation = onViolation;
        _acceptLoop = AcceptLoopAsync();
    }

    public EndPoint EndPoint => _listener.EndPoint;

    public ProtocolViolationException? Violation => Volatile.Read(ref _violation);

    public List<FramedConnection> Accepted
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    public List<Task> RunTasks
    {
        get
        {
            lock (_all)
            {
                return [.. _runs];
            }
        }
    }

    public static Task<ObservedServer> StartAsync(
        Action<ListenerOptions>? configure = null,
        Action<ReadOnlySequence<byte>>? onFrame = null,
        Action<FramedConnection, ProtocolViolationException>? onViolation = null)
    {
        FastChatListener listener = FastChatListener.Bind(Loopback.ListenerOptions(configure));
        return Task.FromResult(new ObservedServer(listener, onFrame, onViolation));
    }

    public async Task<FramedConnection> NextAsync() => await _accepted.Reader.ReadAsync().AsTask().WithTimeout();

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        _onFrame?.Invoke(payload);
        connection.TryWriteFrame(payload);
        return default;
    }

    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        connection.TryFlush();
        return default;
    }

    public void OnProtocolViolation(FramedConnection connection, ProtocolViolationException exception)
    {
        Volatile.Write(ref _violation, exception);
        _onViolation?.Invoke(connection, exception);
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync().WithTimeout();
        await _acceptLoop.WithTimeout();
        await Task.WhenAll(RunTasks).WithTimeout();
    }

    private async Task AcceptLoopAsync()
    {
        while (await _listener.AcceptAsync() is { } connection)
        {
            var framed = new FramedConnection(connection);
            lock (_all)
            {
                _all.Add(framed);
                _runs.Add(RunAsync(framed));
            }

            _accepted.Writer.TryWrite(framed);
        }
    }

    private async Task RunAsync(FramedConnection framed)
    {
        await framed.RunAsync(this);
        await framed.DisposeAsync();
    }
}
