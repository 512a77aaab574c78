using System.Security.Cryptography;
using FastChat.Client;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.TestSupport;

/// <summary>
/// A whole cluster in this process: SQLite in a temp folder, a balancer (round-robin) and N chat servers, all on
/// 127.0.0.1 with ports picked by the system.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    public const int GroupMemberLimit = 4;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly string _folder;

    private TestCluster(string folder, SqliteChatStore store, ClusterKey key, ChatBalancer balancer, IReadOnlyList<ChatServer> servers)
    {
        _folder = folder;
        Store = store;
        Key = key;
        Balancer = balancer;
        Servers = servers;
    }

    public SqliteChatStore Store { get; }

    public ClusterKey Key { get; }

    public ChatBalancer Balancer { get; }

    public IReadOnlyList<ChatServer> Servers { get; }

    public static async Task<TestCluster> StartAsync(int serverCount = 3)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        string folder = Path.Combine(Path.GetTempPath(), "fastchat-tests", Guid.NewGuid().ToString("N"));
        SqliteChatStore store = SqliteChatStore.ForDataDirectory(folder);
        await store.InitializeAsync(timeout.Token);
        ClusterKey key = ClusterKey.Generate();
        var balancer = new ChatBalancer(
            // Servers that stop close their link and leave the registry at once; the report timeout only guards against
            // silent servers, so it is generous here: a loaded CI machine can delay a 100 ms report by over a second.
            new BalancerOptions { Host = "127.0.0.1", Port = 0, Strategy = "round-robin", ServerTimeout = TimeSpan.FromSeconds(15) },
            store,
            key);
        await balancer.StartAsync(timeout.Token);

        var servers = new List<ChatServer>();
        for (int i = 1; i <= serverCount; i++)
        {
            var server = new ChatServer(
                new ChatServerOptions
                {
                    Id = $"s{i}",
                    Host = "127.0.0.1",
                    Port = 0,
                    Balancer = $"127.0.0.1:{balancer.EndPoint.Port}",
                    LoadReportInterval = TimeSpan.FromMilliseconds(100),
                    GroupMemberLimit = GroupMemberLimit,
                    ShutdownTimeout = TimeSpan.FromSeconds(2),
                },
                store,
                key);
            await server.StartAsync(timeout.Token);
            servers.Add(server);
        }

        // Registration happens over each server's own link: poll the registry until every server is assignable.
        while (CountLive(balancer) < serverCount)
        {
            await Task.Delay(20, timeout.Token);
        }

        return new TestCluster(folder, store, key, balancer, servers);
    }

    /// <summary>A fresh, valid user name (3-32 of a-z 0-9 - _ .).</summary>
    public static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    public static AccountKeys RandomKeys() =>
        new(RandomNumberGenerator.GetBytes(91), RandomNumberGenerator.GetBytes(91), RandomNumberGenerator.GetBytes(200));

    public ChatClientOptions ClientOptions(Action<ChatClientOptions>? configure = null)
    {
        var options = new ChatClientOptions
        {
            BalancerHost = "127.0.0.1",
            BalancerPort = Balancer.EndPoint.Port,
            KdfIterations = 100_000,
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Signs up a new user on a new client, with its events being read.</summary>
    public async Task<TestUser> SignUpAsync(string prefix, Action<ChatClientOptions>? configure = null, AccountKeys? keys = null)
    {
        string name = NewName(prefix);
        string password = "pw-" + Guid.NewGuid().ToString("N");
        var client = new ChatClient(ClientOptions(configure));
        var events = new EventLog(client);
        try
        {
            SignInResult result = await client.SignUpAsync(name, password, keys ?? RandomKeys()).WaitAsync(EventLog.DefaultTimeout);
            return new TestUser(name, password, client, events, result);
        }
        catch
        {
            await events.DisposeAsync();
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Signs up users until one is assigned a server that satisfies <paramref name="wanted"/> (round-robin gets there within a cycle).</summary>
    public async Task<TestUser> SignUpOnAsync(string prefix, Func<string, bool> wanted, Action<ChatClientOptions>? configure = null)
    {
        for (int attempt = 0; attempt < 2 * Servers.Count + 1; attempt++)
        {
            TestUser user = await SignUpAsync(prefix, configure);
            if (wanted(user.ServerId))
            {
                return user;
            }

            await user.DisposeAsync();
        }

        throw new InvalidOperationException("The balancer never assigned a server that the test wanted.");
    }

    public ChatServer Server(string id) => Servers.Single(s => s.Id == id);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        foreach (ChatServer server in Servers)
        {
            await server.StopAsync(timeout.Token);
            await server.DisposeAsync();
        }

        await Balancer.StopAsync(timeout.Token);
        await Balancer.DisposeAsync();
        await Store.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the OS for a moment: the temp folder is cleaned up eventually.
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

/// <summary>A signed-up user: its client, its event log and how to sign in again.</summary>
internal sealed record TestUser(string Name, string Password, ChatClient Client, EventLog Events, SignInResult SignIn) : IAsyncDisposable
{
    public string ServerId => SignIn.ServerId;

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Events.DisposeAsync();
    }
}

/// <summary>One cluster shared by the tests of a class (they use fresh user and group names, so they do not interfere).</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private TestCluster? _cluster;

    internal TestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
