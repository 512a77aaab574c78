using System.Security.Cryptography;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IChatStore"/> must have. Each concrete subclass runs every test here against its
/// provider, each test on an empty database.
/// </summary>
public abstract class ChatStoreContractTests : IAsyncLifetime
{
    /// <summary>The bound on every await.</summary>
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A time with microsecond precision, which every provider keeps exactly.</summary>
    protected static readonly DateTime T0 = new(2025, 3, 4, 5, 6, 7, 891, 234, DateTimeKind.Utc);

    private readonly List<IChatStore> _stores = [];
    private IChatStore? _store;

    /// <summary>The store under test, initialized on this test's database.</summary>
    protected IChatStore Store => _store ?? throw new InvalidOperationException("The provider is not available.");

    /// <summary>This test's database (as <see cref="CreateDatabaseAsync"/> returned it).</summary>
    protected string Database { get; private set; } = string.Empty;

    /// <summary>Why the provider cannot be tested here, or <see langword="null"/> if it can.</summary>
    protected abstract string? SkipReason { get; }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        Database = await GetEmptyDatabaseAsync().WaitAsync(Timeout);
        _store = await OpenStoreAsync(Database);
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        IChatStore[] stores;
        lock (_stores)
        {
            stores = [.. _stores];
        }

        foreach (IChatStore store in stores)
        {
            await store.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        if (SkipReason is null)
        {
            await DeleteDatabasesAsync().WaitAsync(Timeout);
        }
    }

    // ---- Accounts -------------------------------------------------------------------------------------------

    [SkippableFact]
    public async Task CreateAccount_NewName_ReadsBackByteForByte()
    {
        RequireProvider();
        Account account = NewAccount("alice");

        Assert.True(await Store.CreateAccountAsync(account).WaitAsync(Timeout));

        Account? read = await Store.GetAccountAsync("alice").WaitAsync(Timeout);
        AssertSameAccount(account, read);
    }

