using FastChat.Client.History;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.History;

public sealed class ChatHistoryQueryTests : HistoryTestBase
{
    [Fact]
    public async Task GetConversationAsync_MixedHistory_OnlyThatUsersDirectMessagesBothWaysNewestLast()
    {
        await SendAsync("bob", "b1");
        await ReceiveAsync("bob", "b2");
        await SendAsync("carol", "c1");
        await ReceiveAsync("bob", "g1", group: "team");
        await ReceiveAsync("carol", "c2");
        await ReceiveAsync("bob", "b3");
        await SendAsync("bob", "b4");

        Assert.Equal(["b1", "b2", "b3", "b4"], Texts(await History.GetConversationAsync("bob", 10).WaitAsync(Timeout)));
        Assert.Equal(["c1", "c2"], Texts(await History.GetConversationAsync("carol", 10).WaitAsync(Timeout)));
        Assert.Empty(await History.GetConversationAsync("dave", 10).WaitAsync(Timeout));
    }

    [Fact]
    public async Task GetConversationAsync_Limit_ReturnsTheNewestInOrder()
    {
        for (int i = 1; i <= 6; i++)
        {
            await (i % 2 == 0 ? ReceiveAsync("bob", $"m{i}") : SendAsync("bob", $"m{i}"));
        }

        Assert.Equal(["m4", "m5", "m6"], Texts(await History.GetConversationAsync("bob", 3).WaitAsync(Timeout)));
        Assert.Equal(["m6"], Texts(await History.GetConversationAsync("bob", 1).WaitAsync(Timeout)));
    }

    /// <summary>Guards the ordering rule: entries show in the order they were recorded, not by senders' clocks, which disagree.</summary>
    [Fact]
    public async Task GetConversationAsync_SenderClockBehind_StillInRecordedOrder()
    {
        await SendAsync("bob", "question");
        HistoryEntry reply = Text("bob", "answer") with { SentAt = DateTime.UtcNow.AddHours(-3) };
        Assert.True(await History.AddReceivedAsync(reply).WaitAsync(Timeout));

        Assert.Equal(["question", "answer"], Texts(await History.GetConversationAsync("bob", 10).WaitAsync(Timeout)));
    }

    [Fact]
    public async Task GetGroupAsync_MixedHistory_OnlyThatGroupSentAndReceivedNewestLast()
    {
        await ReceiveAsync("bob", "t1", group: "team");
        await SendAsync("bob", "direct");
        await SendAsync(string.Empty, "t2", group: "team");
        await ReceiveAsync("carol", "o1", group: "other");
        await ReceiveAsync("carol", "t3", group: "team");

        IReadOnlyList<HistoryEntry> team = await History.GetGroupAsync("team", 10).WaitAsync(Timeout);
        Assert.Equal(["t1", "t2", "t3"], Texts(team));
        Assert.Equal(["bob", Owner, "carol"], [team[0].Peer, team[1].Peer, team[2].Peer]);
        Assert.Equal(["t2", "t3"], Texts(await History.GetGroupAsync("team", 2).WaitAsync(Timeout)));
        Assert.Empty(await History.GetGroupAsync("bob", 10).WaitAsync(Timeout));
    }

    [Fact]
    public async Task GetRecentAsync_Limit_NewestAcrossEveryConversationInOrder()
    {
        await SendAsync("bob", "1");
        await ReceiveAsync("carol", "2", group: "team");
        await ReceiveAsync("dave", "3");
        await SendAsync(string.Empty, "4", group: "team");

        Assert.Equal(["1", "2", "3", "4"], Texts(await History.GetRecentAsync(100).WaitAsync(Timeout)));
        Assert.Equal(["3", "4"], Texts(await History.GetRecentAsync(2).WaitAsync(Timeout)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Reads_LimitBelowOne_ThrowArgumentOutOfRangeException(int limit)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = History.GetConversationAsync("bob", limit); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = History.GetGroupAsync("team", limit); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = History.GetRecentAsync(limit); });
    }

