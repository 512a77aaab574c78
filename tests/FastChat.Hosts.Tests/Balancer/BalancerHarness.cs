using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Balancer;

/// <summary>A running balancer on 127.0.0.1:0 over a SQLite store in its own temporary folder, with one cluster key.</summary>
internal sealed class BalancerHarness : IAsyncDisposable
{
    public const int KdfIterations = 100_000;

    private readonly string _directory;
    private readonly List<IAsyncDisposable> _peers = [];

    private BalancerHarness(string directory, SqliteChatStore store, ClusterKey clusterKey, BalancerOptions options, ChatBalancer balancer)
    {
        _directory = directory;
        Store = store;
        ClusterKey = clusterKey;
        Options = options;
        Balancer = balancer;
    }

    public SqliteChatStore Store { get; }

    public ClusterKey ClusterKey { get; }

    public BalancerOptions Options { get; }

    public ChatBalancer Balancer { get; }

    public IPEndPoint EndPoint => Balancer.EndPoint;

    public static async Task<BalancerHarness> StartAsync(
        Action<BalancerOptions>? configure = null,
        TimeProvider? timeProvider = null,
        Random? random = null,
        IMeterFactory? meterFactory = null)
    {
        string directory = Path.Combine(Path.GetTempPath(), "fastchat-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(directory);
        SqliteChatStore store = SqliteChatStore.ForDataDirectory(directory);
        var options = new BalancerOptions
        {
            Host = "127.0.0.1",
            Port = 0,

            // Long enough that servers reporting once stay live through a test on a busy machine; the tests about
            // timeouts move a manual clock instead.
            ServerTimeout = TimeSpan.FromMinutes(5),
        };
        configure?.Invoke(options);
        var clusterKey = ClusterKey.Generate();
        var balancer = new ChatBalancer(options, store, clusterKey, loggerFactory: null, timeProvider, meterFactory, random ?? new Random(1234));
        try
        {
            await balancer.StartAsync(CancellationToken.None).WaitAsync(FramedTestPeer.Timeout);
        }
        catch
        {
            await balancer.DisposeAsync();
            await store.DisposeAsync();
            throw;
        }

        return new BalancerHarness(directory, store, clusterKey, options, balancer);
    }

    /// <summary>Registers a fake chat server advertising 127.0.0.1:<paramref name="port"/>; it is disposed with the harness.</summary>
    public async Task<FakeServerPeer> RegisterServerAsync(string serverId, int port)
    {
        FakeServerPeer server = await FakeServerPeer.RegisterAsync(EndPoint, ClusterKey, serverId, port).WaitAsync(FramedTestPeer.Timeout);
        _peers.Add(server);
        return server;
    }

    /// <summary>Connects a client (Hello exchanged); it is disposed with the harness.</summary>
    public async Task<BalancerTestClient> ConnectClientAsync()
    {
        BalancerTestClient client = await BalancerTestClient.ConnectAsync(EndPoint).WaitAsync(FramedTestPeer.Timeout);
        _peers.Add(client);
        return client;
    }

    /// <summary>Stores an account directly, hashed as the protocol says (<c>SHA-256(serverSalt || authKey)</c>), and returns its key.</summary>
    public async Task<byte[]> SeedAccountAsync(string userName)
    {
        byte[] authKey = RandomNumberGenerator.GetBytes(32);
        byte[] serverSalt = RandomNumberGenerator.GetBytes(16);
        var account = new Account(
            userName,
            "pbkdf2-sha256",
            RandomNumberGenerator.GetBytes(16),
            KdfIterations,
            serverSalt,
            SHA256.HashData([.. serverSalt, .. authKey]),
            [1, 2, 3],
            [4, 5, 6],
            [7, 8, 9, 10],
            DateTime.UtcNow);
        Assert.True(await Store.CreateAccountAsync(account).WaitAsync(FramedTestPeer.Timeout));
        return authKey;
    }

    /// <summary>Waits (with a deadline, polling) until the balancer's registry satisfies a condition.</summary>
    public async Task WaitForServersAsync(Func<IReadOnlyList<ServerStatus>, bool> condition)
    {
        using var deadline = new CancellationTokenSource(FramedTestPeer.Timeout);
        while (!condition(Balancer.GetServers()))
        {
            await Task.Delay(10, deadline.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable peer in _peers)
        {
            await peer.DisposeAsync();
        }

        await Balancer.DisposeAsync().AsTask().WaitAsync(FramedTestPeer.Timeout);
        await Store.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the OS must not fail the test; the temp folder is cleaned up eventually.
        }
    }
}

/// <summary>A client of the balancer speaking the raw protocol: no PBKDF2, the test picks the <c>authKey</c> itself.</summary>
internal sealed class BalancerTestClient : IAsyncDisposable
{
    private BalancerTestClient(FramedTestPeer peer) => Peer = peer;

