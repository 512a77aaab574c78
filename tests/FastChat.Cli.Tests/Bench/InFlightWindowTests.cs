using FastChat.Cli.Bench;

namespace FastChat.Cli.Tests.Bench;

public sealed class InFlightWindowTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Guards the closed loop against outrunning its acks: a delivered message keeps its slot until the server acknowledges it too.</summary>
    [Fact]
    public async Task Complete_DeliveredButNotAcked_KeepsTheSlot()
    {
        var window = new InFlightWindow(1);
        await window.WaitAsync(CancellationToken.None).WaitAsync(Timeout);
        window.Issue(0, completions: 2);

        window.Complete(0);

        Assert.Equal(0, window.Available);
        Task next = window.WaitAsync(CancellationToken.None);
        Assert.False(next.IsCompleted);
        window.Complete(0);
        await next.WaitAsync(Timeout);
    }

    /// <summary>Guards against a failed send holding its slot for ever (a closed loop that then stops sending).</summary>
    [Fact]
    public async Task Abandon_FailedSend_FreesTheSlotOnce()
    {
        var window = new InFlightWindow(2);
        await window.WaitAsync(CancellationToken.None).WaitAsync(Timeout);
        await window.WaitAsync(CancellationToken.None).WaitAsync(Timeout);
        window.Issue(0, completions: 2);
        window.Issue(1, completions: 2);

        window.Abandon(0);
        window.Complete(0);
        window.Abandon(0);

        Assert.Equal(1, window.Available);
    }

    [Fact]
    public async Task Complete_GroupMessage_FreesTheSlotAtTheLastOfEveryCompletion()
    {
        var window = new InFlightWindow(1);
        await window.WaitAsync(CancellationToken.None).WaitAsync(Timeout);
        window.Issue(0, completions: 4);

        window.Complete(0);
        window.Complete(0);
        window.Complete(0);
        Assert.Equal(0, window.Available);

        window.Complete(0);
        Assert.Equal(1, window.Available);
    }

    [Fact]
    public async Task Issue_SequencesAcrossManyChunks_TrackedIndependently()
    {
        const int count = 20_000;
        var window = new InFlightWindow(count);
        for (long sequence = 0; sequence < count; sequence++)
        {
            await window.WaitAsync(CancellationToken.None).WaitAsync(Timeout);
            window.Issue(sequence, completions: 1);
        }

        Assert.Equal(0, window.Available);
        Parallel.For(0, count, i => window.Complete(i));
        Assert.Equal(count, window.Available);
    }
}
