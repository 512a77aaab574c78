using FastChat.Client.History;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.History;

public sealed class ChatHistorySentTests : HistoryTestBase
{
    [Fact]
    public async Task AddSentAsync_DirectText_RecordedPendingWithEveryField()
    {
        var sentAt = new DateTime(2031, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1234);
        var recordedAt = sentAt.AddSeconds(1);
        var entry = new HistoryEntry
        {
            Id = MessageId.NewId(),
            Peer = "bob",
            SentAt = sentAt,
            RecordedAt = recordedAt,
            Kind = HistoryKind.Text,
            Text = "héllo 'bob'; DROP TABLE messages; -- 👋",

            // Not taken from the entry: a new sent message is pending with no error and no deliveries.
            Direction = HistoryDirection.Received,
            State = DeliveryState.Delivered,
            Error = "stale",
            DeliveredCount = 7,
        };

        Assert.True(await History.AddSentAsync(entry).WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(
            entry with { Direction = HistoryDirection.Sent, State = DeliveryState.Pending, Error = null, DeliveredCount = 0 },
            stored);
        Assert.Equal(DateTimeKind.Utc, stored.SentAt.Kind);
        Assert.False(stored.IsGroup);
    }

    [Fact]
    public async Task AddSentAsync_File_RoundTripsFileFields()
    {
        var entry = new HistoryEntry
        {
            Id = MessageId.NewId(),
            Peer = "bob",
            Kind = HistoryKind.File,
            FilePath = "/home/alice/Pictures/cat.png",
            FileName = "cat.png",
            FileSize = 5L * 1024 * 1024 * 1024,
            Text = "look",
        };

        Assert.True(await History.AddSentAsync(entry).WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(HistoryKind.File, stored.Kind);
        Assert.Equal("/home/alice/Pictures/cat.png", stored.FilePath);
        Assert.Equal("cat.png", stored.FileName);
        Assert.Equal(5L * 1024 * 1024 * 1024, stored.FileSize);
        Assert.Equal("look", stored.Text);
    }

    [Fact]
    public async Task AddSentAsync_DefaultTimes_StampedWithTheTimeOfTheCall()
    {
        DateTime before = DateTime.UtcNow;
        HistoryEntry entry = await SendAsync("bob", "now");
        DateTime after = DateTime.UtcNow;

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.InRange(stored.RecordedAt, before, after);
        Assert.Equal(stored.RecordedAt, stored.SentAt);
    }

    [Fact]
    public async Task AddSentAsync_LocalTime_StoredAsUtc()
    {
        var local = new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Local);
        HistoryEntry entry = Text("bob", "t") with { SentAt = local };
        Assert.True(await History.AddSentAsync(entry).WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(local.ToUniversalTime(), stored.SentAt);
        Assert.Equal(DateTimeKind.Utc, stored.SentAt.Kind);
    }

    [Fact]
    public async Task AddSentAsync_SameIdTwice_SecondRefusedAndFirstKept()
    {
        HistoryEntry first = await SendAsync("bob", "first");

        Assert.False(await History.AddSentAsync(first with { Text = "second" }).WaitAsync(Timeout));

        Assert.Equal("first", (await GetSentAsync(first.Id)).Text);
        Assert.Single(await History.GetRecentAsync(10).WaitAsync(Timeout));
    }

    [Fact]
    public async Task AddSentAsync_GroupMessage_PeerIsTheOwner()
    {
        HistoryEntry entry = Text(string.Empty, "hi all", group: "team");
        Assert.True(await History.AddSentAsync(entry).WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(Owner, stored.Peer);
        Assert.Equal("team", stored.Group);
        Assert.True(stored.IsGroup);
    }

    [Fact]
    public async Task AddSentAsync_EmptyGroup_RecordedAsDirectMessage()
    {
        HistoryEntry entry = Text("bob", "dm", group: string.Empty);
        Assert.True(await History.AddSentAsync(entry).WaitAsync(Timeout));

        Assert.Null((await GetSentAsync(entry.Id)).Group);
        Assert.Single(await History.GetConversationAsync("bob", 10).WaitAsync(Timeout));
    }

    public static TheoryData<HistoryEntry> InvalidSentEntries() => new()
    {
        new HistoryEntry { Id = MessageId.Empty, Peer = "bob", Text = "no id" },
        new HistoryEntry { Id = MessageId.NewId(), Peer = string.Empty, Text = "no recipient" },
        new HistoryEntry { Id = MessageId.NewId(), Peer = "bob", Kind = (HistoryKind)9 },
        new HistoryEntry { Id = MessageId.NewId(), Peer = "bob", Kind = HistoryKind.File, FileSize = -1 },
    };

    [Theory]
    [MemberData(nameof(InvalidSentEntries))]
    public async Task AddSentAsync_InvalidEntry_ThrowsArgumentExceptionAndRecordsNothing(HistoryEntry entry)
    {
        Assert.Throws<ArgumentException>(() => { _ = History.AddSentAsync(entry); });
        Assert.Empty(await History.GetRecentAsync(10).WaitAsync(Timeout));
    }

    [Fact]
    public async Task MarkSentAsync_Pending_BecomesSentOnce()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");

        Assert.True(await History.MarkSentAsync(entry.Id).WaitAsync(Timeout));
        Assert.False(await History.MarkSentAsync(entry.Id).WaitAsync(Timeout));

        Assert.Equal(DeliveryState.Sent, (await GetSentAsync(entry.Id)).State);
    }

    [Fact]
    public async Task MarkSentAsync_UnknownOrReceivedId_ReturnsFalse()
    {
        HistoryEntry received = await ReceiveAsync("bob", "from bob");

        Assert.False(await History.MarkSentAsync(MessageId.NewId()).WaitAsync(Timeout));
        Assert.False(await History.MarkSentAsync(received.Id).WaitAsync(Timeout));

        HistoryEntry stored = Assert.Single(await History.GetRecentAsync(10).WaitAsync(Timeout));
        Assert.Equal(DeliveryState.Received, stored.State);
    }

    [Fact]
    public async Task MarkDeliveredAsync_AfterServerAck_BecomesDeliveredWithTheRecipient()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");
        Assert.True(await History.MarkSentAsync(entry.Id).WaitAsync(Timeout));
        DateTime before = DateTime.UtcNow;

        Assert.True(await History.MarkDeliveredAsync(entry.Id, "bob").WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(DeliveryState.Delivered, stored.State);
        Assert.Equal(1, stored.DeliveredCount);
        HistoryDelivery delivery = Assert.Single(await History.GetDeliveriesAsync(entry.Id).WaitAsync(Timeout));
        Assert.Equal("bob", delivery.Recipient);
        Assert.InRange(delivery.DeliveredAt, before, DateTime.UtcNow);
    }

    /// <summary>Guards the race where the recipient's acknowledgement is relayed before the server's own: the later server ack must not move the message back.</summary>
    [Fact]
    public async Task MarkDeliveredAsync_BeforeServerAck_DeliveredAndTheLateAckKeepsIt()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");

        Assert.True(await History.MarkDeliveredAsync(entry.Id, "bob").WaitAsync(Timeout));
        Assert.False(await History.MarkSentAsync(entry.Id).WaitAsync(Timeout));

        Assert.Equal(DeliveryState.Delivered, (await GetSentAsync(entry.Id)).State);
        Assert.Empty(await History.GetPendingSentAsync().WaitAsync(Timeout));
    }

    /// <summary>Guards against a direct message being shown as delivered because someone other than its recipient acknowledged its id.</summary>
    [Fact]
    public async Task MarkDeliveredAsync_DirectMessageFromAnotherUser_Ignored()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");
        await History.MarkSentAsync(entry.Id).WaitAsync(Timeout);

        Assert.False(await History.MarkDeliveredAsync(entry.Id, "mallory").WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(DeliveryState.Sent, stored.State);
        Assert.Equal(0, stored.DeliveredCount);
        Assert.Empty(await History.GetDeliveriesAsync(entry.Id).WaitAsync(Timeout));
    }

    [Fact]
    public async Task MarkDeliveredAsync_GroupMembers_EachCountedOnceAndNeverTheSender()
    {
        HistoryEntry entry = await SendAsync(string.Empty, "hi team", group: "team");
        await History.MarkSentAsync(entry.Id).WaitAsync(Timeout);

        Assert.True(await History.MarkDeliveredAsync(entry.Id, "carol").WaitAsync(Timeout));
        Assert.True(await History.MarkDeliveredAsync(entry.Id, "dave").WaitAsync(Timeout));
        Assert.False(await History.MarkDeliveredAsync(entry.Id, "carol").WaitAsync(Timeout));
        Assert.False(await History.MarkDeliveredAsync(entry.Id, Owner).WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(DeliveryState.Delivered, stored.State);
        Assert.Equal(2, stored.DeliveredCount);
        IReadOnlyList<HistoryDelivery> deliveries = await History.GetDeliveriesAsync(entry.Id).WaitAsync(Timeout);
        Assert.Equal(["carol", "dave"], [deliveries[0].Recipient, deliveries[1].Recipient]);
    }

    [Fact]
    public async Task MarkDeliveredAsync_UnknownOrReceivedId_ReturnsFalse()
    {
        HistoryEntry received = await ReceiveAsync("bob", "from bob");

        Assert.False(await History.MarkDeliveredAsync(MessageId.NewId(), "bob").WaitAsync(Timeout));
        Assert.False(await History.MarkDeliveredAsync(received.Id, "bob").WaitAsync(Timeout));
        Assert.Throws<ArgumentException>(() => { _ = History.MarkDeliveredAsync(received.Id, string.Empty); });
    }

    [Fact]
    public async Task MarkFailedAsync_Pending_FailedWithTheReason()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");

        Assert.True(await History.MarkFailedAsync(entry.Id, "user not found").WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(DeliveryState.Failed, stored.State);
        Assert.Equal("user not found", stored.Error);
        Assert.Empty(await History.GetPendingSentAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task MarkFailedAsync_FailedTwice_TakesTheNewReason()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");

        Assert.True(await History.MarkFailedAsync(entry.Id, "timed out").WaitAsync(Timeout));
        Assert.True(await History.MarkFailedAsync(entry.Id, "still timed out").WaitAsync(Timeout));

        Assert.Equal("still timed out", (await GetSentAsync(entry.Id)).Error);
    }

    [Fact]
    public async Task MarkSentAsync_AfterFailure_SentAndErrorCleared()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");
        await History.MarkFailedAsync(entry.Id, "timed out").WaitAsync(Timeout);

        Assert.True(await History.MarkSentAsync(entry.Id).WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(DeliveryState.Sent, stored.State);
        Assert.Null(stored.Error);
    }

    [Fact]
    public async Task MarkDeliveredAsync_AfterFailure_DeliveredAndErrorCleared()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");
        await History.MarkFailedAsync(entry.Id, "timed out").WaitAsync(Timeout);

        Assert.True(await History.MarkDeliveredAsync(entry.Id, "bob").WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(DeliveryState.Delivered, stored.State);
        Assert.Null(stored.Error);
    }

    /// <summary>Guards against a late local failure (a timeout firing after the ack) marking a message the server took responsibility for as failed.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MarkFailedAsync_AfterServerAckOrDelivery_RefusedAndStateKept(bool delivered)
    {
        HistoryEntry entry = await SendAsync("bob", "hi");
        await History.MarkSentAsync(entry.Id).WaitAsync(Timeout);
        if (delivered)
        {
            await History.MarkDeliveredAsync(entry.Id, "bob").WaitAsync(Timeout);
        }

        Assert.False(await History.MarkFailedAsync(entry.Id, "late timeout").WaitAsync(Timeout));

        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(delivered ? DeliveryState.Delivered : DeliveryState.Sent, stored.State);
        Assert.Null(stored.Error);
    }

    [Fact]
    public async Task MarkFailedAsync_EmptyReason_ThrowsArgumentException()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");

        Assert.Throws<ArgumentException>(() => { _ = History.MarkFailedAsync(entry.Id, string.Empty); });
        Assert.Equal(DeliveryState.Pending, (await GetSentAsync(entry.Id)).State);
    }

    [Fact]
    public async Task GetSentAsync_UnknownId_ReturnsNull()
    {
        await ReceiveAsync("bob", "received, not sent");

        Assert.Null(await History.GetSentAsync(MessageId.NewId()).WaitAsync(Timeout));
    }
}
