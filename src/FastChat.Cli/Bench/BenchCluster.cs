using FastChat.Hosts.Balancer;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// The cluster a bench run talks to: one it starts in this process (SQLite in a temporary folder, a round-robin
/// balancer and N chat servers on 127.0.0.1 with system-chosen ports), or one already running.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly string? _folder;
    private readonly SqliteChatStore? _store;
    private readonly List<ChatServer> _servers = [];
    private ChatBalancer? _balancer;

    private BenchCluster(string host, int port, string? folder, SqliteChatStore? store)
    {
        Host = host;
        Port = port;
        _folder = folder;
        _store = store;
    }

    /// <summary>The balancer's host.</summary>
    public string Host { get; }

    /// <summary>The balancer's port.</summary>
    public int Port { get; private set; }

    /// <summary>How many chat servers this process runs (0 for a cluster already running).</summary>
    public int SpawnedServers => _servers.Count;

    /// <summary>A cluster already running, reached through its balancer.</summary>
    public static BenchCluster Existing(string host, int port) => new(host, port, null, null);

    /// <summary>Starts a cluster in this process and waits until every server is registered with the balancer.</summary>
    /// <param name="serverCount">How many chat servers.</param>
    /// <param name="maxFrameSize">The largest frame the hosts accept (bodies up to 1 MiB need a little over 1 MiB).</param>
    /// <param name="groupMemberLimit">The most members a group may have, or <see langword="null"/> for the servers' default.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<BenchCluster> SpawnAsync(int serverCount, int maxFrameSize, int? groupMemberLimit, CancellationToken cancellationToken)
    {
        string folder = Path.Combine(Path.GetTempPath(), "fastchat-bench", Guid.NewGuid().ToString("N"));
        var cluster = new BenchCluster("127.0.0.1", 0, folder, SqliteChatStore.ForDataDirectory(folder));
        try
        {
            await cluster.StartAsync(serverCount, maxFrameSize, groupMemberLimit, cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops what this process started and deletes the temporary folder; a cluster already running is left alone.</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        foreach (ChatServer server in _servers)
        {
            try
            {
                await server.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping took too long: disposing below closes what is left.
            }

            await server.DisposeAsync().ConfigureAwait(false);
        }

        if (_balancer is not null)
        {
            try
            {
                await _balancer.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // As above.
            }

            await _balancer.DisposeAsync().ConfigureAwait(false);
        }

        if (_store is not null)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
        }

        if (_folder is not null && Directory.Exists(_folder))
        {
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // SQLite's files can stay open for a moment after dispose; the folder is under the system's temp.
            }
        }
    }

    private async Task StartAsync(int serverCount, int maxFrameSize, int? groupMemberLimit, CancellationToken cancellationToken)
    {
        await _store!.InitializeAsync(cancellationToken).ConfigureAwait(false);
        ClusterKey key = ClusterKey.Generate();
        _balancer = new ChatBalancer(
            new BalancerOptions { Host = "127.0.0.1", Port = 0, Strategy = "round-robin", MaxFrameSize = maxFrameSize },
            _store,
            key);
        await _balancer.StartAsync(cancellationToken).ConfigureAwait(false);
        Port = _balancer.EndPoint.Port;
        for (int i = 1; i <= serverCount; i++)
        {
            var options = new ChatServerOptions
            {
                Id = $"s{i}",
                Host = "127.0.0.1",
                Port = 0,
                Balancer = $"127.0.0.1:{Port}",
                MaxFrameSize = maxFrameSize,

                // Servers register over their balancer link as it comes up; a short report interval gets a new
                // server assignable (and the run going) sooner.
                LoadReportInterval = TimeSpan.FromMilliseconds(200),
            };
            if (groupMemberLimit is { } limit)
            {
                options.GroupMemberLimit = limit;
            }

            var server = new ChatServer(options, _store, key);
            _servers.Add(server);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        while (CountLive(_balancer) < serverCount)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private static int CountLive(ChatBalancer balancer)
    {
        int live = 0;
        foreach (ServerStatus server in balancer.GetServers())
        {
            if (server.Live)
            {
                live++;
            }
        }

        return live;
    }
}
