using FastChat.Client.History;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.History;

public sealed class ChatHistoryLifetimeTests : HistoryTestBase
{
    [Fact]
    public async Task ReopenAsync_EverythingRecorded_StillThereWithStatesDeliveriesAndReadMarkers()
    {
        HistoryEntry delivered = await SendAsync(string.Empty, "to the team", group: "team");
        await History.MarkSentAsync(delivered.Id).WaitAsync(Timeout);
        await History.MarkDeliveredAsync(delivered.Id, "carol").WaitAsync(Timeout);
        HistoryEntry failed = await SendAsync("bob", "failed");
        await History.MarkFailedAsync(failed.Id, "refused").WaitAsync(Timeout);
        HistoryEntry pending = await SendAsync("bob", "pending");
        HistoryEntry received = await ReceiveAsync("bob", "from bob");
        await History.MarkConversationReadAsync("bob").WaitAsync(Timeout);
        await ReceiveAsync("carol", "from carol", group: "team");
        IReadOnlyList<HistoryEntry> before = await History.GetRecentAsync(100).WaitAsync(Timeout);

        await ReopenAsync();

        Assert.Equal(before, await History.GetRecentAsync(100).WaitAsync(Timeout));
        Assert.Equal(DeliveryState.Delivered, (await GetSentAsync(delivered.Id)).State);
        Assert.Equal("carol", Assert.Single(await History.GetDeliveriesAsync(delivered.Id).WaitAsync(Timeout)).Recipient);
        Assert.Equal("refused", (await GetSentAsync(failed.Id)).Error);
        Assert.Equal(pending.Id, Assert.Single(await History.GetPendingSentAsync().WaitAsync(Timeout)).Id);
        IReadOnlyList<HistoryConversation> conversations = await History.GetConversationsAsync().WaitAsync(Timeout);
        Assert.Equal(("team", 1), (conversations[0].Name, conversations[0].UnreadCount));
        Assert.Equal(("bob", 0), (conversations[1].Name, conversations[1].UnreadCount));

        // The duplicate check survives the restart: the server redelivering an acknowledged message is refused.
        Assert.True(await History.HasReceivedAsync("bob", received.Id).WaitAsync(Timeout));
        Assert.False(await History.AddReceivedAsync(received).WaitAsync(Timeout));
    }

    /// <summary>Guards against losing messages recorded just before shutdown: writes submitted before DisposeAsync are committed by it.</summary>
    [Fact]
    public async Task DisposeAsync_WritesStillQueued_CommitsThemBeforeClosing()
    {
        var writes = new Task<bool>[50];
        for (int i = 0; i < writes.Length; i++)
        {
            writes[i] = History.AddReceivedAsync(Text("bob", $"m{i}"));
        }

        await History.DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.All(writes, write => Assert.True(write.IsCompletedSuccessfully && write.Result));
        await ReopenAsync();
        Assert.Equal(50, (await History.GetConversationAsync("bob", 100).WaitAsync(Timeout)).Count);
    }

    [Fact]
    public async Task DisposeAsync_CalledTwiceAndConcurrently_ClosesOnce()
    {
        ValueTask first = History.DisposeAsync();
        ValueTask second = History.DisposeAsync();
        await first.AsTask().WaitAsync(Timeout);
        await second.AsTask().WaitAsync(Timeout);
        await History.DisposeAsync().AsTask().WaitAsync(Timeout);

        // Closed for real: every connection is gone, so SQLite removed the write-ahead log on the last close.
        Assert.False(File.Exists(HistoryPath + "-wal"));
    }

    [Fact]
    public async Task Operations_AfterDispose_ThrowObjectDisposedException()
    {
        HistoryEntry entry = await SendAsync("bob", "hi");
        await History.DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.Throws<ObjectDisposedException>(() => { _ = History.AddSentAsync(Text("bob", "late")); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.AddReceivedAsync(Text("bob", "late")); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.MarkSentAsync(entry.Id); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.MarkDeliveredAsync(entry.Id, "bob"); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.MarkFailedAsync(entry.Id, "late"); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.MarkConversationReadAsync("bob"); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.HasReceivedAsync("bob", entry.Id); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.GetRecentAsync(10); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.GetConversationsAsync(); });
        Assert.Throws<ObjectDisposedException>(() => { _ = History.GetPendingSentAsync(); });
    }

    /// <summary>Guards against a second process (another fastchat of the same user) seeing a stale or locked file while this one is open.</summary>
    [Fact]
    public async Task OpenAsync_SameFileTwice_EachSeesTheOthersWrites()
    {
        await using ChatHistory second = await ChatHistory.OpenAsync(HistoryPath, Owner).WaitAsync(Timeout);

        await SendAsync("bob", "from the first");
        Assert.True(await second.AddReceivedAsync(Text("bob", "from the second")).WaitAsync(Timeout));

        Assert.Equal(["from the first", "from the second"], Texts(await History.GetConversationAsync("bob", 10).WaitAsync(Timeout)));
        Assert.Equal(["from the first", "from the second"], Texts(await second.GetConversationAsync("bob", 10).WaitAsync(Timeout)));
    }
}