    [SkippableFact]
    public async Task CreateAccount_ExistingName_ReturnsFalseAndKeepsTheFirst()
    {
        RequireProvider();
        Account first = NewAccount("alice");
        Account second = NewAccount("alice") with { KdfIterations = 1 };
        Assert.True(await Store.CreateAccountAsync(first).WaitAsync(Timeout));

        Assert.False(await Store.CreateAccountAsync(second).WaitAsync(Timeout));

        AssertSameAccount(first, await Store.GetAccountAsync("alice").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task GetAccount_UnknownOrOtherCase_ReturnsNull()
    {
        RequireProvider();
        Assert.True(await Store.CreateAccountAsync(NewAccount("alice")).WaitAsync(Timeout));

        Assert.Null(await Store.GetAccountAsync("bob").WaitAsync(Timeout));
        Assert.Null(await Store.GetAccountAsync("Alice").WaitAsync(Timeout));
    }

    // ---- Groups ---------------------------------------------------------------------------------------------

    [SkippableFact]
    public async Task CreateGroup_NewName_AdminIsOnlyMemberAtEpochZero()
    {
        RequireProvider();

        Assert.True(await Store.CreateGroupAsync("team", "alice", 5).WaitAsync(Timeout));

        GroupInfo? group = await Store.GetGroupAsync("team").WaitAsync(Timeout);
        Assert.NotNull(group);
        Assert.Equal("team", group.Name);
        Assert.Equal("alice", group.Admin);
        Assert.Equal(5, group.MemberLimit);
        Assert.Equal(0, group.KeyEpoch);
        Assert.Equal(["alice"], group.Members);
    }

    [SkippableFact]
    public async Task CreateGroup_ExistingName_ReturnsFalseAndKeepsTheFirst()
    {
        RequireProvider();
        Assert.True(await Store.CreateGroupAsync("team", "alice", 5).WaitAsync(Timeout));

        Assert.False(await Store.CreateGroupAsync("team", "bob", 9).WaitAsync(Timeout));

        GroupInfo? group = await Store.GetGroupAsync("team").WaitAsync(Timeout);
        Assert.NotNull(group);
        Assert.Equal("alice", group.Admin);
        Assert.Equal(5, group.MemberLimit);
        Assert.Equal(["alice"], group.Members);
        Assert.Empty(await Store.GetGroupsOfMemberAsync("bob").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task GetGroup_Unknown_ReturnsNull()
    {
        RequireProvider();

        Assert.Null(await Store.GetGroupAsync("nobody").WaitAsync(Timeout));
    }

    /// <summary>Guards late-joiner secrecy: every add advances the key epoch, so the admin rotates the key and a new member never holds the key of earlier messages.</summary>
    [SkippableFact]
    public async Task AddMember_NewMembers_AppendInJoinOrderAndAdvanceTheEpoch()
    {
        RequireProvider();
        await Store.CreateGroupAsync("team", "carol", 10).WaitAsync(Timeout);

        GroupChange first = await Store.AddMemberAsync("team", "zed").WaitAsync(Timeout);
        GroupChange second = await Store.AddMemberAsync("team", "alice").WaitAsync(Timeout);

        Assert.Equal(new GroupChange(GroupChangeStatus.Ok, 1, "carol"), first);
        Assert.Equal(new GroupChange(GroupChangeStatus.Ok, 2, "carol"), second);
        GroupInfo? group = await Store.GetGroupAsync("team").WaitAsync(Timeout);
        Assert.NotNull(group);
        Assert.Equal(["carol", "zed", "alice"], group.Members);
        Assert.Equal(2, group.KeyEpoch);
    }

    [SkippableFact]
    public async Task AddMember_ExistingMember_ReturnsAlreadyMember()
    {
        RequireProvider();
        await Store.CreateGroupAsync("team", "alice", 10).WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "bob").WaitAsync(Timeout);

        GroupChange again = await Store.AddMemberAsync("team", "bob").WaitAsync(Timeout);
        GroupChange admin = await Store.AddMemberAsync("team", "alice").WaitAsync(Timeout);

        Assert.Equal(GroupChangeStatus.AlreadyMember, again.Status);
        Assert.Equal(GroupChangeStatus.AlreadyMember, admin.Status);
        Assert.Equal("alice", again.Admin);
        GroupInfo? group = await Store.GetGroupAsync("team").WaitAsync(Timeout);
        Assert.Equal(["alice", "bob"], group!.Members);
    }

    [SkippableFact]
    public async Task AddMember_UnknownGroup_ReturnsGroupNotFound()
    {
        RequireProvider();

        GroupChange change = await Store.AddMemberAsync("nothing", "bob").WaitAsync(Timeout);

        Assert.Equal(new GroupChange(GroupChangeStatus.GroupNotFound, 0, string.Empty), change);
        Assert.Empty(await Store.GetGroupsOfMemberAsync("bob").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task AddMember_UpToTheLimit_FillsExactlyThenReportsGroupFull()
    {
        RequireProvider();
        await Store.CreateGroupAsync("trio", "alice", 3).WaitAsync(Timeout);

        GroupChange second = await Store.AddMemberAsync("trio", "bob").WaitAsync(Timeout);
        GroupChange third = await Store.AddMemberAsync("trio", "carol").WaitAsync(Timeout);
        GroupChange fourth = await Store.AddMemberAsync("trio", "dave").WaitAsync(Timeout);
        GroupChange existingWhenFull = await Store.AddMemberAsync("trio", "bob").WaitAsync(Timeout);

        Assert.Equal(GroupChangeStatus.Ok, second.Status);
        Assert.Equal(GroupChangeStatus.Ok, third.Status);
        Assert.Equal(GroupChangeStatus.GroupFull, fourth.Status);
        Assert.Equal(GroupChangeStatus.AlreadyMember, existingWhenFull.Status);
        GroupInfo? group = await Store.GetGroupAsync("trio").WaitAsync(Timeout);
        Assert.Equal(["alice", "bob", "carol"], group!.Members);
    }

    [SkippableFact]
    public async Task AddMember_LimitOfOne_AdminFillsTheGroup()
    {
        RequireProvider();
        await Store.CreateGroupAsync("solo", "alice", 1).WaitAsync(Timeout);

        GroupChange change = await Store.AddMemberAsync("solo", "bob").WaitAsync(Timeout);

        Assert.Equal(GroupChangeStatus.GroupFull, change.Status);
    }

    /// <summary>Guards the atomic limit check: 20 concurrent adds to a group of limit 10 (the admin is member 1) must let exactly 9 in.</summary>
    [SkippableFact]
    public async Task AddMember_TwentyConcurrentAtLimitTen_ExactlyNineSucceed()
    {
        RequireProvider();
        await Store.CreateGroupAsync("crowd", "admin", 10).WaitAsync(Timeout);

        GroupChange[] changes = await Task.WhenAll(
            Enumerable.Range(0, 20).Select(i => Store.AddMemberAsync("crowd", $"user{i:D2}"))).WaitAsync(Timeout);

        Assert.Equal(9, changes.Count(c => c.Status == GroupChangeStatus.Ok));
        Assert.Equal(11, changes.Count(c => c.Status == GroupChangeStatus.GroupFull));
        GroupInfo? group = await Store.GetGroupAsync("crowd").WaitAsync(Timeout);
        Assert.Equal(10, group!.Members.Count);
        Assert.Equal("admin", group.Members[0]);
    }

    [SkippableFact]
    public async Task RemoveMember_Member_AdvancesTheEpochAndKeepsTheAdmin()
    {
        RequireProvider();
        await Store.CreateGroupAsync("team", "alice", 10).WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "bob").WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "carol").WaitAsync(Timeout);

        GroupChange first = await Store.RemoveMemberAsync("team", "bob").WaitAsync(Timeout);
        GroupChange second = await Store.RemoveMemberAsync("team", "carol").WaitAsync(Timeout);

        Assert.Equal(new GroupChange(GroupChangeStatus.Ok, 3, "alice"), first);
        Assert.Equal(new GroupChange(GroupChangeStatus.Ok, 4, "alice"), second);
        GroupInfo? group = await Store.GetGroupAsync("team").WaitAsync(Timeout);
        Assert.Equal(4, group!.KeyEpoch);
        Assert.Equal(["alice"], group.Members);
        Assert.Empty(await Store.GetGroupsOfMemberAsync("bob").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task RemoveMember_NotAMember_ReturnsNotMemberAndKeepsTheEpoch()
    {
        RequireProvider();
        await Store.CreateGroupAsync("team", "alice", 10).WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "bob").WaitAsync(Timeout);
        await Store.RemoveMemberAsync("team", "bob").WaitAsync(Timeout);

        GroupChange change = await Store.RemoveMemberAsync("team", "bob").WaitAsync(Timeout);

        Assert.Equal(new GroupChange(GroupChangeStatus.NotMember, 2, "alice"), change);
        Assert.Equal(2, (await Store.GetGroupAsync("team").WaitAsync(Timeout))!.KeyEpoch);
    }

    [SkippableFact]
    public async Task RemoveMember_UnknownGroup_ReturnsGroupNotFound()
    {
        RequireProvider();

        GroupChange change = await Store.RemoveMemberAsync("nothing", "bob").WaitAsync(Timeout);

        Assert.Equal(new GroupChange(GroupChangeStatus.GroupNotFound, 0, string.Empty), change);
    }

    [SkippableFact]
    public async Task RemoveMember_Admin_HandsOverToTheLongestStandingMember()
    {
        RequireProvider();
        await Store.CreateGroupAsync("team", "alice", 10).WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "zoe").WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "bob").WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "carl").WaitAsync(Timeout);
        await Store.RemoveMemberAsync("team", "zoe").WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "zoe").WaitAsync(Timeout);

        // Members now in join order: alice, bob, carl, zoe (zoe rejoined last).
        GroupChange first = await Store.RemoveMemberAsync("team", "alice").WaitAsync(Timeout);
        GroupChange second = await Store.RemoveMemberAsync("team", "bob").WaitAsync(Timeout);

        Assert.Equal(new GroupChange(GroupChangeStatus.Ok, 6, "bob"), first);
        Assert.Equal(new GroupChange(GroupChangeStatus.Ok, 7, "carl"), second);
        GroupInfo? group = await Store.GetGroupAsync("team").WaitAsync(Timeout);
        Assert.Equal("carl", group!.Admin);
        Assert.Equal(["carl", "zoe"], group.Members);
    }

