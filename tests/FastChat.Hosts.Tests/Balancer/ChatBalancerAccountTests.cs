using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Balancer;

public class ChatBalancerAccountTests
{
    private static readonly TimeSpan s_timeout = FramedTestPeer.Timeout;

    [Fact]
    public async Task SignUp_ValidRequest_StoresTheAccountAndAssignsAServer()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync(o => o.TokenLifetime = TimeSpan.FromHours(2));
        await harness.RegisterServerAsync("s1", 7801);
        BalancerTestClient client = await harness.ConnectClientAsync();
        byte[] authKey = RandomNumberGenerator.GetBytes(32);
        byte[] salt = RandomNumberGenerator.GetBytes(24);
        DateTime before = DateTime.UtcNow;

        ReceivedMessage reply = await client.SignUpAsync("alice", authKey, salt: salt, agreementPublicKey: [1, 1], signingPublicKey: [2, 2], wrappedPrivateKeys: [3, 3, 3]);

        Assigned assigned = reply.AssertAssigned();
        Assert.Equal("alice", assigned.UserName);
        Assert.Equal("s1", assigned.ServerId);
        Assert.Equal("127.0.0.1", assigned.Host);
        Assert.Equal(7801, assigned.Port);
        Assert.Equal([3, 3, 3], assigned.WrappedPrivateKeys.ToArray());
        Assert.Equal([1, 1], assigned.AgreementPublicKey.ToArray());
        Assert.Equal([2, 2], assigned.SigningPublicKey.ToArray());
        Assert.InRange(assigned.ExpiresAt, before.AddHours(2).AddSeconds(-1), DateTime.UtcNow.AddHours(2).AddSeconds(1));
        Assert.Equal(SessionTokenStatus.Valid, SessionTokens.Validate(harness.ClusterKey, assigned.SessionToken, "s1", DateTime.UtcNow, out string tokenUser));
        Assert.Equal("alice", tokenUser);

        Account? account = await harness.Store.GetAccountAsync("alice").WaitAsync(s_timeout);
        Assert.NotNull(account);
        Assert.Equal("pbkdf2-sha256", account.KdfAlgorithm);
        Assert.Equal(salt, account.KdfSalt);
        Assert.Equal(BalancerHarness.KdfIterations, account.KdfIterations);
        Assert.Equal(16, account.ServerSalt.Length);
        Assert.Equal(SHA256.HashData([.. account.ServerSalt, .. authKey]), account.AuthKeyHash);
        Assert.DoesNotContain(Convert.ToHexString(authKey), Convert.ToHexString([.. account.AuthKeyHash, .. account.ServerSalt, .. account.WrappedPrivateKeys]));

