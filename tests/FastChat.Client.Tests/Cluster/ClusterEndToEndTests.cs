using System.Security.Cryptography;
using System.Text;
using FastChat.Client;
using FastChat.Client.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Cluster;

/// <summary>
/// The SDK against a real in-process cluster: SQLite, a round-robin balancer and three chat servers over loopback
/// sockets. Every test uses its own user and group names.
/// </summary>
public sealed class ClusterEndToEndTests : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Timeout = EventLog.DefaultTimeout;
    private static readonly TimeSpan FileTimeout = TimeSpan.FromSeconds(60);

    private readonly TestCluster _cluster;

    public ClusterEndToEndTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task DirectMessage_SameServer_IsDeliveredAckedAndReportedDelivered()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpOnAsync("bob", server => server == alice.ServerId);

        await AssertDirectMessageFlowsAsync(alice, bob, "hello on one server");
    }

    [Fact]
    public async Task DirectMessage_AcrossServers_IsRelayedAckedAndReportedDelivered()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpOnAsync("bob", server => server != alice.ServerId);

        await AssertDirectMessageFlowsAsync(alice, bob, "hello across servers");
        await AssertDirectMessageFlowsAsync(bob, alice, "and back");
    }

    [Fact]
    public async Task DirectMessage_UnknownRecipient_FailsWithUserNotFound()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");

        ChatException error = await Assert.ThrowsAsync<ChatException>(
            () => alice.Client.SendDirectAsync(TestCluster.NewName("nobody"), Bytes("lost")).WaitAsync(Timeout));
        Assert.Equal(ErrorCode.UserNotFound, error.ErrorCode);

        // The session lives on after a refused message.
        await AssertDirectMessageFlowsAsync(alice, alice, "note to self");
    }

    [Fact]
    public async Task GroupMessage_MembersOnEveryServer_EachOtherMemberGetsItOnce()
    {
        await using TestUser admin = await _cluster.SignUpAsync("admin");
        await using TestUser first = await _cluster.SignUpOnAsync("first", server => server != admin.ServerId);
        await using TestUser second = await _cluster.SignUpOnAsync("second", server => server != admin.ServerId && server != first.ServerId);
        string group = TestCluster.NewName("g");

        await admin.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await admin.Client.AddMemberAsync(group, first.Name).WaitAsync(Timeout);
        await admin.Client.AddMemberAsync(group, second.Name).WaitAsync(Timeout);
        await first.Events.WaitForAsync<GroupChangedEvent>(e => e.Group == group && e.Kind == GroupChangeKind.MemberAdded && e.Member == second.Name);
        GroupMembersInfo members = await admin.Client.GetMembersAsync(group).WaitAsync(Timeout);
        Assert.Equal(admin.Name, members.Admin);
        Assert.Equal(new[] { admin.Name, first.Name, second.Name }.Order(), members.Members.Order());

        byte[] body = Bytes("to everyone");
        MessageId id = await admin.Client.SendGroupAsync(group, members.KeyEpoch, body).WaitAsync(Timeout);
        foreach (TestUser member in new[] { first, second })
        {
            GroupMessageReceived received = await member.Events.WaitForAsync<GroupMessageReceived>(m => m.Id == id);
            Assert.Equal(admin.Name, received.From);
            Assert.Equal(group, received.Group);
            Assert.Equal(members.KeyEpoch, received.KeyEpoch);
            Assert.Equal(body, received.Body.ToArray());
        }

        // A reply from a member reaches the other two; after it, nobody holds a second copy and the sender none.
        MessageId reply = await first.Client.SendGroupAsync(group, members.KeyEpoch, Bytes("reply")).WaitAsync(Timeout);
        await admin.Events.WaitForAsync<GroupMessageReceived>(m => m.Id == reply);
        await second.Events.WaitForAsync<GroupMessageReceived>(m => m.Id == reply);
        Assert.Single(first.Events.All<GroupMessageReceived>(), m => m.Id == id);
        Assert.Single(second.Events.All<GroupMessageReceived>(), m => m.Id == id);
        Assert.DoesNotContain(admin.Events.All<GroupMessageReceived>(), m => m.Id == id);
    }

    [Fact]
    public async Task OfflineMessages_AtNextSignIn_AreDeliveredInOrderAndOnlyOnce()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpAsync("bob");
        string group = TestCluster.NewName("g");
        await alice.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, bob.Name).WaitAsync(Timeout);
        await bob.Client.SignOutAsync().WaitAsync(Timeout);
        Assert.Equal(ConnectionState.Disconnected, bob.Client.State);

        var sent = new List<MessageId>();
        for (int i = 1; i <= 5; i++)
        {
            sent.Add(await alice.Client.SendDirectAsync(bob.Name, Bytes($"offline {i}")).WaitAsync(Timeout));
        }

        MessageId groupId = await alice.Client.SendGroupAsync(group, 0, Bytes("offline group")).WaitAsync(Timeout);

        SignInResult again = await bob.Client.SignInAsync(bob.Name, bob.Password).WaitAsync(Timeout);
        Assert.Equal(6, again.PendingCount);
        IReadOnlyList<DirectMessageReceived> received = await bob.Events.WaitForCountAsync<DirectMessageReceived>(5, m => m.From == alice.Name);
        Assert.Equal(sent, received.Select(m => m.Id));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"offline {i}"), received.Select(m => Text(m.Body)));
        await bob.Events.WaitForAsync<GroupMessageReceived>(m => m.Id == groupId);

        // Acknowledged on receipt, so the next sign-in finds nothing pending and nothing comes twice.
        await bob.Client.SignOutAsync().WaitAsync(Timeout);
        SignInResult third = await bob.Client.SignInAsync(bob.Name, bob.Password).WaitAsync(Timeout);
        Assert.Equal(0, third.PendingCount);
        MessageId marker = await alice.Client.SendDirectAsync(bob.Name, Bytes("marker")).WaitAsync(Timeout);
        await bob.Events.WaitForAsync<DirectMessageReceived>(m => m.Id == marker);
        Assert.Equal(6, bob.Events.All<DirectMessageReceived>().Count(m => m.From == alice.Name));
        Assert.Single(bob.Events.All<GroupMessageReceived>(), m => m.Id == groupId);
    }

    /// <summary>Guards at-least-once delivery: with AutoAck off, what the application never acknowledged comes back at the next sign-in, and only that.</summary>
    [Fact]
    public async Task ManualAck_UnacknowledgedMessage_IsDeliveredAgainAtNextSignIn()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        TestUser bob = await _cluster.SignUpAsync("bob", o => o.AutoAck = false);
        await using (bob)
        {
            Task<MessageId> unacked = alice.Client.SendDirectAsync(bob.Name, Bytes("never acked"));
            DirectMessageReceived first = await bob.Events.WaitForAsync<DirectMessageReceived>(m => Text(m.Body) == "never acked");

            // The server acknowledges the sender only once the online recipient does.
            Assert.False(unacked.IsCompleted);
            Task<MessageId> acked = alice.Client.SendDirectAsync(bob.Name, Bytes("acked"));
            DirectMessageReceived second = await bob.Events.WaitForAsync<DirectMessageReceived>(m => Text(m.Body) == "acked");
            await bob.Client.AckAsync(second.Id);
            Assert.Equal(second.Id, await acked.WaitAsync(Timeout));
            await alice.Events.WaitForAsync<MessageDelivered>(d => d.Id == second.Id && d.Recipient == bob.Name);

            // Bob leaves without acknowledging the first: the server stores it, then acknowledges Alice.
            await bob.Client.DisposeAsync();
            Assert.Equal(first.Id, await unacked.WaitAsync(Timeout));
        }

        await using var client = new ChatClient(_cluster.ClientOptions());
        await using var events = new EventLog(client);
        SignInResult result = await client.SignInAsync(bob.Name, bob.Password).WaitAsync(Timeout);
        MessageId marker = await alice.Client.SendDirectAsync(bob.Name, Bytes("marker")).WaitAsync(Timeout);
        await events.WaitForAsync<DirectMessageReceived>(m => m.Id == marker);

        Assert.Equal(1, result.PendingCount);
        Assert.Equal(["never acked", "marker"], events.All<DirectMessageReceived>().Select(m => Text(m.Body)));
    }

    [Fact]
    public async Task File_FiveMebibytesAcrossServers_ArrivesByteIdentical()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpOnAsync("bob", server => server != alice.ServerId);
        (byte[][] chunks, byte[] envelope) = RandomFile(5 * 1024 * 1024);

        MessageId fileId = await alice.Client.SendFileAsync(bob.Name, envelope, 5 * 1024 * 1024, AsMemory(chunks)).WaitAsync(FileTimeout);

        FileReceived file = await bob.Events.WaitForAsync<FileReceived>(f => f.Id == fileId, FileTimeout);
        AssertSameFile(alice.Name, chunks, envelope, file);
        Assert.Equal(bob.Name, file.Recipient);
        Assert.Equal(string.Empty, file.Group);
    }

    [Fact]
    public async Task File_FiveMebibytesToOfflineUser_ArrivesByteIdenticalAtSignIn()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpAsync("bob");
        await bob.Client.SignOutAsync().WaitAsync(Timeout);
        (byte[][] chunks, byte[] envelope) = RandomFile(5 * 1024 * 1024);

        MessageId fileId = await alice.Client.SendFileAsync(bob.Name, envelope, 5 * 1024 * 1024, AsMemory(chunks)).WaitAsync(FileTimeout);
        await bob.Client.SignInAsync(bob.Name, bob.Password).WaitAsync(Timeout);

        FileReceived file = await bob.Events.WaitForAsync<FileReceived>(f => f.Id == fileId, FileTimeout);
        AssertSameFile(alice.Name, chunks, envelope, file);
    }

    [Fact]
    public async Task GroupFile_ToMembersOnOtherServers_EveryMemberGetsIt()
    {
        await using TestUser admin = await _cluster.SignUpAsync("admin");
        await using TestUser member = await _cluster.SignUpOnAsync("member", server => server != admin.ServerId);
        string group = TestCluster.NewName("g");
        await admin.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await admin.Client.AddMemberAsync(group, member.Name).WaitAsync(Timeout);
        (byte[][] chunks, byte[] envelope) = RandomFile(150_000);

        MessageId fileId = await admin.Client.SendGroupFileAsync(group, 7, envelope, 150_000, AsMemory(chunks)).WaitAsync(FileTimeout);

        FileReceived file = await member.Events.WaitForAsync<FileReceived>(f => f.Id == fileId, FileTimeout);
        AssertSameFile(admin.Name, chunks, envelope, file);
        Assert.Equal(group, file.Group);
        Assert.Equal(7, file.KeyEpoch);
    }

    [Fact]
    public async Task File_OverTheServerLimit_FailsWithFileTooLarge()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpAsync("bob");

        ChatException error = await Assert.ThrowsAsync<ChatException>(
            () => alice.Client.SendFileAsync(bob.Name, Bytes("envelope"), 17L * 1024 * 1024, AsMemory([new byte[16]])).WaitAsync(Timeout));
        Assert.Equal(ErrorCode.FileTooLarge, error.ErrorCode);
    }

    [Fact]
    public async Task GroupRules_NonAdmin_CannotManageTheGroup()
    {
        await using TestUser admin = await _cluster.SignUpAsync("admin");
        await using TestUser carol = await _cluster.SignUpAsync("carol");
        await using TestUser dave = await _cluster.SignUpAsync("dave");
        string group = TestCluster.NewName("g");
        await admin.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await admin.Client.AddMemberAsync(group, carol.Name).WaitAsync(Timeout);

        await AssertErrorAsync(ErrorCode.NotAdmin, carol.Client.AddMemberAsync(group, dave.Name));
        await AssertErrorAsync(ErrorCode.NotAdmin, carol.Client.RemoveMemberAsync(group, admin.Name));
        await AssertErrorAsync(ErrorCode.NotAdmin, carol.Client.GetMembersAsync(group));
        await AssertErrorAsync(ErrorCode.NotAdmin, carol.Client.SendGroupKeyEnvelopeAsync(group, admin.Name, 1, Bytes("key")));
        await AssertErrorAsync(ErrorCode.GroupExists, carol.Client.CreateGroupAsync(group));

        ChatException already = await AssertErrorAsync(ErrorCode.AlreadyMember, admin.Client.AddMemberAsync(group, carol.Name));
        Assert.Contains("already in the group", already.Message, StringComparison.Ordinal);
        await AssertErrorAsync(ErrorCode.UserNotFound, admin.Client.AddMemberAsync(group, TestCluster.NewName("nobody")));
        await AssertErrorAsync(ErrorCode.NotMember, dave.Client.SendGroupAsync(group, 0, Bytes("let me in")));

        GroupMembersInfo members = await admin.Client.GetMembersAsync(group).WaitAsync(Timeout);
        Assert.Equal(new[] { admin.Name, carol.Name }.Order(), members.Members.Order());
    }

    [Fact]
    public async Task GroupRemoveAndLeave_MembersAreToldAndTheEpochAdvances()
    {
        await using TestUser admin = await _cluster.SignUpAsync("admin");
        await using TestUser carol = await _cluster.SignUpOnAsync("carol", server => server != admin.ServerId);
        await using TestUser dave = await _cluster.SignUpAsync("dave");
        string group = TestCluster.NewName("g");
        await admin.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await admin.Client.AddMemberAsync(group, carol.Name).WaitAsync(Timeout);
        await admin.Client.AddMemberAsync(group, dave.Name).WaitAsync(Timeout);
        int epoch = (await admin.Client.GetMembersAsync(group).WaitAsync(Timeout)).KeyEpoch;

        await admin.Client.RemoveMemberAsync(group, carol.Name).WaitAsync(Timeout);
        GroupChangedEvent removed = await carol.Events.WaitForAsync<GroupChangedEvent>(e => e.Group == group && e.Kind == GroupChangeKind.MemberRemoved);
        Assert.Equal(carol.Name, removed.Member);
        Assert.Equal(admin.Name, removed.Actor);
        Assert.True(removed.Epoch > epoch, $"the epoch should advance past {epoch}, got {removed.Epoch}");
        await dave.Events.WaitForAsync<GroupChangedEvent>(e => e.Group == group && e.Kind == GroupChangeKind.MemberRemoved && e.Member == carol.Name);
        await AssertErrorAsync(ErrorCode.NotMember, carol.Client.SendGroupAsync(group, removed.Epoch, Bytes("still here?")));

        await dave.Client.LeaveGroupAsync(group).WaitAsync(Timeout);
        GroupChangedEvent left = await admin.Events.WaitForAsync<GroupChangedEvent>(e => e.Group == group && e.Kind == GroupChangeKind.MemberLeft);
        Assert.Equal(dave.Name, left.Member);
        Assert.Equal(new[] { admin.Name }, (await admin.Client.GetMembersAsync(group).WaitAsync(Timeout)).Members);
    }

    [Fact]
    public async Task GroupFull_AddingPastTheLimit_FailsWithGroupFull()
    {
        await using TestUser admin = await _cluster.SignUpAsync("admin");
        string group = TestCluster.NewName("g");
        await admin.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        var others = new List<TestUser>();
        try
        {
            for (int i = 0; i < TestCluster.GroupMemberLimit; i++)
            {
                others.Add(await _cluster.SignUpAsync("m"));
            }

            // The admin counts toward the limit.
            for (int i = 0; i < TestCluster.GroupMemberLimit - 1; i++)
            {
                await admin.Client.AddMemberAsync(group, others[i].Name).WaitAsync(Timeout);
            }

            ChatException full = await AssertErrorAsync(ErrorCode.GroupFull, admin.Client.AddMemberAsync(group, others[^1].Name));
            Assert.Contains("full", full.Message, StringComparison.Ordinal);
            Assert.Equal(TestCluster.GroupMemberLimit, (await admin.Client.GetMembersAsync(group).WaitAsync(Timeout)).Members.Count);
        }
        finally
        {
            foreach (TestUser user in others)
            {
                await user.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task GroupKeyEnvelope_FromAdmin_ReachesTheMemberLiveAndAtEverySignIn()
    {
        await using TestUser admin = await _cluster.SignUpAsync("admin");
        await using TestUser member = await _cluster.SignUpOnAsync("member", server => server != admin.ServerId);
        string group = TestCluster.NewName("g");
        await admin.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await admin.Client.AddMemberAsync(group, member.Name).WaitAsync(Timeout);
        byte[] envelope = RandomNumberGenerator.GetBytes(60);

        await admin.Client.SendGroupKeyEnvelopeAsync(group, member.Name, 3, envelope).WaitAsync(Timeout);

        GroupKeyReceived live = await member.Events.WaitForAsync<GroupKeyReceived>(k => k.Group == group);
        Assert.Equal(3, live.Epoch);
        Assert.Equal(admin.Name, live.Sender);
        Assert.Equal(envelope, live.Envelope.ToArray());

        await member.Client.SignOutAsync().WaitAsync(Timeout);
        await member.Client.SignInAsync(member.Name, member.Password).WaitAsync(Timeout);
        IReadOnlyList<GroupKeyReceived> both = await member.Events.WaitForCountAsync<GroupKeyReceived>(2, k => k.Group == group);
        Assert.Equal(envelope, both[1].Envelope.ToArray());
    }

    [Fact]
    public async Task Accounts_KeysStoredAtSignUp_AreServedAndReturnedAtSignIn()
    {
        AccountKeys keys = TestCluster.RandomKeys();
        await using TestUser alice = await _cluster.SignUpAsync("alice", keys: keys);
        await using TestUser bob = await _cluster.SignUpAsync("bob");

        UserPublicKeys published = await bob.Client.GetPublicKeysAsync(alice.Name).WaitAsync(Timeout);
        Assert.Equal(alice.Name, published.UserName);
        Assert.Equal(keys.AgreementPublicKey.ToArray(), published.AgreementPublicKey.ToArray());
        Assert.Equal(keys.SigningPublicKey.ToArray(), published.SigningPublicKey.ToArray());
        await AssertErrorAsync(ErrorCode.UserNotFound, bob.Client.GetPublicKeysAsync(TestCluster.NewName("nobody")));

        await using var laptop = new ChatClient(_cluster.ClientOptions());
        SignInResult elsewhere = await laptop.SignInAsync(alice.Name, alice.Password).WaitAsync(Timeout);
        Assert.Equal(keys.WrappedPrivateKeys.ToArray(), elsewhere.Keys.WrappedPrivateKeys.ToArray());
        Assert.Equal(keys.AgreementPublicKey.ToArray(), elsewhere.Keys.AgreementPublicKey.ToArray());
        Assert.Equal(alice.SignIn.WrapKey.ToArray(), elsewhere.WrapKey.ToArray());
        Assert.Equal(PasswordKeys.KeySize, elsewhere.WrapKey.Length);
    }

    [Fact]
    public async Task SignUp_KeyFactory_GetsTheWrapKeyThatSignInDerivesAgain()
    {
        string name = TestCluster.NewName("erin");
        byte[]? seen = null;
        await using (var client = new ChatClient(_cluster.ClientOptions()))
        {
            SignInResult created = await client.SignUpAsync(name, "a long password", wrapKey =>
            {
                seen = wrapKey.ToArray();
                return new AccountKeys(new byte[] { 1 }, new byte[] { 2 }, new byte[] { 3 });
            }).WaitAsync(Timeout);
            Assert.Equal(seen, created.WrapKey.ToArray());
        }

        await using var again = new ChatClient(_cluster.ClientOptions());
        SignInResult result = await again.SignInAsync(name, "a long password").WaitAsync(Timeout);
        Assert.Equal(seen, result.WrapKey.ToArray());
        Assert.Equal(new byte[] { 3 }, result.Keys.WrappedPrivateKeys.ToArray());
    }

    [Fact]
    public async Task SignUp_ExistingName_FailsWithUserExists()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using var other = new ChatClient(_cluster.ClientOptions());

        ChatException error = await Assert.ThrowsAsync<ChatException>(() => other.SignUpAsync(alice.Name, "another password", AccountKeys.Empty).WaitAsync(Timeout));

        Assert.Equal(ErrorCode.UserExists, error.ErrorCode);
        Assert.Equal(ConnectionState.Disconnected, other.State);
    }

    [Fact]
    public async Task SignIn_WrongPasswordOrUnknownUser_FailsWithAuthenticationFailedThenRightPasswordWorks()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using var client = new ChatClient(_cluster.ClientOptions());

        ChatException wrong = await Assert.ThrowsAsync<ChatException>(() => client.SignInAsync(alice.Name, "not the password").WaitAsync(Timeout));
        ChatException unknown = await Assert.ThrowsAsync<ChatException>(() => client.SignInAsync(TestCluster.NewName("nobody"), "whatever").WaitAsync(Timeout));

        Assert.Equal(ErrorCode.AuthenticationFailed, wrong.ErrorCode);
        Assert.Equal(ErrorCode.AuthenticationFailed, unknown.ErrorCode);
        Assert.Equal(wrong.Message, unknown.Message);
        Assert.Equal(ConnectionState.Disconnected, client.State);

        SignInResult result = await client.SignInAsync(alice.Name, alice.Password).WaitAsync(Timeout);
        Assert.Equal(alice.Name, result.UserName);
        Assert.Equal(ConnectionState.Connected, client.State);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.SignInAsync(alice.Name, alice.Password));
    }

    /// <summary>Guards Resume's token checks: a token past its expiry, one signed with another key, or one for another server is refused.</summary>
    [Fact]
    public async Task Resume_ExpiredForgedOrMisdirectedToken_IsRefused()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        var server = _cluster.Servers[0];
        DateTime later = DateTime.UtcNow.AddHours(1);

        Assert.Equal(ErrorCode.TokenExpired, await ResumeAsync(server.EndPoint, SessionTokensIssue(_cluster.Key, alice.Name, server.Id, DateTime.UtcNow.AddMinutes(-1))));
        Assert.Equal(ErrorCode.TokenInvalid, await ResumeAsync(server.EndPoint, SessionTokensIssue(Hosts.Security.ClusterKey.Generate(), alice.Name, server.Id, later)));
        Assert.Equal(ErrorCode.TokenInvalid, await ResumeAsync(server.EndPoint, SessionTokensIssue(_cluster.Key, alice.Name, _cluster.Servers[1].Id, later)));
        Assert.Equal(ErrorCode.TokenInvalid, await ResumeAsync(server.EndPoint, RandomNumberGenerator.GetBytes(64)));

        // The same path with a genuine token succeeds, so the refusals above are about the tokens.
        Assert.Null(await ResumeAsync(server.EndPoint, SessionTokensIssue(_cluster.Key, alice.Name, server.Id, later)));
    }

    [Fact]
    public async Task Dispose_WhileASendWaitsForItsAck_FailsItWithObjectDisposed()
    {
        TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpAsync("bob", o => o.AutoAck = false);
        try
        {
            Task<MessageId> send = alice.Client.SendDirectAsync(bob.Name, Bytes("waiting"));
            await bob.Events.WaitForAsync<DirectMessageReceived>(m => Text(m.Body) == "waiting");
            Assert.False(send.IsCompleted);

            await alice.Client.DisposeAsync();

            await Assert.ThrowsAsync<ObjectDisposedException>(() => send.WaitAsync(Timeout));
            await Assert.ThrowsAsync<ObjectDisposedException>(() => alice.Client.GetMembersAsync("g-any"));
        }
        finally
        {
            await alice.DisposeAsync();
        }
    }

    [Fact]
    public async Task Ping_SignedIn_MeasuresARoundTrip()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");

        TimeSpan roundTrip = await alice.Client.PingAsync().WaitAsync(Timeout);

        Assert.True(roundTrip > TimeSpan.Zero);
        Assert.Equal(alice.ServerId, alice.Client.ServerId);
    }

    private static async Task AssertDirectMessageFlowsAsync(TestUser from, TestUser to, string text)
    {
        byte[] body = Bytes(text);
        MessageId id = await from.Client.SendDirectAsync(to.Name, body).WaitAsync(Timeout);

        DirectMessageReceived received = await to.Events.WaitForAsync<DirectMessageReceived>(m => m.Id == id);
        Assert.Equal(from.Name, received.From);
        Assert.Equal(body, received.Body.ToArray());
        Assert.True(Math.Abs((DateTime.UtcNow - received.SentAt).TotalMinutes) < 5);

        MessageDelivered delivered = await from.Events.WaitForAsync<MessageDelivered>(d => d.Id == id);
        Assert.Equal(to.Name, delivered.Recipient);
        Assert.Single(to.Events.All<DirectMessageReceived>(), m => m.Id == id);
    }

    private static async Task<ChatException> AssertErrorAsync(ErrorCode expected, Task operation)
    {
        ChatException error = await Assert.ThrowsAsync<ChatException>(() => operation.WaitAsync(Timeout));
        Assert.Equal(expected, error.ErrorCode);
        return error;
    }

    private static byte[] SessionTokensIssue(Hosts.Security.ClusterKey key, string user, string serverId, DateTime expiresAt) =>
        Hosts.Security.SessionTokens.Issue(key, user, serverId, expiresAt);

    /// <summary>Hello then Resume on a bare connection: the error code, or null when the server resumed the session.</summary>
    private static async Task<ErrorCode?> ResumeAsync(System.Net.IPEndPoint server, byte[] token)
    {
        await using RawConnection connection = await RawConnection.ConnectAsync(server);
        connection.Send(1, new Hello { ProtocolVersion = 1, Role = PeerRole.Client, Features = [], Agent = "token-test" });
        connection.Send(2, new Resume { SessionToken = new(token) });
        (MessageHeader header, byte[] payload) = await connection.WaitForAsync(Opcode.Error, Opcode.Resumed);
        if (header.Opcode == Opcode.Resumed)
        {
            return null;
        }

        Error error = MessageSerializer.Deserialize<Error>(new System.Buffers.ReadOnlySequence<byte>(payload), out uint requestId);
        Assert.Equal(2u, requestId);
        return error.Code;
    }

    private static (byte[][] Chunks, byte[] Envelope) RandomFile(int size)
    {
        var chunks = new List<byte[]>();
        for (int offset = 0; offset < size; offset += 65536)
        {
            chunks.Add(RandomNumberGenerator.GetBytes(Math.Min(65536, size - offset)));
        }

        return (chunks.ToArray(), RandomNumberGenerator.GetBytes(100));
    }

    private static ReadOnlyMemory<byte>[] AsMemory(byte[][] chunks) => chunks.Select(c => (ReadOnlyMemory<byte>)c).ToArray();

    private static void AssertSameFile(string from, byte[][] chunks, byte[] envelope, FileReceived file)
    {
        Assert.Equal(from, file.From);
        Assert.Equal(envelope, file.Envelope.ToArray());
        Assert.Equal(chunks.Sum(c => (long)c.Length), file.TotalSize);
        Assert.Equal(chunks.Length, file.Chunks.Count);
        for (int i = 0; i < chunks.Length; i++)
        {
            Assert.True(chunks[i].AsSpan().SequenceEqual(file.Chunks[i].Span), $"chunk {i} differs");
        }
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> body) => Encoding.UTF8.GetString(body.Span);
}