    [Fact]
    public async Task Reads_CancelledToken_ReturnCancelledTasks()
    {
        await SendAsync("bob", "hi");
        var cancelled = new CancellationToken(canceled: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => History.GetRecentAsync(10, cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => History.AddSentAsync(Text("bob", "never"), cancelled));
        Assert.Single(await History.GetRecentAsync(10).WaitAsync(Timeout));
    }

    [Fact]
    public async Task GetPendingSentAsync_MixedStates_OnlyUnacknowledgedSentOldestFirst()
    {
        HistoryEntry pending1 = await SendAsync("bob", "p1");
        HistoryEntry acked = await SendAsync("bob", "acked");
        HistoryEntry pending2 = await SendAsync(string.Empty, "p2", group: "team");
        HistoryEntry failed = await SendAsync("carol", "failed");
        HistoryEntry delivered = await SendAsync("carol", "delivered");
        await ReceiveAsync("bob", "received");
        await History.MarkSentAsync(acked.Id).WaitAsync(Timeout);
        await History.MarkFailedAsync(failed.Id, "refused").WaitAsync(Timeout);
        await History.MarkDeliveredAsync(delivered.Id, "carol").WaitAsync(Timeout);

        IReadOnlyList<HistoryEntry> pending = await History.GetPendingSentAsync().WaitAsync(Timeout);

        Assert.Equal([pending1.Id, pending2.Id], [pending[0].Id, pending[1].Id]);
        Assert.Equal(2, pending.Count);
        Assert.All(pending, entry => Assert.Equal(DeliveryState.Pending, entry.State));
    }

    [Fact]
    public async Task GetConversationsAsync_Empty_ReturnsNone()
    {
        Assert.Empty(await History.GetConversationsAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task GetConversationsAsync_MixedHistory_MostRecentFirstWithCountsAndUnread()
    {
        await ReceiveAsync("bob", "b1");
        await SendAsync("bob", "b2");
        await ReceiveAsync("carol", "t1", group: "team");
        await SendAsync("dave", "d1");
        await ReceiveAsync("bob", "b3");
        HistoryEntry last = await ReceiveAsync("carol", "t2", group: "team");

        IReadOnlyList<HistoryConversation> conversations = await History.GetConversationsAsync().WaitAsync(Timeout);

        Assert.Equal(3, conversations.Count);
        Assert.Equal(("team", true, 2, 2), Describe(conversations[0]));
        Assert.Equal(("bob", false, 3, 2), Describe(conversations[1]));
        Assert.Equal(("dave", false, 1, 0), Describe(conversations[2]));
        Assert.Equal(last.Id, conversations[0].LastEntry.Id);
        Assert.Equal("b3", conversations[1].LastEntry.Text);
        Assert.Equal(conversations[0].LastEntry.RecordedAt, conversations[0].LastMessageAt);
    }

    [Fact]
    public async Task GetConversationsAsync_UserAndGroupWithTheSameName_KeptApart()
    {
        await ReceiveAsync("team", "direct from a user called team");
        await ReceiveAsync("bob", "in the group team", group: "team");

        IReadOnlyList<HistoryConversation> conversations = await History.GetConversationsAsync().WaitAsync(Timeout);

        Assert.Equal([("team", true, 1, 1), ("team", false, 1, 1)], [Describe(conversations[0]), Describe(conversations[1])]);
    }

    [Fact]
    public async Task MarkConversationReadAsync_ThenNewMessages_OnlyLaterReceivedOnesUnread()
    {
        await ReceiveAsync("bob", "b1");
        await ReceiveAsync("bob", "b2");
        await ReceiveAsync("carol", "c1");

        await History.MarkConversationReadAsync("bob").WaitAsync(Timeout);
        int[] afterMark = UnreadOf(await History.GetConversationsAsync().WaitAsync(Timeout), "bob", "carol");
        Assert.Equal([0, 1], afterMark);

        await SendAsync("bob", "my reply does not count");
        await ReceiveAsync("bob", "b3");
        int[] afterNew = UnreadOf(await History.GetConversationsAsync().WaitAsync(Timeout), "bob", "carol");
        Assert.Equal([1, 1], afterNew);
    }

    [Fact]
    public async Task MarkGroupReadAsync_GroupRead_LeavesTheDirectConversationOfTheSameNameUnread()
    {
        await ReceiveAsync("bob", "t1", group: "team");
        await ReceiveAsync("team", "direct");

        await History.MarkGroupReadAsync("team").WaitAsync(Timeout);

        IReadOnlyList<HistoryConversation> conversations = await History.GetConversationsAsync().WaitAsync(Timeout);
        Assert.Equal([("team", false, 1, 1), ("team", true, 1, 0)], [Describe(conversations[0]), Describe(conversations[1])]);
    }

    [Fact]
    public async Task MarkConversationReadAsync_NoMessagesYet_LaterMessagesUnread()
    {
        await History.MarkConversationReadAsync("bob").WaitAsync(Timeout);
        await ReceiveAsync("bob", "b1");

        HistoryConversation bob = Assert.Single(await History.GetConversationsAsync().WaitAsync(Timeout));
        Assert.Equal(1, bob.UnreadCount);
    }

    private static (string Name, bool IsGroup, int Messages, int Unread) Describe(HistoryConversation conversation) =>
        (conversation.Name, conversation.IsGroup, conversation.MessageCount, conversation.UnreadCount);

    private static int[] UnreadOf(IReadOnlyList<HistoryConversation> conversations, params string[] names)
    {
        var unread = new int[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            unread[i] = -1;
            foreach (HistoryConversation conversation in conversations)
            {
                if (!conversation.IsGroup && conversation.Name == names[i])
                {
                    unread[i] = conversation.UnreadCount;
                }
            }
        }

        return unread;
    }
}