        // The same key signs in afterwards.
        Assert.Equal("alice", (await client.SignInAsync("alice", authKey)).AssertAssigned().UserName);
    }

    [Fact]
    public async Task SignUp_TakenName_UserExistsAndTheAccountIsUnchanged()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.RegisterServerAsync("s1", 7801);
        byte[] originalKey = await harness.SeedAccountAsync("bob");
        BalancerTestClient client = await harness.ConnectClientAsync();

        string message = (await client.SignUpAsync("bob", RandomNumberGenerator.GetBytes(32))).AssertError(ErrorCode.UserExists);

        Assert.Contains("bob", message, StringComparison.Ordinal);
        client.Peer.Connection.ConnectionClosed.ThrowIfCancellationRequested();
        Assert.Equal("bob", (await client.SignInAsync("bob", originalKey)).AssertAssigned().UserName);
    }

    /// <summary>Guards the name rule at sign-up, with the rule's own sentence as the explanation.</summary>
    [Theory]
    [InlineData("al")]
    [InlineData("Alice")]
    [InlineData("-alice")]
    [InlineData("ali ce")]
    [InlineData("alice@example")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    [InlineData("")]
    public async Task SignUp_InvalidName_InvalidUserNameWithTheRule(string userName)
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.RegisterServerAsync("s1", 7801);
        BalancerTestClient client = await harness.ConnectClientAsync();
        Assert.False(Names.IsValid(userName, out string problem));

        string message = (await client.SignUpAsync(userName, RandomNumberGenerator.GetBytes(32))).AssertError(ErrorCode.InvalidUserName);

        Assert.Equal(problem, message);
        if (userName.Length > 0)
        {
            Assert.Null(await harness.Store.GetAccountAsync(userName).WaitAsync(s_timeout));
        }
    }

    public static TheoryData<string, int, int, int, string> WeakSignUps => new()
    {
        { "pbkdf2-sha256", 99_999, 16, 32, "100000" },
        { "pbkdf2-sha256", 0, 16, 32, "100000" },
        { "argon2id", 100_000, 16, 32, "pbkdf2-sha256" },
        { "pbkdf2-sha256", 100_000, 15, 32, "16 to 64" },
        { "pbkdf2-sha256", 100_000, 65, 32, "16 to 64" },
        { "pbkdf2-sha256", 100_000, 16, 31, "32 bytes" },
        { "pbkdf2-sha256", 100_000, 16, 0, "32 bytes" },
    };

    /// <summary>Guards the KDF floor: an account protected by a weak or foreign key derivation is never created.</summary>
    [Theory]
    [MemberData(nameof(WeakSignUps))]
    public async Task SignUp_WeakOrMalformedKeyDerivation_ProtocolViolationAndNoAccount(string algorithm, int iterations, int saltLength, int keyLength, string mentioned)
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.RegisterServerAsync("s1", 7801);
        BalancerTestClient client = await harness.ConnectClientAsync();

        string message = (await client.SignUpAsync("carol", RandomNumberGenerator.GetBytes(keyLength), iterations, algorithm, RandomNumberGenerator.GetBytes(saltLength))).AssertError(ErrorCode.ProtocolViolation);

        Assert.Contains(mentioned, message, StringComparison.Ordinal);
        Assert.Null(await harness.Store.GetAccountAsync("carol").WaitAsync(s_timeout));

        // A bad request, not a broken connection: a correct sign-up goes through on it.
        client.Peer.Connection.ConnectionClosed.ThrowIfCancellationRequested();
        (await client.SignUpAsync("carol", RandomNumberGenerator.GetBytes(32))).AssertAssigned();
    }

    [Fact]
    public async Task SignUp_NoLiveServer_NoServerAvailableAndTheNameStaysFree()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        BalancerTestClient client = await harness.ConnectClientAsync();
        byte[] authKey = RandomNumberGenerator.GetBytes(32);

        (await client.SignUpAsync("dave", authKey)).AssertError(ErrorCode.NoServerAvailable);
        Assert.Null(await harness.Store.GetAccountAsync("dave").WaitAsync(s_timeout));

        await harness.RegisterServerAsync("s1", 7801);
        Assert.Equal("s1", (await client.SignUpAsync("dave", authKey)).AssertAssigned().ServerId);
    }

    [Fact]
    public async Task KdfParameters_KnownUser_ReturnsTheStoredParameters()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.SeedAccountAsync("erin");
        Account account = (await harness.Store.GetAccountAsync("erin").WaitAsync(s_timeout))!;
        BalancerTestClient client = await harness.ConnectClientAsync();

        KdfParameters parameters = (await client.KdfParametersAsync("erin")).As<KdfParameters>();

        Assert.Equal("erin", parameters.UserName);
        Assert.Equal("pbkdf2-sha256", parameters.Algorithm);
        Assert.Equal(account.KdfSalt, parameters.Salt.ToArray());
        Assert.Equal(BalancerHarness.KdfIterations, parameters.Iterations);
    }

    /// <summary>Guards against user enumeration: an unknown user gets parameters that look real and never change.</summary>
    [Fact]
    public async Task KdfParameters_UnknownUser_StableFakeSaltFromTheClusterKey()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        BalancerTestClient first = await harness.ConnectClientAsync();
        BalancerTestClient second = await harness.ConnectClientAsync();

        KdfParameters once = (await first.KdfParametersAsync("frank")).As<KdfParameters>();
        KdfParameters again = (await second.KdfParametersAsync("frank")).As<KdfParameters>();
        KdfParameters other = (await first.KdfParametersAsync("grace")).As<KdfParameters>();

        Span<byte> mac = stackalloc byte[32];
        harness.ClusterKey.ComputeHmac(Encoding.UTF8.GetBytes("kdf-saltfrank"), mac);
        Assert.Equal(mac[..16].ToArray(), once.Salt.ToArray());
        Assert.Equal(once.Salt.ToArray(), again.Salt.ToArray());
        Assert.NotEqual(once.Salt.ToArray(), other.Salt.ToArray());
        Assert.Equal("frank", once.UserName);
        Assert.Equal("pbkdf2-sha256", once.Algorithm);
        Assert.Equal(600_000, once.Iterations);
    }

    [Fact]
    public async Task SignIn_RightKey_AssignedWithATokenForThatServerOnly()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.RegisterServerAsync("s1", 7801);
        byte[] authKey = await harness.SeedAccountAsync("heidi");
        BalancerTestClient client = await harness.ConnectClientAsync();

        Assigned assigned = (await client.SignInAsync("heidi", authKey)).AssertAssigned();

        Assert.Equal("s1", assigned.ServerId);
        Assert.Equal(7801, assigned.Port);
        Assert.Equal([7, 8, 9, 10], assigned.WrappedPrivateKeys.ToArray());
        Assert.Equal([1, 2, 3], assigned.AgreementPublicKey.ToArray());
        Assert.Equal([4, 5, 6], assigned.SigningPublicKey.ToArray());
        Assert.Equal(SessionTokenStatus.Valid, SessionTokens.Validate(harness.ClusterKey, assigned.SessionToken, "s1", DateTime.UtcNow, out string user));
        Assert.Equal("heidi", user);
        Assert.Equal(SessionTokenStatus.WrongServer, SessionTokens.Validate(harness.ClusterKey, assigned.SessionToken, "s2", DateTime.UtcNow, out _));
        Assert.Equal(SessionTokenStatus.Invalid, SessionTokens.Validate(ClusterKey.Generate(), assigned.SessionToken, "s1", DateTime.UtcNow, out _));
        Assert.Equal(SessionTokenStatus.Expired, SessionTokens.Validate(harness.ClusterKey, assigned.SessionToken, "s1", assigned.ExpiresAt.AddSeconds(1), out _));
    }

    /// <summary>Guards against user enumeration at sign-in: a wrong key and an unknown user read the same.</summary>
    [Fact]
    public async Task SignIn_WrongKeyOrUnknownUser_SameAuthenticationFailedMessage()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.RegisterServerAsync("s1", 7801);
        byte[] authKey = await harness.SeedAccountAsync("ivan");
        BalancerTestClient client = await harness.ConnectClientAsync();
        byte[] wrongKey = (byte[])authKey.Clone();
        wrongKey[31] ^= 1;

        string wrong = (await client.SignInAsync("ivan", wrongKey)).AssertError(ErrorCode.AuthenticationFailed);
        string unknown = (await client.SignInAsync("nobody", authKey)).AssertError(ErrorCode.AuthenticationFailed);
        string invalidName = (await client.SignInAsync("Not A Name", authKey)).AssertError(ErrorCode.AuthenticationFailed);

        Assert.Equal("Wrong user name or password.", wrong);
        Assert.Equal(wrong, unknown);
        Assert.Equal(wrong, invalidName);
        (await client.SignInAsync("ivan", authKey)).AssertAssigned();
    }

    /// <summary>Guards the key format: a key of the wrong length is a bad request, not a failed guess.</summary>
    [Fact]
    public async Task SignIn_AuthKeyNot32Bytes_ProtocolViolationAndTheConnectionLives()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.RegisterServerAsync("s1", 7801);
        byte[] authKey = await harness.SeedAccountAsync("judy");
        BalancerTestClient client = await harness.ConnectClientAsync();

        string message = (await client.SignInAsync("judy", authKey[..16])).AssertError(ErrorCode.ProtocolViolation);

        Assert.Contains("32 bytes", message, StringComparison.Ordinal);
        (await client.SignInAsync("judy", authKey)).AssertAssigned();
    }

    [Fact]
    public async Task SignIn_NoLiveServer_NoServerAvailable()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        byte[] authKey = await harness.SeedAccountAsync("kim");
        BalancerTestClient client = await harness.ConnectClientAsync();

        (await client.SignInAsync("kim", authKey)).AssertError(ErrorCode.NoServerAvailable);
    }

    /// <summary>Guards the per-user limit: once a name has had its failures, even the right key is refused until the window passes.</summary>
    [Fact]
    public async Task SignIn_TooManyFailuresForOneUser_RateLimitedFromAnyConnection()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync(o =>
        {
            o.MaxSignInFailuresPerUser = 3;
            o.MaxSignInFailuresPerAddress = 100;
        });
        await harness.RegisterServerAsync("s1", 7801);
        byte[] authKey = await harness.SeedAccountAsync("leo");
        byte[] otherKey = await harness.SeedAccountAsync("mia");
        BalancerTestClient attacker = await harness.ConnectClientAsync();
        BalancerTestClient owner = await harness.ConnectClientAsync();

        for (int i = 0; i < 3; i++)
        {
            (await attacker.SignInAsync("leo", RandomNumberGenerator.GetBytes(32))).AssertError(ErrorCode.AuthenticationFailed);
        }

        string message = (await owner.SignInAsync("leo", authKey)).AssertError(ErrorCode.RateLimited);
        Assert.Contains("try again in", message, StringComparison.Ordinal);
        (await attacker.SignInAsync("leo", RandomNumberGenerator.GetBytes(32))).AssertError(ErrorCode.RateLimited);

        // Other users are not affected.
        (await attacker.SignInAsync("mia", otherKey)).AssertAssigned();
    }

    [Fact]
    public async Task SignIn_TooManyFailuresFromOneAddress_RateLimitedForEveryUser()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync(o =>
        {
            o.MaxSignInFailuresPerUser = 100;
            o.MaxSignInFailuresPerAddress = 4;
        });
        await harness.RegisterServerAsync("s1", 7801);
        byte[] authKey = await harness.SeedAccountAsync("nina");
        BalancerTestClient client = await harness.ConnectClientAsync();

        for (int i = 0; i < 4; i++)
        {
            (await client.SignInAsync("guess" + i, RandomNumberGenerator.GetBytes(32))).AssertError(ErrorCode.AuthenticationFailed);
        }

        // Every test client comes from 127.0.0.1: a fresh connection with the right key is refused too.
        BalancerTestClient another = await harness.ConnectClientAsync();
        (await another.SignInAsync("nina", authKey)).AssertError(ErrorCode.RateLimited);
    }

    [Fact]
    public async Task SignIn_Success_ResetsTheUsersFailureCount()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync(o =>
        {
            o.MaxSignInFailuresPerUser = 3;
            o.MaxSignInFailuresPerAddress = 100;
        });
        await harness.RegisterServerAsync("s1", 7801);
        byte[] authKey = await harness.SeedAccountAsync("oscar");
        BalancerTestClient client = await harness.ConnectClientAsync();

        for (int round = 0; round < 3; round++)
        {
            (await client.SignInAsync("oscar", RandomNumberGenerator.GetBytes(32))).AssertError(ErrorCode.AuthenticationFailed);
            (await client.SignInAsync("oscar", RandomNumberGenerator.GetBytes(32))).AssertError(ErrorCode.AuthenticationFailed);
            (await client.SignInAsync("oscar", authKey)).AssertAssigned();
        }
    }

    [Fact]
    public async Task SignIn_ManyClientsAtOnce_EachAnsweredOnItsOwnConnection()
    {
        await using BalancerHarness harness = await BalancerHarness.StartAsync();
        await harness.RegisterServerAsync("s1", 7801);
        var keys = new byte[20][];
        var clients = new BalancerTestClient[20];
        for (int i = 0; i < clients.Length; i++)
        {
            keys[i] = await harness.SeedAccountAsync("user" + i);
            clients[i] = await harness.ConnectClientAsync();
        }

        var signIns = new Task<ReceivedMessage>[clients.Length];
        for (int i = 0; i < clients.Length; i++)
        {
            signIns[i] = clients[i].SignInAsync("user" + i, keys[i]);
        }

        ReceivedMessage[] replies = await Task.WhenAll(signIns).WaitAsync(s_timeout);
        for (int i = 0; i < replies.Length; i++)
        {
            Assert.Equal("user" + i, replies[i].AssertAssigned().UserName);
        }
    }
}