    public FramedTestPeer Peer { get; }

    public static async Task<BalancerTestClient> ConnectAsync(EndPoint balancer)
    {
        FramedTestPeer peer = await FramedTestPeer.ConnectAsync(balancer);
        ReceivedMessage reply = await peer.RequestAsync(new Hello
        {
            ProtocolVersion = ProtocolConstants.ProtocolVersion,
            Role = PeerRole.Client,
            Features = [],
            Agent = "BalancerTestClient/1",
        });
        Assert.Equal(Opcode.Hello, reply.Opcode);
        Assert.Equal(PeerRole.Balancer, reply.As<Hello>().Role);
        return new BalancerTestClient(peer);
    }

    public Task<ReceivedMessage> SignInAsync(string userName, byte[] authKey) =>
        Peer.RequestAsync(new SignIn { UserName = userName, AuthKey = new ReadOnlySequence<byte>(authKey) });

    public Task<ReceivedMessage> SignUpAsync(
        string userName,
        byte[] authKey,
        int iterations = BalancerHarness.KdfIterations,
        string algorithm = "pbkdf2-sha256",
        byte[]? salt = null,
        byte[]? agreementPublicKey = null,
        byte[]? signingPublicKey = null,
        byte[]? wrappedPrivateKeys = null) =>
        Peer.RequestAsync(new SignUp
        {
            UserName = userName,
            KdfAlgorithm = algorithm,
            KdfSalt = new ReadOnlySequence<byte>(salt ?? RandomNumberGenerator.GetBytes(16)),
            KdfIterations = iterations,
            AuthKey = new ReadOnlySequence<byte>(authKey),
            AgreementPublicKey = new ReadOnlySequence<byte>(agreementPublicKey ?? [0xA1, 0xA2]),
            SigningPublicKey = new ReadOnlySequence<byte>(signingPublicKey ?? [0xB1, 0xB2, 0xB3]),
            WrappedPrivateKeys = new ReadOnlySequence<byte>(wrappedPrivateKeys ?? [0xC1, 0xC2, 0xC3, 0xC4]),
        });

    public Task<ReceivedMessage> KdfParametersAsync(string userName) =>
        Peer.RequestAsync(new KdfParametersRequest { UserName = userName });

    public async Task<IReadOnlyList<ServerStatus>> ClusterStatusAsync()
    {
        ReceivedMessage reply = await Peer.RequestAsync(default(ClusterStatusRequest));
        Assert.Equal(Opcode.ClusterStatus, reply.Opcode);
        return reply.As<ClusterStatus>().Servers;
    }

    public ValueTask DisposeAsync() => Peer.DisposeAsync();
}

internal static class ReceivedMessageAssertions
{
    /// <summary>Asserts the message is an Error with the code and returns its text.</summary>
    public static string AssertError(this ReceivedMessage message, ErrorCode code)
    {
        Assert.True(message.Opcode == Opcode.Error, $"Expected Error {code}, got {message}.");
        Error error = message.As<Error>();
        Assert.Equal(code, error.Code);
        return error.Message;
    }

    /// <summary>Asserts the message is Assigned and returns it (binary fields point into the message's payload).</summary>
    public static Assigned AssertAssigned(this ReceivedMessage message)
    {
        Assert.True(message.Opcode == Opcode.Assigned, $"Expected Assigned, got {message}.");
        return message.As<Assigned>();
    }
}
