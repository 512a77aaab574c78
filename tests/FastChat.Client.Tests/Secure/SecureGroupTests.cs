using System.Security.Cryptography;
using System.Text;
using FastChat.Client.Crypto;
using FastChat.Client.History;
using FastChat.Client.Secure;
using FastChat.Client.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Secure;

/// <summary>Groups end to end through a real in-process cluster: keys issued by the admin, rotated on removal and departure, held messages.</summary>
public sealed class SecureGroupTests : IClassFixture<ClusterFixture>, IDisposable
{
    private static readonly TimeSpan Timeout = EventLog.DefaultTimeout;

    private readonly TestCluster _cluster;
    private readonly TempFolder _folder = new();

    public SecureGroupTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Group_CreateAddSend_EveryMemberDecryptsTextAndFiles()
    {
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");
        await using SecureUser carol = await SignUpAsync("carol");
        string group = TestCluster.NewName("team");

        await alice.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, bob.Name).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, carol.Name).WaitAsync(Timeout);
        MessageId first = await alice.Client.SendGroupTextAsync(group, "welcome").WaitAsync(Timeout);

        TextReceived atBob = await bob.Events.WaitForAsync<TextReceived>(e => e.Id == first);
        TextReceived atCarol = await carol.Events.WaitForAsync<TextReceived>(e => e.Id == first);
        Assert.Equal((alice.Name, group, "welcome"), (atBob.From, atBob.Group, atBob.Text));
        Assert.Equal((alice.Name, group, "welcome"), (atCarol.From, atCarol.Group, atCarol.Text));

        MessageId reply = await bob.Client.SendGroupTextAsync(group, "thanks").WaitAsync(Timeout);
        Assert.Equal("thanks", (await alice.Events.WaitForAsync<TextReceived>(e => e.Id == reply)).Text);
        Assert.Equal(bob.Name, (await carol.Events.WaitForAsync<TextReceived>(e => e.Id == reply)).From);

        byte[] content = RandomNumberGenerator.GetBytes(200_000);
        string path = Path.Combine(carol.Folder, "notes.txt");
        await File.WriteAllBytesAsync(path, content);
        MessageId file = await carol.Client.SendGroupFileAsync(group, path).WaitAsync(Timeout);
        FileSaved saved = await alice.Events.WaitForAsync<FileSaved>(e => e.Id == file);
        Assert.Equal(group, saved.Group);
        Assert.Equal(content, await File.ReadAllBytesAsync(saved.Path));
        Assert.Equal(content, await File.ReadAllBytesAsync((await bob.Events.WaitForAsync<FileSaved>(e => e.Id == file)).Path));

        IReadOnlyList<HistoryEntry> history = await alice.Client.History.GetGroupAsync(group, 10).WaitAsync(Timeout);
        Assert.Equal([first, reply, file], history.Select(e => e.Id));
        Assert.Equal([HistoryDirection.Sent, HistoryDirection.Received, HistoryDirection.Received], history.Select(e => e.Direction));
        Assert.Equal(DeliveryState.Sent, history[0].State);
        Assert.Equal(HistoryKind.File, history[2].Kind);
    }

    /// <summary>Guards forward secrecy of group membership: after a removal the admin issues a new key the removed member never gets.</summary>
    [Fact]
    public async Task RemovedMember_GetsNothingLaterAndCannotOpenTheNewEpoch()
    {
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");
        await using SecureUser carol = await SignUpAsync("carol");
        var captured = new List<GroupMessageReceived>();
        await carol.GoOfflineAsync();
        await carol.SignInAgainAsync(client => client.InnerEventObserved = e =>
        {
            if (e is GroupMessageReceived message)
            {
                lock (captured)
                {
                    captured.Add(message);
                }
            }
        });
        string group = TestCluster.NewName("team");
        await alice.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, bob.Name).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, carol.Name).WaitAsync(Timeout);
        MessageId before = await alice.Client.SendGroupTextAsync(group, "before").WaitAsync(Timeout);
        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == before);
        await carol.Events.WaitForAsync<TextReceived>(e => e.Id == before);
        GroupKeyRing bobRing = bob.Client.GetGroupKeyRing(group)!;
        int oldEpoch = bobRing.Latest!.Epoch;

        await alice.Client.RemoveMemberAsync(group, bob.Name).WaitAsync(Timeout);
        int newEpoch = alice.Client.GetGroupKeyRing(group)!.Latest!.Epoch;
        Assert.Equal(oldEpoch + 1, newEpoch);
        await carol.WaitForGroupKeyAsync(group, newEpoch);
        MessageId after = await alice.Client.SendGroupTextAsync(group, "after").WaitAsync(Timeout);

        Assert.Equal("after", (await carol.Events.WaitForAsync<TextReceived>(e => e.Id == after)).Text);
        await bob.Events.WaitForAsync<GroupNotice>(e => e.Kind == GroupChangeKind.MemberRemoved && e.Member == bob.Name && e.Epoch == newEpoch);

        // Bob gets nothing more: a direct message sent after the group message reaches him, the group message never.
        MessageId direct = await alice.Client.SendTextAsync(bob.Name, "sync").WaitAsync(Timeout);
        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == direct);
        Assert.DoesNotContain(bob.Events.All<TextReceived>(), e => e.Id == after);
        Assert.False(bob.Client.GetGroupKeyRing(group)?.TryGetKey(newEpoch, out _) ?? false, "bob holds the new epoch's key");

        // And what he kept cannot open the new epoch's ciphertext.
        GroupMessageReceived ciphertext;
        lock (captured)
        {
            ciphertext = captured.Single(m => m.Id == after);
        }

        Assert.Equal(newEpoch, ciphertext.KeyEpoch);
        Assert.False(bobRing.TryGetKey(newEpoch, out _));
        PublicIdentity aliceIdentity = await bob.Client.GetIdentityAsync(alice.Name).WaitAsync(Timeout);
        EnvelopeException refused = Assert.Throws<EnvelopeException>(
            () => GroupEnvelope.Open(bobRing, aliceIdentity, ciphertext.KeyEpoch, ciphertext.Id, ciphertext.SentAt, ciphertext.Body.Span));
        Assert.Equal(EnvelopeFailure.UnknownEpoch, refused.Failure);

        // Bob is not in the group any more: sending to it is refused.
        ChatException notMember = await Assert.ThrowsAsync<ChatException>(() => bob.Client.SendGroupTextAsync(group, "let me in").WaitAsync(Timeout));
        Assert.Equal(ErrorCode.NotMember, notMember.ErrorCode);
    }

    /// <summary>Guards that a member added later holds only the keys issued since: earlier epochs stay closed to it.</summary>
    [Fact]
    public async Task LateJoiner_CannotOpenAMessageOfAnEarlierEpoch()
    {
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");
        await using SecureUser dave = await SignUpAsync("dave");
        GroupMessageReceived? early = null;
        await bob.GoOfflineAsync();
        await bob.SignInAgainAsync(client => client.InnerEventObserved = e => early ??= e as GroupMessageReceived);
        string group = TestCluster.NewName("team");
        await alice.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, bob.Name).WaitAsync(Timeout);
        MessageId earlyId = await alice.Client.SendGroupTextAsync(group, "before dave").WaitAsync(Timeout);
        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == earlyId);

        // A departure moves the group to a new epoch; dave joins after it.
        await bob.Client.LeaveGroupAsync(group).WaitAsync(Timeout);
        await alice.Events.WaitForAsync<GroupNotice>(e => e.Kind == GroupChangeKind.MemberLeft && e.Member == bob.Name);
        await alice.Client.AddMemberAsync(group, dave.Name).WaitAsync(Timeout);
        int current = alice.Client.GetGroupKeyRing(group)!.Latest!.Epoch;
        await dave.WaitForGroupKeyAsync(group, current);
        MessageId now = await alice.Client.SendGroupTextAsync(group, "hello dave").WaitAsync(Timeout);
        Assert.Equal("hello dave", (await dave.Events.WaitForAsync<TextReceived>(e => e.Id == now)).Text);

        GroupKeyRing daveRing = dave.Client.GetGroupKeyRing(group)!;
        Assert.NotNull(early);
        Assert.Equal(earlyId, early.Id);
        Assert.True(early.KeyEpoch < current);
        Assert.Equal(1, daveRing.Count);
        PublicIdentity aliceIdentity = await dave.Client.GetIdentityAsync(alice.Name).WaitAsync(Timeout);
        EnvelopeException refused = Assert.Throws<EnvelopeException>(
            () => GroupEnvelope.Open(daveRing, aliceIdentity, early.KeyEpoch, early.Id, early.SentAt, early.Body.Span));
        Assert.Equal(EnvelopeFailure.UnknownEpoch, refused.Failure);
    }

    /// <summary>
    /// Guards the admin hand-over: when the admin leaves, the next admin's client issues the key for the new epoch
    /// (here at its next sign-in, since it was offline), and until then members refuse to send under the old key.
    /// </summary>
    [Fact]
    public async Task AdminLeaves_MembersWaitForTheNewAdminsKeyThenChat()
    {
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");
        await using SecureUser carol = await SignUpAsync("carol");
        string group = TestCluster.NewName("team");
        await alice.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, bob.Name).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, carol.Name).WaitAsync(Timeout);
        MessageId hello = await alice.Client.SendGroupTextAsync(group, "hello").WaitAsync(Timeout);
        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == hello);
        await carol.Events.WaitForAsync<TextReceived>(e => e.Id == hello);
        int oldEpoch = carol.Client.GetGroupKeyRing(group)!.Latest!.Epoch;

        // Bob, next in line, is away when alice leaves.
        await bob.GoOfflineAsync();
        await alice.Client.LeaveGroupAsync(group).WaitAsync(Timeout);
        GroupNotice left = await carol.Events.WaitForAsync<GroupNotice>(e => e.Kind == GroupChangeKind.MemberLeft && e.Member == alice.Name);
        Assert.Equal(oldEpoch + 1, left.Epoch);

        // Alice still has the old key: carol must not use it.
        ChatException waiting = await Assert.ThrowsAsync<ChatException>(() => carol.Client.SendGroupTextAsync(group, "too early").WaitAsync(Timeout));
        Assert.Contains("Waiting for the admin to rotate the group key", waiting.Message, StringComparison.Ordinal);

        // Bob's client sees, at sign-in, that it administers a group whose epoch it has no key for, and issues one.
        Task carolHasKey = carol.WaitForGroupKeyAsync(group, left.Epoch);
        await bob.SignInAgainAsync();
        await carolHasKey;
        Assert.Equal(bob.Name, (await bob.Client.GetMembersAsync(group).WaitAsync(Timeout)).Admin);

        MessageId fromCarol = await carol.Client.SendGroupTextAsync(group, "back in business").WaitAsync(Timeout);
        TextReceived atBob = await bob.Events.WaitForAsync<TextReceived>(e => e.Id == fromCarol);
        Assert.Equal("back in business", atBob.Text);
        MessageId fromBob = await bob.Client.SendGroupTextAsync(group, "indeed").WaitAsync(Timeout);
        await carol.Events.WaitForAsync<TextReceived>(e => e.Id == fromBob);
        Assert.Null(alice.Client.GetGroupKeyRing(group));
        Assert.DoesNotContain(alice.Events.All<TextReceived>(), e => e.Id == fromCarol || e.Id == fromBob);
    }

    /// <summary>
    /// Guards the hold: a group message that arrives before its epoch's key is warned about, left unacknowledged, and
    /// opened once the key arrives; a key from someone who is not the admin is refused.
    /// </summary>
    [Fact]
    public async Task GroupMessage_BeforeItsKey_HeldThenOpened_AndKeysOnlyFromTheAdmin()
    {
        await using RawUser mallory = await RawUser.SignUpAsync(_cluster, "mallory");
        await using SecureUser bob = await SignUpAsync("bob");
        string group = TestCluster.NewName("team");
        await mallory.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await mallory.Client.AddMemberAsync(group, bob.Name).WaitAsync(Timeout);
        int epoch = (await mallory.Client.GetMembersAsync(group).WaitAsync(Timeout)).KeyEpoch;
        PublicIdentity bobIdentity = PublicIdentity.FromPublicKeys(await mallory.Client.GetPublicKeysAsync(bob.Name).WaitAsync(Timeout));
        GroupKey key = GroupKey.Generate(epoch);

        MessageId early = MessageId.NewId();
        DateTime sentAt = DateTime.UtcNow;
        byte[] body = GroupEnvelope.Seal(mallory.Keys, mallory.Name, group, key, early, sentAt, [0x01, .. Encoding.UTF8.GetBytes("ahead of the key")]);
        Task<MessageId> sending = mallory.Client.SendGroupAsync(group, epoch, early, sentAt, body);
        SecurityWarning waiting = await bob.Events.WaitForAsync<SecurityWarning>(e => e.Id == early);
        Assert.Contains($"No key for epoch {epoch}", waiting.Reason, StringComparison.Ordinal);
        Assert.Empty(bob.Events.All<TextReceived>());

        await mallory.Client.SendGroupKeyEnvelopeAsync(group, bob.Name, epoch, GroupKeyWrap.Seal(mallory.Keys, mallory.Name, bobIdentity, group, key)).WaitAsync(Timeout);

        TextReceived opened = await bob.Events.WaitForAsync<TextReceived>(e => e.Id == early);
        Assert.Equal("ahead of the key", opened.Text);
        await sending.WaitAsync(Timeout);

        // A key for the same epoch from a member who is not the admin (the server would not store it; bob checks anyway).
        await using SecureUser eve = await SignUpAsync("eve");
        await mallory.Client.AddMemberAsync(group, eve.Name).WaitAsync(Timeout);
        var forged = new GroupKeyReceived(group, epoch, eve.Name, GroupKeyWrap.Seal(eve.Client.IdentityKeys!, eve.Name, bobIdentity, group, GroupKey.Generate(epoch)));
        Assert.True(bob.Client.GetGroupKeyRing(group)!.GetKey(epoch).IsSameKey(key));
        await InjectAsync(bob, forged);
        SecurityWarning notAdmin = await bob.Events.WaitForAsync<SecurityWarning>(e => e.Id is null && e.From == eve.Name);
        Assert.Contains("not the group's admin", notAdmin.Reason, StringComparison.Ordinal);
        Assert.True(bob.Client.GetGroupKeyRing(group)!.GetKey(epoch).IsSameKey(key));
    }

    // Hands an event to the client as if the server had sent it (the servers refuse non-admin key envelopes, so a
    // forged one can only be tested this way).
    private static Task InjectAsync(SecureUser user, ChatEvent item) =>
        user.Client.InnerClient!.PublishAsync(item, CancellationToken.None).AsTask().WaitAsync(Timeout);

    private Task<SecureUser> SignUpAsync(string prefix) => SecureUser.SignUpAsync(_cluster, _folder.Path, prefix);
}
