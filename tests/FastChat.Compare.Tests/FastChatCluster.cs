using FastChat.Hosts.Balancer;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;

namespace FastChat.Compare.Tests;

/// <summary>A FastChat balancer and one chat server in this process, on SQLite in a temporary folder and free loopback ports.</summary>
internal sealed class FastChatCluster : IAsyncDisposable
{
    private readonly string _folder;
    private readonly SqliteChatStore _store;
    private ChatBalancer? _balancer;
    private ChatServer? _server;

    private FastChatCluster(string folder)
    {
        _folder = folder;
        _store = SqliteChatStore.ForDataDirectory(folder);
    }

    /// <summary>The balancer's port.</summary>
    public int Port => _balancer!.EndPoint.Port;

    /// <summary>Starts the cluster and waits until the server is registered.</summary>
    public static async Task<FastChatCluster> StartAsync()
    {
        var cluster = new FastChatCluster(Path.Combine(Path.GetTempPath(), "fastchat-compare-tests", Guid.NewGuid().ToString("N")));
        try
        {
            await cluster.StartCoreAsync().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops both and deletes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        if (_server is not null)
        {
            await _server.StopAsync(timeout.Token).ConfigureAwait(false);
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        if (_balancer is not null)
        {
            await _balancer.StopAsync(timeout.Token).ConfigureAwait(false);
            await _balancer.DisposeAsync().ConfigureAwait(false);
        }

        await _store.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may hold its files a moment longer; the folder is under the system's temp.
        }
    }

    private async Task StartCoreAsync()
    {
        await _store.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
        ClusterKey key = ClusterKey.Generate();
        _balancer = new ChatBalancer(new BalancerOptions { Host = "127.0.0.1", Port = 0 }, _store, key);
        await _balancer.StartAsync(CancellationToken.None).ConfigureAwait(false);
        _server = new ChatServer(
            new ChatServerOptions
            {
                Id = "s1",
                Host = "127.0.0.1",
                Port = 0,
                Balancer = $"127.0.0.1:{Port}",
                LoadReportInterval = TimeSpan.FromMilliseconds(100),
            },
            _store,
            key);
        await _server.StartAsync(CancellationToken.None).ConfigureAwait(false);
        while (!IsLive())
        {
            // The server registers over its balancer link as that comes up; there is no event to await.
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    private bool IsLive()
    {
        foreach (ServerStatus server in _balancer!.GetServers())
        {
            if (server.Live)
            {
                return true;
            }
        }

        return false;
    }
}
