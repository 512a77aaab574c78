using FastChat.Client.History;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.History;

public sealed class ChatHistoryReceivedTests : HistoryTestBase
{
    [Fact]
    public async Task AddReceivedAsync_GroupFile_RecordedAsReceivedWithEveryField()
    {
        var entry = new HistoryEntry
        {
            Id = MessageId.NewId(),
            Peer = "bob",
            Group = "team",
            SentAt = new DateTime(2031, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            RecordedAt = new DateTime(2031, 1, 1, 0, 0, 2, DateTimeKind.Utc),
            Kind = HistoryKind.File,
            FilePath = "/home/alice/Downloads/report.pdf",
            FileName = "report.pdf",
            FileSize = 12345,

            // Not taken from the entry: a received message is recorded as received.
            Direction = HistoryDirection.Sent,
            State = DeliveryState.Pending,
            Error = "stale",
        };

        Assert.True(await History.AddReceivedAsync(entry).WaitAsync(Timeout));

        HistoryEntry stored = Assert.Single(await History.GetGroupAsync("team", 10).WaitAsync(Timeout));
        Assert.Equal(entry with { Direction = HistoryDirection.Received, State = DeliveryState.Received, Error = null }, stored);
    }

    [Fact]
    public async Task AddReceivedAsync_Notice_RecordedInItsConversation()
    {
        var notice = new HistoryEntry { Id = MessageId.NewId(), Peer = "bob", Group = "team", Kind = HistoryKind.Notice, Text = "bob added carol" };

        Assert.True(await History.AddReceivedAsync(notice).WaitAsync(Timeout));

        HistoryEntry stored = Assert.Single(await History.GetGroupAsync("team", 10).WaitAsync(Timeout));
        Assert.Equal(HistoryKind.Notice, stored.Kind);
        Assert.Equal("bob added carol", stored.Text);
    }

    /// <summary>Guards the durable duplicate check: a resend or a replay of a recorded (sender, id) is refused and does not overwrite the original.</summary>
    [Fact]
    public async Task AddReceivedAsync_SameIdFromSameSender_SecondRefusedAndOriginalKept()
    {
        HistoryEntry original = await ReceiveAsync("bob", "original");

        Assert.False(await History.AddReceivedAsync(original with { Text = "replayed" }).WaitAsync(Timeout));

        HistoryEntry stored = Assert.Single(await History.GetConversationAsync("bob", 10).WaitAsync(Timeout));
        Assert.Equal("original", stored.Text);
    }

    /// <summary>Guards against one sender blocking another's message by using the same id: ids are the sender's choice, so uniqueness is per sender.</summary>
    [Fact]
    public async Task AddReceivedAsync_SameIdFromAnotherSender_BothRecorded()
    {
        HistoryEntry fromBob = await ReceiveAsync("bob", "bob's");

        Assert.True(await History.AddReceivedAsync(fromBob with { Peer = "carol", Text = "carol's" }).WaitAsync(Timeout));

        Assert.Equal(2, (await History.GetRecentAsync(10).WaitAsync(Timeout)).Count);
    }

    [Fact]
    public async Task AddReceivedAsync_IdOfAMessageThisUserSent_StillRecorded()
    {
        HistoryEntry sent = await SendAsync("bob", "mine");

        Assert.True(await History.AddReceivedAsync(sent with { Text = "bob's, same id" }).WaitAsync(Timeout));

        Assert.Equal(["mine", "bob's, same id"], Texts(await History.GetConversationAsync("bob", 10).WaitAsync(Timeout)));
        Assert.Equal("mine", (await GetSentAsync(sent.Id)).Text);
    }

    [Fact]
    public async Task HasReceivedAsync_RecordedOrNot_AnswersPerSender()
    {
        HistoryEntry received = await ReceiveAsync("bob", "hi");
        HistoryEntry sent = await SendAsync("bob", "sent, not received");

        Assert.True(await History.HasReceivedAsync("bob", received.Id).WaitAsync(Timeout));
        Assert.False(await History.HasReceivedAsync("carol", received.Id).WaitAsync(Timeout));
        Assert.False(await History.HasReceivedAsync("bob", MessageId.NewId()).WaitAsync(Timeout));
        Assert.False(await History.HasReceivedAsync("bob", sent.Id).WaitAsync(Timeout));
    }

    public static TheoryData<HistoryEntry> InvalidReceivedEntries() => new()
    {
        new HistoryEntry { Id = MessageId.Empty, Peer = "bob", Text = "no id" },
        new HistoryEntry { Id = MessageId.NewId(), Peer = string.Empty, Text = "no sender" },
        new HistoryEntry { Id = MessageId.NewId(), Peer = string.Empty, Group = "team", Text = "group message without a sender" },
        new HistoryEntry { Id = MessageId.NewId(), Peer = "bob", Kind = (HistoryKind)(-1) },
        new HistoryEntry { Id = MessageId.NewId(), Peer = "bob", Kind = HistoryKind.File, FileSize = long.MinValue },
    };

    [Theory]
    [MemberData(nameof(InvalidReceivedEntries))]
    public async Task AddReceivedAsync_InvalidEntry_ThrowsArgumentExceptionAndRecordsNothing(HistoryEntry entry)
    {
        Assert.Throws<ArgumentException>(() => { _ = History.AddReceivedAsync(entry); });
        Assert.Empty(await History.GetRecentAsync(10).WaitAsync(Timeout));
    }

    [Fact]
    public void AddReceivedAsync_NullEntry_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => { _ = History.AddReceivedAsync(null!); });
        Assert.Throws<ArgumentNullException>(() => { _ = History.AddSentAsync(null!); });
    }
}
