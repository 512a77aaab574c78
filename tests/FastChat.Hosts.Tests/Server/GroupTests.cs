using System.Buffers;
using FastChat.Hosts.Storage;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

public sealed class GroupTests
{
    [Fact]
    public async Task Group_OnlyTheAdmin_AddsRemovesAndListsMembers()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob", "carol");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");

        await ExpectOkAsync(alice, new GroupCreate { Group = "team" });
        await ExpectOkAsync(alice, new GroupAddMember { Group = "team", Member = "bob" });

        uint add = await bob.SendAsync(new GroupAddMember { Group = "team", Member = "carol" });
        Assert.Equal(ErrorCode.NotAdmin, (await ReadErrorAsync(bob, add)).Code);
        uint remove = await bob.SendAsync(new GroupRemoveMember { Group = "team", Member = "alice" });
        Assert.Equal(ErrorCode.NotAdmin, (await ReadErrorAsync(bob, remove)).Code);
        uint list = await bob.SendAsync(new GroupMembersRequest { Group = "team" });
        Assert.Equal(ErrorCode.NotAdmin, (await ReadErrorAsync(bob, list)).Code);

        uint request = await alice.SendAsync(new GroupMembersRequest { Group = "team" });
        (GroupMembers members, uint membersId) = await alice.ReadUntilAsync<GroupMembers>();
        Assert.Equal(request, membersId);
        Assert.Equal("alice", members.Admin);
        Assert.Equal(["alice", "bob"], members.Members);

        await ExpectOkAsync(alice, new GroupRemoveMember { Group = "team", Member = "bob" });
        GroupInfo? group = await harness.Store.GetGroupAsync("team").WaitAsync(ServerHarness.Timeout);
        Assert.Equal(["alice"], group!.Members);
        Assert.Equal(2, group.KeyEpoch);   // 1 when bob was added, 2 when he was removed

        // The removed member heard of it.
        GroupChanged changed = await ReadChangeAsync(bob, GroupChangeKind.MemberRemoved);
        Assert.Equal("bob", changed.Member);
        Assert.Equal("alice", changed.Actor);
        Assert.Equal(2, changed.Epoch);
    }

    [Fact]
    public async Task Group_AddBeyondTheLimitOrTwice_IsGroupFullOrAlreadyMember()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(configure: options => options.GroupMemberLimit = 2);
        await harness.CreateUsersAsync("alice", "bob", "carol");
        await using RawClient alice = await harness.SignInAsync("alice");

        await ExpectOkAsync(alice, new GroupCreate { Group = "pair" });
        uint duplicate = await alice.SendAsync(new GroupCreate { Group = "pair" });
        Assert.Equal(ErrorCode.GroupExists, (await ReadErrorAsync(alice, duplicate)).Code);
        await ExpectOkAsync(alice, new GroupAddMember { Group = "pair", Member = "bob" });

        uint again = await alice.SendAsync(new GroupAddMember { Group = "pair", Member = "bob" });
        Error already = await ReadErrorAsync(alice, again);
        Assert.Equal(ErrorCode.AlreadyMember, already.Code);
        Assert.Equal("bob is already in the group.", already.Message);

        uint full = await alice.SendAsync(new GroupAddMember { Group = "pair", Member = "carol" });
        Error groupFull = await ReadErrorAsync(alice, full);
        Assert.Equal(ErrorCode.GroupFull, groupFull.Code);
        Assert.Equal("The group is full.", groupFull.Message);

        uint nobody = await alice.SendAsync(new GroupAddMember { Group = "pair", Member = "nobody" });
        Assert.Equal(ErrorCode.UserNotFound, (await ReadErrorAsync(alice, nobody)).Code);
        uint missing = await alice.SendAsync(new GroupAddMember { Group = "nogroup", Member = "bob" });
        Assert.Equal(ErrorCode.GroupNotFound, (await ReadErrorAsync(alice, missing)).Code);
    }

    [Fact]
    public async Task Group_Leave_RemovesTheMemberAndTellsTheOthers()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");
        await ExpectOkAsync(alice, new GroupCreate { Group = "club" });
        await ExpectOkAsync(alice, new GroupAddMember { Group = "club", Member = "bob" });

        await ExpectOkAsync(bob, new GroupLeave { Group = "club" });
        GroupChanged left = await ReadChangeAsync(alice, GroupChangeKind.MemberLeft);
        Assert.Equal("bob", left.Member);
        Assert.Equal(2, left.Epoch);
        Assert.Equal(["alice"], (await harness.Store.GetGroupAsync("club").WaitAsync(ServerHarness.Timeout))!.Members);

        uint again = await bob.SendAsync(new GroupLeave { Group = "club" });
        Assert.Equal(ErrorCode.NotMember, (await ReadErrorAsync(bob, again)).Code);
        uint send = await bob.SendAsync(TestMessages.Group("club", "still here?"));
        Assert.Equal(ErrorCode.NotMember, (await ReadErrorAsync(bob, send)).Code);
    }

    [Fact]
    public async Task GroupMessage_FansOutTheSameBytesToMembersOnBothServersAndOffline()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(servers: 2);
        await harness.CreateUsersAsync("alice", "bob", "carol", "dave");
        await using RawClient alice = await harness.SignInAsync("alice", harness.First);
        await using RawClient bob = await harness.SignInAsync("bob", harness.First);
        await using RawClient carol = await harness.SignInAsync("carol", harness.Second);
        await ExpectOkAsync(alice, new GroupCreate { Group = "crew" });
        foreach (string member in new[] { "bob", "carol", "dave" })
        {
            await ExpectOkAsync(alice, new GroupAddMember { Group = "crew", Member = member });
        }

        GroupMessage sent = TestMessages.Group("crew", "to everyone");
        uint requestId = await alice.SendAsync(sent);
        (GroupMessage toBob, RawFrame bobFrame) = await ReadGroupMessageAsync(bob);
        (GroupMessage toCarol, RawFrame carolFrame) = await ReadGroupMessageAsync(carol);
        Assert.Equal(sent.Id, toBob.Id);
        Assert.Equal("alice", toBob.Sender);
        Assert.Equal(sent.Body.ToArray(), toBob.Body.ToArray());
        Assert.Equal(bobFrame.Payload, carolFrame.Payload);

        // Dave is offline: his copy is stored, byte for byte the same.
        PendingItem stored = Assert.Single(await harness.Store.GetPendingAsync("dave", 0, 10).WaitAsync(ServerHarness.Timeout));
        Assert.Equal(bobFrame.Payload, stored.Payload);

        // The sender's ack waits for every live copy to be acked.
        await bob.SendAsync(new Ack { Id = sent.Id });
        await carol.SendAsync(new Ack { Id = sent.Id });
        (Ack ack, uint ackId) = await alice.ReadUntilAsync<Ack>();
        Assert.Equal(sent.Id, ack.Id);
        Assert.Equal(requestId, ackId);

        (RawClient dave, Resumed resumed) = await harness.ResumeAsync("dave", harness.Second);
        await using (dave)
        {
            Assert.Equal(1, resumed.PendingCount);
            (GroupMessage toDave, RawFrame daveFrame) = await ReadGroupMessageAsync(dave);
            Assert.Equal(sent.Id, toDave.Id);
            Assert.Equal(bobFrame.Payload, daveFrame.Payload);
        }
    }

    [Fact]
    public async Task GroupMessage_FromANonMember_IsNotMemberAndUnknownGroupIsGroupNotFound()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "mallory");
        await using RawClient alice = await harness.SignInAsync("alice");
        await using RawClient mallory = await harness.SignInAsync("mallory");
        await ExpectOkAsync(alice, new GroupCreate { Group = "private" });

        uint send = await mallory.SendAsync(TestMessages.Group("private", "let me in"));
        Assert.Equal(ErrorCode.NotMember, (await ReadErrorAsync(mallory, send)).Code);
        uint unknown = await mallory.SendAsync(TestMessages.Group("nowhere", "hello"));
        Assert.Equal(ErrorCode.GroupNotFound, (await ReadErrorAsync(mallory, unknown)).Code);
    }

    [Fact]
    public async Task GroupKeyEnvelope_IsStoredForwardedLiveAndDeliveredAtEveryResume()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(servers: 2);
        await harness.CreateUsersAsync("alice", "bob", "carol");
        await using RawClient alice = await harness.SignInAsync("alice", harness.First);
        await using RawClient bob = await harness.SignInAsync("bob", harness.Second);
        await ExpectOkAsync(alice, new GroupCreate { Group = "keys" });
        await ExpectOkAsync(alice, new GroupAddMember { Group = "keys", Member = "bob" });
        await ExpectOkAsync(alice, new GroupAddMember { Group = "keys", Member = "carol" });

        byte[] forBob = [1, 2, 3, 4];
        await ExpectOkAsync(alice, new GroupKeyEnvelope { Group = "keys", Member = "bob", Epoch = 0, Sender = string.Empty, Envelope = new(forBob) });
        await ExpectOkAsync(alice, new GroupKeyEnvelope { Group = "keys", Member = "carol", Epoch = 0, Sender = string.Empty, Envelope = new(new byte[] { 9 }) });

        // Bob is online on the other server: forwarded live.
        (GroupKeyEnvelope live, _) = await bob.ReadUntilAsync<GroupKeyEnvelope>();
        Assert.Equal("alice", live.Sender);
        Assert.Equal(forBob, live.Envelope.ToArray());

        // Only the admin distributes keys.
        uint refused = await bob.SendAsync(new GroupKeyEnvelope { Group = "keys", Member = "carol", Epoch = 0, Sender = string.Empty, Envelope = new(new byte[] { 7 }) });
        Assert.Equal(ErrorCode.NotAdmin, (await ReadErrorAsync(bob, refused)).Code);

        // Carol was offline: she gets it when she resumes, and again the next time.
        for (int i = 0; i < 2; i++)
        {
            await using RawClient carol = await harness.SignInAsync("carol", harness.First);
            GroupKeyEnvelope envelope = await carol.ReadAsync<GroupKeyEnvelope>();
            Assert.Equal("keys", envelope.Group);
            Assert.Equal("carol", envelope.Member);
            Assert.Equal(new byte[] { 9 }, envelope.Envelope.ToArray());
        }
    }

    private static async Task ExpectOkAsync<T>(RawClient client, T request)
        where T : struct, IMessage<T>
    {
        uint requestId = await client.SendAsync(request);
        while (true)
        {
            RawFrame frame = await client.ReadFrameAsync();
            if (frame.RequestId == requestId)
            {
                Assert.True(frame.Opcode == Opcode.Ok, $"Expected Ok for {typeof(T).Name} but got {frame}.");
                return;
            }
        }
    }

    private static async Task<Error> ReadErrorAsync(RawClient client, uint requestId)
    {
        while (true)
        {
            RawFrame frame = await client.ReadFrameAsync();
            if (frame.RequestId == requestId)
            {
                Assert.True(frame.Opcode == Opcode.Error, $"Expected an Error but got {frame}.");
                return frame.As<Error>();
            }
        }
    }

    private static async Task<GroupChanged> ReadChangeAsync(RawClient client, GroupChangeKind kind)
    {
        while (true)
        {
            (GroupChanged changed, _) = await client.ReadUntilAsync<GroupChanged>();
            if (changed.Kind == kind)
            {
                return changed;
            }
        }
    }

    private static async Task<(GroupMessage Message, RawFrame Frame)> ReadGroupMessageAsync(RawClient client)
    {
        while (true)
        {
            RawFrame frame = await client.ReadFrameAsync();
            if (frame.Opcode == Opcode.GroupMessage)
            {
                return (frame.As<GroupMessage>(), frame);
            }
        }
    }
}
