namespace FastChat.Transport.Tests;

// A listener and one connection to it, from both ends.
internal sealed class LoopbackPair : IAsyncDisposable
{
    private LoopbackPair(FastChatListener listener, FastChatConnection client, FastChatConnection server)
    {
        Listener = listener;
        Client = client;
        Server = server;
    }

    public FastChatListener Listener { get; }

    public FastChatConnection Client { get; }

    public FastChatConnection Server { get; }

    public static async Task<LoopbackPair> CreateAsync(Action<TransportOptions>? configureServer = null, Action<ConnectorOptions>? configureClient = null)
    {
        ListenerOptions listenerOptions = Loopback.ListenerOptions(configureServer);
        FastChatListener listener = FastChatListener.Bind(listenerOptions);
        var connectorOptions = new ConnectorOptions();
        configureClient?.Invoke(connectorOptions);
        FastChatConnection client = await FastChatConnector.ConnectAsync(listener.EndPoint, connectorOptions).WithTimeout();
        FastChatConnection server = (await listener.AcceptAsync().WithTimeout())!;
        return new LoopbackPair(listener, client, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync().WithTimeout();
        await Server.DisposeAsync().WithTimeout();
        await Listener.DisposeAsync().WithTimeout();
    }
}
