using System.Security.Cryptography;
using System.Text;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

/// <summary>
/// One or two chat servers in-process over a real SQLite store in a temp folder, with no balancer: accounts are
/// created straight in the store and session tokens issued with the cluster key, as the balancer would.
/// </summary>
internal sealed class ServerHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly string _directory;

    private ServerHarness(string directory, SqliteChatStore store, ClusterKey key, List<ChatServer> servers)
    {
        _directory = directory;
        Store = store;
        Key = key;
        Servers = servers;
    }

    public SqliteChatStore Store { get; }

    public ClusterKey Key { get; }

    public List<ChatServer> Servers { get; }

    public ChatServer First => Servers[0];

    public ChatServer Second => Servers[1];

    public static async Task<ServerHarness> StartAsync(int servers = 1, Action<ChatServerOptions>? configure = null, ClusterKey? clusterKey = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        string directory = Path.Combine(Path.GetTempPath(), "fastchat-tests", Guid.NewGuid().ToString("n"));
        SqliteChatStore store = SqliteChatStore.ForDataDirectory(directory);
        await store.InitializeAsync().WaitAsync(Timeout);
        ClusterKey key = clusterKey ?? ClusterKey.Generate();
        var started = new List<ChatServer>();
        var harness = new ServerHarness(directory, store, key, started);
        for (int i = 1; i <= servers; i++)
        {
            var options = new ChatServerOptions
            {
                Id = $"server-{i}",
                Host = "127.0.0.1",
                Port = 0,

                // Nothing listens there: the balancer link keeps retrying quietly in the background.
                Balancer = "127.0.0.1:1",
                DeliveryTimeout = TimeSpan.FromSeconds(10),
                ShutdownTimeout = TimeSpan.FromSeconds(2),
            };
            configure?.Invoke(options);
            var server = new ChatServer(options, store, key, loggerFactory);
            started.Add(server);
            await server.StartAsync(CancellationToken.None).WaitAsync(Timeout);
        }

        return harness;
    }

    /// <summary>Creates accounts straight in the store (with recognisable public keys).</summary>
    public async Task CreateUsersAsync(params string[] names)
    {
        foreach (string name in names)
        {
            var account = new Account(
                name,
                "pbkdf2-sha256",
                RandomNumberGenerator.GetBytes(16),
                100_000,
                RandomNumberGenerator.GetBytes(16),
                RandomNumberGenerator.GetBytes(32),
                Encoding.UTF8.GetBytes("agreement-key-of-" + name),
                Encoding.UTF8.GetBytes("signing-key-of-" + name),
                Encoding.UTF8.GetBytes("wrapped-keys-of-" + name),
                DateTime.UtcNow);
            Assert.True(await Store.CreateAccountAsync(account).WaitAsync(Timeout));
        }
    }

    public byte[] Token(string user, ChatServer server, TimeSpan? lifetime = null) =>
        SessionTokens.Issue(Key, user, server.Id, DateTime.UtcNow + (lifetime ?? TimeSpan.FromHours(1)));

    /// <summary>Connects, says Hello and resumes <paramref name="user"/>'s session; returns the client and the Resumed reply.</summary>
    public async Task<(RawClient Client, Resumed Resumed)> ResumeAsync(string user, ChatServer? server = null, int? receiveBufferSize = null)
    {
        server ??= First;
        RawClient client = await RawClient.ConnectAndGreetAsync(server.EndPoint, receiveBufferSize: receiveBufferSize);
        uint requestId = await client.SendAsync(new Resume { SessionToken = new(Token(user, server)) });
        (Resumed resumed, uint replyId) = await client.ReadWithIdAsync<Resumed>();
        Assert.Equal(requestId, replyId);
        Assert.Equal(user, resumed.UserName);
        return (client, resumed);
    }

    /// <summary>Resumes and returns just the client.</summary>
    public async Task<RawClient> SignInAsync(string user, ChatServer? server = null) => (await ResumeAsync(user, server)).Client;

    /// <summary>Polls a condition the server changes asynchronously (presence, session counts) until it holds.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ChatServer server in Servers)
        {
            await server.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        await Store.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a background thread: the temp folder is cleaned up by the system.
        }
    }
}

/// <summary>Builders for the messages tests send.</summary>
internal static class TestMessages
{
    public static DirectMessage Direct(string recipient, string text, MessageId? id = null) => new()
    {
        Id = id ?? MessageId.NewId(),
        Sender = string.Empty,
        Recipient = recipient,
        SentAt = DateTime.UtcNow,
        Body = new(Encoding.UTF8.GetBytes(text)),
    };

    public static GroupMessage Group(string group, string text, MessageId? id = null) => new()
    {
        Id = id ?? MessageId.NewId(),
        Sender = string.Empty,
        Group = group,
        KeyEpoch = 0,
        SentAt = DateTime.UtcNow,
        Body = new(Encoding.UTF8.GetBytes(text)),
    };

    public static string Text(System.Buffers.ReadOnlySequence<byte> body) => Encoding.UTF8.GetString(body);
}
