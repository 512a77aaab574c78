using FastChat.Client.History;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.History;

public sealed class ChatHistoryConcurrencyTests : HistoryTestBase
{
    /// <summary>
    /// Guards the chat screen's use: a receive loop writing while the UI reads. Every write lands, in each writer's order,
    /// and every read sees a consistent prefix (a conversation never shows a message without the ones before it).
    /// </summary>
    [Fact]
    public async Task WritersAndReaders_Concurrently_EveryWriteLandsAndReadsSeeOrderedPrefixes()
    {
        const int Writers = 4;
        const int PerWriter = 60;
        using var writersDone = new CancellationTokenSource();

        var writers = new Task[Writers];
        for (int w = 0; w < Writers; w++)
        {
            string sender = $"user{w}";
            writers[w] = Task.Run(async () =>
            {
                for (int i = 0; i < PerWriter; i++)
                {
                    Assert.True(await History.AddReceivedAsync(Text(sender, i.ToString("D3", null))).WaitAsync(Timeout));
                }
            });
        }

        var readers = new Task<int>[2];
        for (int r = 0; r < readers.Length; r++)
        {
            string sender = $"user{r}";
            readers[r] = Task.Run(async () =>
            {
                int reads = 0;
                int seen = 0;
                while (!writersDone.IsCancellationRequested || reads == 0)
                {
                    IReadOnlyList<HistoryEntry> conversation = await History.GetConversationAsync(sender, int.MaxValue).WaitAsync(Timeout);
                    Assert.True(conversation.Count >= seen, "A later read saw fewer messages than an earlier one.");
                    for (int i = 0; i < conversation.Count; i++)
                    {
                        Assert.Equal(i.ToString("D3", null), conversation[i].Text);
                    }

                    seen = conversation.Count;
                    await History.GetConversationsAsync().WaitAsync(Timeout);
                    reads++;
                }

                return reads;
            });
        }

        await Task.WhenAll(writers).WaitAsync(Timeout);
        await writersDone.CancelAsync();
        int[] readCounts = await Task.WhenAll(readers).WaitAsync(Timeout);

        Assert.All(readCounts, count => Assert.True(count > 0));
        Assert.Equal(Writers * PerWriter, (await History.GetRecentAsync(int.MaxValue).WaitAsync(Timeout)).Count);
        IReadOnlyList<HistoryConversation> conversations = await History.GetConversationsAsync().WaitAsync(Timeout);
        Assert.Equal(Writers, conversations.Count);
        Assert.All(conversations, conversation => Assert.Equal(PerWriter, conversation.MessageCount));
    }

    /// <summary>Guards the duplicate check under a race: the same message arriving twice at once (a resend crossing the original) is recorded once.</summary>
    [Fact]
    public async Task AddReceivedAsync_SameMessageConcurrently_ExactlyOneRecorded()
    {
        HistoryEntry entry = Text("bob", "once");
        var adds = new Task<bool>[16];
        for (int i = 0; i < adds.Length; i++)
        {
            adds[i] = Task.Run(() => History.AddReceivedAsync(entry));
        }

        bool[] results = await Task.WhenAll(adds).WaitAsync(Timeout);

        Assert.Single(results, recorded => recorded);
        Assert.Single(await History.GetConversationAsync("bob", 10).WaitAsync(Timeout));
    }

    [Fact]
    public async Task MarkDeliveredAsync_ManyMembersConcurrently_EachCountedOnce()
    {
        HistoryEntry entry = await SendAsync(string.Empty, "hello everyone", group: "big");
        var marks = new Task<bool>[40];
        for (int i = 0; i < marks.Length; i++)
        {
            // Every member acknowledges twice: the second never counts.
            string member = $"member{i / 2}";
            marks[i] = Task.Run(() => History.MarkDeliveredAsync(entry.Id, member));
        }

        bool[] results = await Task.WhenAll(marks).WaitAsync(Timeout);

        Assert.Equal(20, Array.FindAll(results, recorded => recorded).Length);
        HistoryEntry stored = await GetSentAsync(entry.Id);
        Assert.Equal(20, stored.DeliveredCount);
        Assert.Equal(20, (await History.GetDeliveriesAsync(entry.Id).WaitAsync(Timeout)).Count);
    }

    /// <summary>Guards shutdown while the receive loop still writes: every write is either committed or refused as disposed; none hangs and none is half-done.</summary>
    [Fact]
    public async Task DisposeAsync_WhileAWriterRuns_EveryWriteEitherCommitsOrIsRefused()
    {
        const int Attempts = 500;
        var writes = new List<Task<bool>>(Attempts);
        int refused = 0;
        Task writer = Task.Run(() =>
        {
            for (int i = 0; i < Attempts; i++)
            {
                try
                {
                    writes.Add(History.AddReceivedAsync(Text("bob", $"m{i}")));
                }
                catch (ObjectDisposedException)
                {
                    refused++;
                }
            }
        });

        await History.DisposeAsync().AsTask().WaitAsync(Timeout);
        await writer.WaitAsync(Timeout);

        int committed = 0;
        foreach (Task<bool> write in writes)
        {
            try
            {
                Assert.True(await write.WaitAsync(Timeout));
                committed++;
            }
            catch (ObjectDisposedException)
            {
                // Submitted just as the writer stopped taking writes: refused, so the caller knows it was not recorded.
                refused++;
            }
        }

        Assert.Equal(Attempts, committed + refused);
        await ReopenAsync();
        Assert.Equal(committed, (await History.GetConversationAsync("bob", int.MaxValue).WaitAsync(Timeout)).Count);
    }
}
