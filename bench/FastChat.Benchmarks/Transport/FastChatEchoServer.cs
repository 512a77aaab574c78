using System.Net;
using FastChat.Transport;

namespace FastChat.Benchmarks.Transport;

/// <summary>The framed echo server on FastChat.Transport with its default options.</summary>
internal sealed class FastChatEchoServer : IEchoServer
{
    private readonly FastChatListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _serving;

    private FastChatEchoServer(FastChatListener listener)
    {
        _listener = listener;
        _serving = FramedServer.RunAsync(listener, EchoFrameHandler.Instance, _stopping.Token);
    }

    public EndPoint EndPoint => _listener.EndPoint;

    public static FastChatEchoServer Start() =>
        new(FastChatListener.Bind(new ListenerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) }));

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _listener.UnbindAsync();
        await _serving;
        await _listener.DisposeAsync();
        _stopping.Dispose();
    }
}