    [SkippableFact]
    public async Task RemoveMember_LastMember_DeletesTheGroupAndItsEnvelopes()
    {
        RequireProvider();
        await Store.CreateGroupAsync("team", "alice", 10).WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "bob").WaitAsync(Timeout);
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("team", "alice", 0, "alice", [1, 2, 3])).WaitAsync(Timeout);
        await Store.RemoveMemberAsync("team", "alice").WaitAsync(Timeout);

        GroupChange last = await Store.RemoveMemberAsync("team", "bob").WaitAsync(Timeout);

        Assert.Equal(GroupChangeStatus.Ok, last.Status);
        Assert.True(last.GroupDeleted);
        Assert.Equal(string.Empty, last.Admin);
        Assert.Null(await Store.GetGroupAsync("team").WaitAsync(Timeout));
        Assert.Empty(await Store.GetGroupsOfMemberAsync("bob").WaitAsync(Timeout));
        Assert.Empty(await Store.GetGroupKeyEnvelopesAsync("alice").WaitAsync(Timeout));

        // The name is free again, starting over at epoch 0.
        Assert.True(await Store.CreateGroupAsync("team", "carol", 4).WaitAsync(Timeout));
        Assert.Equal(0, (await Store.GetGroupAsync("team").WaitAsync(Timeout))!.KeyEpoch);
    }

    [SkippableFact]
    public async Task GetGroupsOfMember_SeveralGroups_ReturnsThemOrdinally()
    {
        RequireProvider();
        await Store.CreateGroupAsync("zeta", "alice", 10).WaitAsync(Timeout);
        await Store.CreateGroupAsync("alpha", "bob", 10).WaitAsync(Timeout);
        await Store.CreateGroupAsync("Beta", "bob", 10).WaitAsync(Timeout);
        await Store.CreateGroupAsync("mid", "carol", 10).WaitAsync(Timeout);
        await Store.AddMemberAsync("alpha", "alice").WaitAsync(Timeout);
        await Store.AddMemberAsync("Beta", "alice").WaitAsync(Timeout);

        IReadOnlyList<string> groups = await Store.GetGroupsOfMemberAsync("alice").WaitAsync(Timeout);

        Assert.Equal(["Beta", "alpha", "zeta"], groups);
    }

    [SkippableFact]
    public async Task PutGroupKeyEnvelope_SameMemberAndEpoch_ReplacesIt()
    {
        RequireProvider();
        await Store.CreateGroupAsync("team", "alice", 10).WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "bob").WaitAsync(Timeout);
        byte[] replacement = RandomBytes(200);

        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("team", "bob", 0, "alice", RandomBytes(100))).WaitAsync(Timeout);
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("team", "bob", 0, "carol", replacement)).WaitAsync(Timeout);

        GroupKeyEnvelopeRecord envelope = Assert.Single(await Store.GetGroupKeyEnvelopesAsync("bob").WaitAsync(Timeout));
        Assert.Equal(("team", "bob", 0, "carol"), (envelope.Group, envelope.Member, envelope.Epoch, envelope.Sender));
        Assert.Equal(replacement, envelope.Envelope);
    }

    [SkippableFact]
    public async Task GetGroupKeyEnvelopes_SeveralGroupsAndEpochs_OrdersByGroupThenEpochForThatMemberOnly()
    {
        RequireProvider();
        await Store.CreateGroupAsync("zeta", "alice", 10).WaitAsync(Timeout);
        await Store.CreateGroupAsync("alpha", "alice", 10).WaitAsync(Timeout);
        byte[][] blobs = [RandomBytes(10), RandomBytes(11), RandomBytes(12), RandomBytes(13)];
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("zeta", "bob", 1, "alice", blobs[0])).WaitAsync(Timeout);
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("alpha", "bob", 2, "alice", blobs[1])).WaitAsync(Timeout);
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("zeta", "bob", 0, "alice", blobs[2])).WaitAsync(Timeout);
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("zeta", "carol", 0, "alice", blobs[3])).WaitAsync(Timeout);

        IReadOnlyList<GroupKeyEnvelopeRecord> envelopes = await Store.GetGroupKeyEnvelopesAsync("bob").WaitAsync(Timeout);

        Assert.Equal([("alpha", 2), ("zeta", 0), ("zeta", 1)], envelopes.Select(e => (e.Group, e.Epoch)));
        Assert.Equal(blobs[1], envelopes[0].Envelope);
        Assert.Equal(blobs[2], envelopes[1].Envelope);
        Assert.Equal(blobs[0], envelopes[2].Envelope);
        Assert.All(envelopes, e => Assert.Equal("bob", e.Member));
        Assert.Empty(await Store.GetGroupKeyEnvelopesAsync("dave").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task RemoveMember_WithEnvelopes_DeletesOnlyThatMembersEnvelopesForThatGroup()
    {
        RequireProvider();
        await Store.CreateGroupAsync("team", "alice", 10).WaitAsync(Timeout);
        await Store.CreateGroupAsync("other", "alice", 10).WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "bob").WaitAsync(Timeout);
        await Store.AddMemberAsync("team", "carol").WaitAsync(Timeout);
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("team", "bob", 0, "alice", [1])).WaitAsync(Timeout);
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("other", "bob", 0, "alice", [2])).WaitAsync(Timeout);
        await Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("team", "carol", 0, "alice", [3])).WaitAsync(Timeout);

        await Store.RemoveMemberAsync("team", "bob").WaitAsync(Timeout);

        GroupKeyEnvelopeRecord remaining = Assert.Single(await Store.GetGroupKeyEnvelopesAsync("bob").WaitAsync(Timeout));
        Assert.Equal("other", remaining.Group);
        Assert.Single(await Store.GetGroupKeyEnvelopesAsync("carol").WaitAsync(Timeout));
    }

    /// <summary>Guards that a failing write fails alone: the other writes committed with it (SQLite commits queued writes together) still succeed.</summary>
    [SkippableFact]
    public async Task PutGroupKeyEnvelope_UnknownGroup_ThrowsChatStoreExceptionAndOtherWritesCommit()
    {
        RequireProvider();
        MessageId[] ids = NewIds(10);

        Task[] enqueues = [.. ids.Select(id => Store.EnqueueAsync(Item("bob", id)))];
        Task put = Store.PutGroupKeyEnvelopeAsync(new GroupKeyEnvelopeRecord("ghost", "bob", 0, "alice", [1]));
        Task[] more = [.. NewIds(10).Select(id => Store.EnqueueAsync(Item("carol", id)))];

        ChatStoreException error = await Assert.ThrowsAsync<ChatStoreException>(() => put.WaitAsync(Timeout));
        Assert.Contains("ghost", error.Message, StringComparison.Ordinal);
        await Task.WhenAll(enqueues.Concat(more)).WaitAsync(Timeout);
        Assert.Equal(10, await Store.CountPendingAsync("bob").WaitAsync(Timeout));
        Assert.Equal(10, await Store.CountPendingAsync("carol").WaitAsync(Timeout));
        Assert.Empty(await Store.GetGroupKeyEnvelopesAsync("bob").WaitAsync(Timeout));
    }

    // ---- Pending items --------------------------------------------------------------------------------------

    [SkippableFact]
    public async Task Enqueue_NewItem_ReadsBackByteForByte()
    {
        RequireProvider();
        MessageId id = MessageId.NewId();
        byte[] payload = RandomBytes(300);

        Assert.True(await Store.EnqueueAsync(new PendingItem(12345, "bob", id, PendingKind.Message, 0, payload, T0)).WaitAsync(Timeout));

        PendingItem item = Assert.Single(await Store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout));
        Assert.True(item.Sequence > 0);
        Assert.Equal("bob", item.Recipient);
        Assert.Equal(id, item.Id);
        Assert.Equal(PendingKind.Message, item.Kind);
        Assert.Equal(0, item.Part);
        Assert.Equal(payload, item.Payload);
        Assert.Equal(T0, item.EnqueuedAt);
        Assert.Equal(DateTimeKind.Utc, item.EnqueuedAt.Kind);
    }

    [SkippableFact]
    public async Task Enqueue_WithoutTime_IsStampedWhenStored()
    {
        RequireProvider();
        DateTime before = DateTime.UtcNow.AddSeconds(-1);

        await Store.EnqueueAsync(new PendingItem(0, "bob", MessageId.NewId(), PendingKind.Message, 0, [1], default)).WaitAsync(Timeout);

        PendingItem item = Assert.Single(await Store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout));
        Assert.InRange(item.EnqueuedAt, before, DateTime.UtcNow.AddSeconds(1));
    }

    [SkippableFact]
    public async Task Enqueue_Duplicate_ReturnsFalseAndKeepsTheFirst()
    {
        RequireProvider();
        MessageId id = MessageId.NewId();
        byte[] first = RandomBytes(20);
        Assert.True(await Store.EnqueueAsync(Item("bob", id, payload: first)).WaitAsync(Timeout));

        bool duplicate = await Store.EnqueueAsync(Item("bob", id, payload: RandomBytes(20))).WaitAsync(Timeout);

        Assert.False(duplicate);
        PendingItem item = Assert.Single(await Store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout));
        Assert.Equal(first, item.Payload);
    }

    [SkippableFact]
    public async Task Enqueue_SameIdOtherRecipientKindOrPart_IsNotADuplicate()
    {
        RequireProvider();
        MessageId id = MessageId.NewId();

        Assert.True(await Store.EnqueueAsync(Item("bob", id, PendingKind.FileOffer)).WaitAsync(Timeout));
        Assert.True(await Store.EnqueueAsync(Item("bob", id, PendingKind.FileChunk, 0)).WaitAsync(Timeout));
        Assert.True(await Store.EnqueueAsync(Item("bob", id, PendingKind.FileChunk, 1)).WaitAsync(Timeout));
        Assert.True(await Store.EnqueueAsync(Item("bob", id, PendingKind.FileComplete)).WaitAsync(Timeout));
        Assert.True(await Store.EnqueueAsync(Item("carol", id, PendingKind.FileOffer)).WaitAsync(Timeout));
        Assert.False(await Store.EnqueueAsync(Item("bob", id, PendingKind.FileChunk, 1)).WaitAsync(Timeout));

        Assert.Equal(4, (await Store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout)).Count);
    }

    [SkippableFact]
    public async Task EnqueueBatch_WithDuplicates_StoresAndCountsOnlyNewItems()
    {
        RequireProvider();
        MessageId existing = MessageId.NewId();
        MessageId repeated = MessageId.NewId();
        MessageId fresh = MessageId.NewId();
        await Store.EnqueueAsync(Item("bob", existing)).WaitAsync(Timeout);
        byte[] firstCopy = RandomBytes(8);

        int stored = await Store.EnqueueBatchAsync(
        [
            Item("bob", existing),
            Item("bob", repeated, payload: firstCopy),
            Item("carol", repeated),
            Item("bob", repeated, payload: RandomBytes(8)),
            Item("bob", fresh),
        ]).WaitAsync(Timeout);

        Assert.Equal(3, stored);
        IReadOnlyList<PendingItem> bob = await Store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout);
        Assert.Equal([existing, repeated, fresh], bob.Select(i => i.Id));
        Assert.Equal(firstCopy, bob[1].Payload);
        Assert.Single(await Store.GetPendingAsync("carol", 0, 10).WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task EnqueueBatch_Empty_ReturnsZero()
    {
        RequireProvider();

        Assert.Equal(0, await Store.EnqueueBatchAsync([]).WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task Enqueue_ManyItemsSinglyAndInBatches_KeepsArrivalOrder()
    {
        RequireProvider();
        var expected = new List<MessageId>();
        for (int round = 0; round < 5; round++)
        {
            MessageId single = MessageId.NewId();
            await Store.EnqueueAsync(Item("bob", single)).WaitAsync(Timeout);
            expected.Add(single);

            MessageId[] batch = NewIds(300);
            await Store.EnqueueBatchAsync([.. batch.Select(id => Item("bob", id))]).WaitAsync(Timeout);
            expected.AddRange(batch);
        }

        IReadOnlyList<PendingItem> items = await Store.GetPendingAsync("bob", 0, int.MaxValue).WaitAsync(Timeout);

        Assert.Equal(expected, items.Select(i => i.Id));
        for (int i = 1; i < items.Count; i++)
        {
            Assert.True(items[i].Sequence > items[i - 1].Sequence);
        }
    }

    [SkippableFact]
    public async Task GetPending_AfterSequence_PagesThroughEveryItemInOrder()
    {
        RequireProvider();
        MessageId[] ids = NewIds(50);
        await Store.EnqueueBatchAsync([.. ids.Select(id => Item("bob", id))]).WaitAsync(Timeout);

        var seen = new List<MessageId>();
        long after = 0;
        int pages = 0;
        while (true)
        {
            IReadOnlyList<PendingItem> page = await Store.GetPendingAsync("bob", after, 7).WaitAsync(Timeout);
            if (page.Count == 0)
            {
                break;
            }

            Assert.True(page.Count <= 7);
            seen.AddRange(page.Select(i => i.Id));
            after = page[^1].Sequence;
            pages++;
        }

        Assert.Equal(ids, seen);
        Assert.Equal(8, pages);
    }

    [SkippableFact]
    public async Task GetPending_Limit_ReturnsTheOldestItemsUpToTheLimit()
    {
        RequireProvider();
        MessageId[] ids = NewIds(5);
        await Store.EnqueueBatchAsync([.. ids.Select(id => Item("bob", id))]).WaitAsync(Timeout);

        IReadOnlyList<PendingItem> items = await Store.GetPendingAsync("bob", 0, 2).WaitAsync(Timeout);

        Assert.Equal(ids[..2], items.Select(i => i.Id));
    }

    /// <summary>Guards that sequence numbers are never reused: after the newest item is deleted, a new item still sorts after everything a reader has passed.</summary>
    [SkippableFact]
    public async Task Enqueue_AfterTheNewestItemWasDeleted_TakesAHigherSequence()
    {
        RequireProvider();
        MessageId first = MessageId.NewId();
        MessageId second = MessageId.NewId();
        await Store.EnqueueAsync(Item("bob", first)).WaitAsync(Timeout);
        await Store.EnqueueAsync(Item("bob", second)).WaitAsync(Timeout);
        long passed = (await Store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout))[^1].Sequence;
        await Store.DeletePendingAsync("bob", second).WaitAsync(Timeout);

        await Store.EnqueueAsync(Item("bob", MessageId.NewId())).WaitAsync(Timeout);

        Assert.Single(await Store.GetPendingAsync("bob", passed, 10).WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task CountPending_MixedKinds_CountsOnlyMessagesAndFileOffers()
    {
        RequireProvider();
        MessageId file = MessageId.NewId();
        await Store.EnqueueBatchAsync(
        [
            Item("bob", MessageId.NewId()),
            Item("bob", MessageId.NewId()),
            Item("bob", file, PendingKind.FileOffer),
            Item("bob", file, PendingKind.FileChunk, 0),
            Item("bob", file, PendingKind.FileChunk, 1),
            Item("bob", file, PendingKind.FileComplete),
            Item("carol", MessageId.NewId()),
        ]).WaitAsync(Timeout);

        Assert.Equal(3, await Store.CountPendingAsync("bob").WaitAsync(Timeout));
        Assert.Equal(1, await Store.CountPendingAsync("carol").WaitAsync(Timeout));
        Assert.Equal(0, await Store.CountPendingAsync("dave").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task DeletePending_FileId_DeletesOfferChunksAndCompletionForThatRecipientOnly()
    {
        RequireProvider();
        MessageId file = MessageId.NewId();
        MessageId message = MessageId.NewId();
        PendingItem[] transfer =
        [
            Item("bob", file, PendingKind.FileOffer),
            Item("bob", file, PendingKind.FileChunk, 0),
            Item("bob", file, PendingKind.FileChunk, 1),
            Item("bob", file, PendingKind.FileChunk, 2),
            Item("bob", file, PendingKind.FileComplete),
        ];
        await Store.EnqueueBatchAsync([.. transfer, Item("bob", message), Item("carol", file, PendingKind.FileOffer)]).WaitAsync(Timeout);

        int deleted = await Store.DeletePendingAsync("bob", file).WaitAsync(Timeout);

        Assert.Equal(5, deleted);
        PendingItem left = Assert.Single(await Store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout));
        Assert.Equal(message, left.Id);
        Assert.Single(await Store.GetPendingAsync("carol", 0, 10).WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task DeletePending_UnknownId_ReturnsZero()
    {
        RequireProvider();
        await Store.EnqueueAsync(Item("bob", MessageId.NewId())).WaitAsync(Timeout);

        Assert.Equal(0, await Store.DeletePendingAsync("bob", MessageId.NewId()).WaitAsync(Timeout));
        Assert.Equal(1, await Store.CountPendingAsync("bob").WaitAsync(Timeout));
    }

    /// <summary>Guards the batch delete's scope: the listed ids of that recipient go (a file id with all its parts), the rest of the queue keeps its order, and another recipient's items with the same ids stay.</summary>
    [SkippableFact]
    public async Task DeletePendingBatch_ListedIds_DeletesExactlyThoseOfThatRecipient()
    {
        RequireProvider();
        MessageId[] ids = NewIds(5);
        MessageId file = MessageId.NewId();
        await Store.EnqueueBatchAsync(
        [
            .. ids.Select(id => Item("bob", id)),
            Item("bob", file, PendingKind.FileOffer),
            Item("bob", file, PendingKind.FileChunk, 0),
            Item("bob", file, PendingKind.FileChunk, 1),
            Item("bob", file, PendingKind.FileComplete),
            Item("carol", ids[0]),
            Item("carol", ids[2]),
            Item("carol", file, PendingKind.FileOffer),
        ]).WaitAsync(Timeout);

        int deleted = await Store.DeletePendingAsync("bob", new[] { ids[0], ids[2], file }).WaitAsync(Timeout);

        Assert.Equal(6, deleted);
        Assert.Equal([ids[1], ids[3], ids[4]], (await Store.GetPendingAsync("bob", 0, 100).WaitAsync(Timeout)).Select(i => i.Id));
        Assert.Equal([ids[0], ids[2], file], (await Store.GetPendingAsync("carol", 0, 100).WaitAsync(Timeout)).Select(i => i.Id));
    }

    /// <summary>Guards that ids with nothing pending (unknown, or already deleted) and repeated ids neither fail the batch nor count twice.</summary>
    [SkippableFact]
    public async Task DeletePendingBatch_UnknownAndRepeatedIds_AreIgnored()
    {
        RequireProvider();
        MessageId[] ids = NewIds(3);
        await Store.EnqueueBatchAsync([.. ids.Select(id => Item("bob", id))]).WaitAsync(Timeout);

        int deleted = await Store.DeletePendingAsync("bob", new[] { MessageId.NewId(), ids[1], ids[1], MessageId.NewId() }).WaitAsync(Timeout);
        int again = await Store.DeletePendingAsync("bob", new[] { ids[1] }).WaitAsync(Timeout);

        Assert.Equal(1, deleted);
        Assert.Equal(0, again);
        Assert.Equal([ids[0], ids[2]], (await Store.GetPendingAsync("bob", 0, 100).WaitAsync(Timeout)).Select(i => i.Id));
    }

    [SkippableFact]
    public async Task DeletePendingBatch_EmptyList_ReturnsZeroAndChangesNothing()
    {
        RequireProvider();
        await Store.EnqueueAsync(Item("bob", MessageId.NewId())).WaitAsync(Timeout);

        Assert.Equal(0, await Store.DeletePendingAsync("bob", Array.Empty<MessageId>()).WaitAsync(Timeout));
        Assert.Equal(1, await Store.CountPendingAsync("bob").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task DeletePendingBatch_BadArguments_Throw()
    {
        RequireProvider();

        await Assert.ThrowsAsync<ArgumentNullException>(() => Store.DeletePendingAsync("bob", (IReadOnlyList<MessageId>)null!).WaitAsync(Timeout));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.DeletePendingAsync(string.Empty, new[] { MessageId.NewId() }).WaitAsync(Timeout));
    }

    /// <summary>Guards a batch the size a server sends (a thousand acknowledged ids in one call): every one goes, and only those.</summary>
    [SkippableFact]
    public async Task DeletePendingBatch_ThousandIds_DeletesEveryOne()
    {
        RequireProvider();
        MessageId[] ids = NewIds(1200);
        await Store.EnqueueBatchAsync([.. ids.Select(id => Item("bob", id))]).WaitAsync(Timeout);

        int deleted = await Store.DeletePendingAsync("bob", ids[..1000]).WaitAsync(Timeout);

        Assert.Equal(1000, deleted);
        Assert.Equal(ids[1000..], (await Store.GetPendingAsync("bob", 0, 2000).WaitAsync(Timeout)).Select(i => i.Id));
    }

    /// <summary>
    /// Guards the queue's order under concurrent writes: batches deleted while another writer appends to the same
    /// recipient leave the remaining items, old and new, in the order they were enqueued.
    /// </summary>
    [SkippableFact]
    public async Task DeletePendingBatch_WhileAnotherWriterEnqueues_KeepsTheRestInOrder()
    {
        RequireProvider();
        MessageId[] initial = NewIds(300);
        MessageId[] appended = NewIds(120);
        await Store.EnqueueBatchAsync([.. initial.Select(id => Item("bob", id))]).WaitAsync(Timeout);

        Task writer = Task.Run(async () =>
        {
            for (int i = 0; i < appended.Length; i += 3)
            {
                await Store.EnqueueAsync(Item("bob", appended[i]));
                await Store.EnqueueBatchAsync([Item("bob", appended[i + 1]), Item("bob", appended[i + 2])]);
            }
        });

        // Every even-numbered item of the old backlog is acknowledged, in batches of 10 as a draining client acks them.
        MessageId[] acked = [.. initial.Where((_, i) => i % 2 == 0)];
        int deleted = 0;
        for (int start = 0; start < acked.Length; start += 10)
        {
            deleted += await Store.DeletePendingAsync("bob", acked[start..(start + 10)]).WaitAsync(Timeout);
        }

        await writer.WaitAsync(Timeout);

        Assert.Equal(acked.Length, deleted);
        IReadOnlyList<PendingItem> left = await Store.GetPendingAsync("bob", 0, 1000).WaitAsync(Timeout);
        Assert.Equal(initial.Where((_, i) => i % 2 == 1).Concat(appended), left.Select(i => i.Id));
        for (int i = 1; i < left.Count; i++)
        {
            Assert.True(left[i].Sequence > left[i - 1].Sequence);
        }
    }

    [SkippableFact]
    public async Task GetPending_OtherRecipients_AreNeverReturned()
    {
        RequireProvider();
        MessageId forBob = MessageId.NewId();
        await Store.EnqueueBatchAsync([Item("alice", MessageId.NewId()), Item("bob", forBob), Item("bobby", MessageId.NewId()), Item("Bob", MessageId.NewId())]).WaitAsync(Timeout);

        IReadOnlyList<PendingItem> items = await Store.GetPendingAsync("bob", 0, 100).WaitAsync(Timeout);

        PendingItem item = Assert.Single(items);
        Assert.Equal(forBob, item.Id);
        Assert.Empty(await Store.GetPendingAsync("nobody", 0, 100).WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task Enqueue_ManyInParallel_KeepsEveryItemWithDistinctSequences()
    {
        RequireProvider();
        MessageId[] singles = NewIds(100);
        MessageId[][] batches = [.. Enumerable.Range(0, 5).Select(_ => NewIds(40))];

        Task<bool>[] singleTasks = [.. singles.Select(id => Store.EnqueueAsync(Item("bob", id)))];
        Task<int>[] batchTasks = [.. batches.Select(batch => Store.EnqueueBatchAsync([.. batch.Select(id => Item("bob", id))]))];
        bool[] stored = await Task.WhenAll(singleTasks).WaitAsync(Timeout);
        int[] counts = await Task.WhenAll(batchTasks).WaitAsync(Timeout);

        Assert.All(stored, Assert.True);
        Assert.All(counts, count => Assert.Equal(40, count));
        IReadOnlyList<PendingItem> items = await Store.GetPendingAsync("bob", 0, 1000).WaitAsync(Timeout);
        Assert.Equal(300, items.Count);
        Assert.Equal(300, items.Select(i => i.Sequence).Distinct().Count());
        Assert.Equal(
            singles.Concat(batches.SelectMany(b => b)).Order(MessageIdComparer.Instance),
            items.Select(i => i.Id).Order(MessageIdComparer.Instance));

        // Each batch keeps its own order (other writers' items may take sequence numbers in between).
        foreach (MessageId[] batch in batches)
        {
            var inBatch = new HashSet<MessageId>(batch);
            Assert.Equal(batch, items.Where(i => inBatch.Contains(i.Id)).Select(i => i.Id));
        }
    }

    /// <summary>
    /// Guards per-recipient commit order: a reader paging a queue by sequence while writers append to it must never
    /// step past an item that takes a smaller sequence number but becomes visible later (it would then only arrive at
    /// the recipient's next sign-in).
    /// </summary>
    [SkippableFact]
    public async Task GetPendingAfterSequence_WhileWritersAppend_NeverSkipsAnItem()
    {
        RequireProvider();
        const int Writers = 8;
        const int PerWriter = 40;
        Task[] writers = new Task[Writers];
        for (int w = 0; w < Writers; w++)
        {
            MessageId[] ids = NewIds(PerWriter);
            writers[w] = Task.Run(async () =>
            {
                for (int i = 0; i < ids.Length; i++)
                {
                    if (i % 4 == 3)
                    {
                        await Store.EnqueueBatchAsync([Item("bob", ids[i]), Item("carol", MessageId.NewId())]);
                    }
                    else
                    {
                        await Store.EnqueueAsync(Item("bob", ids[i]));
                    }
                }
            });
        }

        Task allWritten = Task.WhenAll(writers);
        var seen = new HashSet<MessageId>();
        long after = 0;
        using var deadline = new CancellationTokenSource(Timeout);
        while (true)
        {
            bool finished = allWritten.IsCompleted;
            IReadOnlyList<PendingItem> page = await Store.GetPendingAsync("bob", after, 16, deadline.Token).WaitAsync(Timeout);
            foreach (PendingItem item in page)
            {
                Assert.True(item.Sequence > after);
                after = item.Sequence;
                Assert.True(seen.Add(item.Id));
            }

            if (page.Count == 0 && finished)
            {
                break;
            }

            if (page.Count == 0)
            {
                await Task.WhenAny(allWritten, Task.Delay(1, deadline.Token)).WaitAsync(Timeout);
            }
        }

        await allWritten.WaitAsync(Timeout);
        Assert.Equal(Writers * PerWriter, seen.Count);
    }

    [SkippableFact]
    public async Task Enqueue_LargePayload_RoundTrips()
    {
        RequireProvider();
        byte[] chunk = RandomBytes(64 * 1024 + 40);

        await Store.EnqueueAsync(Item("bob", MessageId.NewId(), PendingKind.FileChunk, 7, chunk)).WaitAsync(Timeout);

        PendingItem item = Assert.Single(await Store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout));
        Assert.Equal(chunk, item.Payload);
        Assert.Equal(7, item.Part);
        Assert.Equal(PendingKind.FileChunk, item.Kind);
    }

    // ---- Presence and servers -------------------------------------------------------------------------------

    [SkippableFact]
    public async Task SetPresence_ThenAgainElsewhere_GetReturnsTheLatestServer()
    {
        RequireProvider();

        await Store.SetPresenceAsync("alice", "s1").WaitAsync(Timeout);
        Assert.Equal("s1", await Store.GetPresenceAsync("alice").WaitAsync(Timeout));
        await Store.SetPresenceAsync("alice", "s2").WaitAsync(Timeout);

        Assert.Equal("s2", await Store.GetPresenceAsync("alice").WaitAsync(Timeout));
        Assert.Null(await Store.GetPresenceAsync("bob").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task ClearPresence_SameServer_ClearsIt()
    {
        RequireProvider();
        await Store.SetPresenceAsync("alice", "s1").WaitAsync(Timeout);

        Assert.True(await Store.ClearPresenceAsync("alice", "s1").WaitAsync(Timeout));

        Assert.Null(await Store.GetPresenceAsync("alice").WaitAsync(Timeout));
        Assert.False(await Store.ClearPresenceAsync("alice", "s1").WaitAsync(Timeout));
    }

    /// <summary>Guards that a stale disconnect on the old server cannot erase the user's newer session elsewhere.</summary>
    [SkippableFact]
    public async Task ClearPresence_OtherServer_KeepsTheNewerRecord()
    {
        RequireProvider();
        await Store.SetPresenceAsync("alice", "s1").WaitAsync(Timeout);
        await Store.SetPresenceAsync("alice", "s2").WaitAsync(Timeout);

        Assert.False(await Store.ClearPresenceAsync("alice", "s1").WaitAsync(Timeout));

        Assert.Equal("s2", await Store.GetPresenceAsync("alice").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task ClearServerPresence_ClearsOnlyThatServersUsers()
    {
        RequireProvider();
        await Store.SetPresenceAsync("alice", "s1").WaitAsync(Timeout);
        await Store.SetPresenceAsync("bob", "s1").WaitAsync(Timeout);
        await Store.SetPresenceAsync("carol", "s2").WaitAsync(Timeout);

        int cleared = await Store.ClearServerPresenceAsync("s1").WaitAsync(Timeout);

        Assert.Equal(2, cleared);
        Assert.Null(await Store.GetPresenceAsync("alice").WaitAsync(Timeout));
        Assert.Null(await Store.GetPresenceAsync("bob").WaitAsync(Timeout));
        Assert.Equal("s2", await Store.GetPresenceAsync("carol").WaitAsync(Timeout));
        Assert.Equal(0, await Store.ClearServerPresenceAsync("s1").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task UpsertServer_InsertThenUpdate_GetReturnsTheLatest()
    {
        RequireProvider();
        await Store.UpsertServerAsync(new ServerRecord("s1", "10.0.0.1", 7701, T0)).WaitAsync(Timeout);
        Assert.Equal(new ServerRecord("s1", "10.0.0.1", 7701, T0), await Store.GetServerAsync("s1").WaitAsync(Timeout));

        await Store.UpsertServerAsync(new ServerRecord("s1", "chat-1.example", 7702, T0.AddMinutes(1))).WaitAsync(Timeout);

        Assert.Equal(new ServerRecord("s1", "chat-1.example", 7702, T0.AddMinutes(1)), await Store.GetServerAsync("s1").WaitAsync(Timeout));
        Assert.Null(await Store.GetServerAsync("s2").WaitAsync(Timeout));
    }

    // ---- Lifecycle and migration ----------------------------------------------------------------------------

    [SkippableFact]
    public async Task Initialize_Again_IsHarmlessAndKeepsTheData()
    {
        RequireProvider();
        await Store.CreateAccountAsync(NewAccount("alice")).WaitAsync(Timeout);

        await Store.InitializeAsync().WaitAsync(Timeout);
        IChatStore second = await OpenStoreAsync(Database);

        Assert.NotNull(await Store.GetAccountAsync("alice").WaitAsync(Timeout));
        Assert.NotNull(await second.GetAccountAsync("alice").WaitAsync(Timeout));
    }

    /// <summary>Guards concurrent start-up: two stores migrating one fresh database at the same time must both come up on one schema.</summary>
    [SkippableFact]
    public async Task Initialize_TwoStoresConcurrentlyOnAFreshDatabase_BothWorkOnOneSchema()
    {
        RequireProvider();
        string fresh = await CreateDatabaseAsync().WaitAsync(Timeout);
        IChatStore first = Track(CreateStore(fresh));
        IChatStore second = Track(CreateStore(fresh));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task both = Task.WhenAll(InitializeWhenStartedAsync(first, start.Task), InitializeWhenStartedAsync(second, start.Task));

        start.SetResult();
        await both.WaitAsync(Timeout);

        MessageId id = MessageId.NewId();
        Assert.True(await first.EnqueueAsync(Item("bob", id)).WaitAsync(Timeout));
        Assert.False(await second.EnqueueAsync(Item("bob", id)).WaitAsync(Timeout));
        Assert.Equal(id, Assert.Single(await second.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout)).Id);
    }

    [SkippableFact]
    public async Task Reopen_AfterDispose_SeesEverythingWritten()
    {
        RequireProvider();
        MessageId id = MessageId.NewId();
        await Store.CreateAccountAsync(NewAccount("alice")).WaitAsync(Timeout);
        await Store.CreateGroupAsync("team", "alice", 3).WaitAsync(Timeout);
        await Store.EnqueueAsync(Item("alice", id)).WaitAsync(Timeout);
        await Store.SetPresenceAsync("alice", "s1").WaitAsync(Timeout);
        await Store.DisposeAsync().AsTask().WaitAsync(Timeout);

        IChatStore reopened = await OpenStoreAsync(Database);

        Assert.NotNull(await reopened.GetAccountAsync("alice").WaitAsync(Timeout));
        Assert.Equal(["alice"], (await reopened.GetGroupAsync("team").WaitAsync(Timeout))!.Members);
        Assert.Equal(id, Assert.Single(await reopened.GetPendingAsync("alice", 0, 10).WaitAsync(Timeout)).Id);
        Assert.Equal("s1", await reopened.GetPresenceAsync("alice").WaitAsync(Timeout));
    }

    /// <summary>Guards against an old FastChat writing to a database a newer one has migrated.</summary>
    [SkippableFact]
    public async Task Initialize_NewerSchemaVersion_ThrowsChatStoreExceptionNamingIt()
    {
        RequireProvider();
        string database = await CreateDatabaseAsync().WaitAsync(Timeout);
        await OpenStoreAsync(database);
        await SetSchemaVersionAsync(database, 999).WaitAsync(Timeout);
        IChatStore newer = Track(CreateStore(database));

        ChatStoreException error = await Assert.ThrowsAsync<ChatStoreException>(() => newer.InitializeAsync().WaitAsync(Timeout));

        Assert.Contains("999", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Operations_InvalidArguments_ThrowArgumentExceptions()
    {
        RequireProvider();

        await Assert.ThrowsAsync<ArgumentNullException>(() => Store.CreateAccountAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Store.CreateAccountAsync(NewAccount("alice") with { KdfSalt = null! }));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetAccountAsync(string.Empty));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.CreateGroupAsync("team", "alice", 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.GetPendingAsync("bob", 0, 0));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.EnqueueAsync(Item("bob", MessageId.NewId()) with { Kind = (PendingKind)9 }));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.EnqueueBatchAsync([Item("bob", MessageId.NewId()), Item(string.Empty, MessageId.NewId())]));
        Assert.Equal(0, await Store.CountPendingAsync("bob").WaitAsync(Timeout));
    }

    [SkippableFact]
    public async Task Operations_CanceledToken_AreCanceledWithoutWriting()
    {
        RequireProvider();
        using var canceled = new CancellationTokenSource();
        await canceled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.EnqueueAsync(Item("bob", MessageId.NewId()), canceled.Token).WaitAsync(Timeout));

        Assert.Equal(0, await Store.CountPendingAsync("bob").WaitAsync(Timeout));
    }

    // ---- Provider hooks and helpers -------------------------------------------------------------------------

    /// <summary>Creates an empty database and returns where it is (a folder, a connection string).</summary>
    protected abstract Task<string> CreateDatabaseAsync();

    /// <summary>Provides the empty database this test's <see cref="Store"/> opens; by default a new one from <see cref="CreateDatabaseAsync"/>.</summary>
    protected virtual Task<string> GetEmptyDatabaseAsync() => CreateDatabaseAsync();

    /// <summary>Creates (does not initialize) a store over a database from <see cref="CreateDatabaseAsync"/>.</summary>
    protected abstract IChatStore CreateStore(string database);

    /// <summary>Records a schema version in a database, as a newer FastChat would.</summary>
    protected abstract Task SetSchemaVersionAsync(string database, int version);

    /// <summary>Deletes every database this test created (every store is disposed by then).</summary>
    protected abstract Task DeleteDatabasesAsync();

    /// <summary>Skips the test when the provider is not available.</summary>
    protected void RequireProvider() => Skip.If(SkipReason is not null, SkipReason);

    /// <summary>Creates and initializes a store over a database; it is disposed after the test.</summary>
    protected async Task<IChatStore> OpenStoreAsync(string database)
    {
        IChatStore store = Track(CreateStore(database));
        await store.InitializeAsync().WaitAsync(Timeout);
        return store;
    }

    /// <summary>Disposes a store after the test.</summary>
    protected IChatStore Track(IChatStore store)
    {
        lock (_stores)
        {
            _stores.Add(store);
        }

        return store;
    }

    /// <summary>A pending message (or file part) with a random payload.</summary>
    protected static PendingItem Item(string recipient, MessageId id, PendingKind kind = PendingKind.Message, int part = 0, byte[]? payload = null) =>
        new(0, recipient, id, kind, part, payload ?? RandomBytes(32), T0);

    /// <summary>Fresh random ids.</summary>
    protected static MessageId[] NewIds(int count)
    {
        var ids = new MessageId[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = MessageId.NewId();
        }

        return ids;
    }

    /// <summary>Random bytes.</summary>
    protected static byte[] RandomBytes(int length) => RandomNumberGenerator.GetBytes(length);

    /// <summary>An account whose blobs are random and of different lengths, so a swapped column would show.</summary>
    protected static Account NewAccount(string userName) => new(
        userName,
        "pbkdf2-sha256",
        RandomBytes(16),
        600_000,
        RandomBytes(17),
        RandomBytes(32),
        RandomBytes(65),
        RandomBytes(66),
        RandomBytes(180),
        T0);

    private static async Task InitializeWhenStartedAsync(IChatStore store, Task start)
    {
        await start;
        await store.InitializeAsync();
    }

    private static void AssertSameAccount(Account expected, Account? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.UserName, actual.UserName);
        Assert.Equal(expected.KdfAlgorithm, actual.KdfAlgorithm);
        Assert.Equal(expected.KdfSalt, actual.KdfSalt);
        Assert.Equal(expected.KdfIterations, actual.KdfIterations);
        Assert.Equal(expected.ServerSalt, actual.ServerSalt);
        Assert.Equal(expected.AuthKeyHash, actual.AuthKeyHash);
        Assert.Equal(expected.AgreementPublicKey, actual.AgreementPublicKey);
        Assert.Equal(expected.SigningPublicKey, actual.SigningPublicKey);
        Assert.Equal(expected.WrappedPrivateKeys, actual.WrappedPrivateKeys);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(DateTimeKind.Utc, actual.CreatedAt.Kind);
    }

    private sealed class MessageIdComparer : IComparer<MessageId>
    {
        public static readonly MessageIdComparer Instance = new();

        public int Compare(MessageId x, MessageId y) => string.CompareOrdinal(x.ToString(), y.ToString());
    }
}
