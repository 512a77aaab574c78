using FastChat.Transport.Internal;

namespace FastChat.Transport.Tests;

public sealed class OutputLockTests
{
    /// <summary>Guards mutual exclusion under contention: unsynchronised updates made under the lock by several threads are never lost.</summary>
    [Fact]
    public async Task Enter_ContendedByManyThreads_IsMutuallyExclusive()
    {
        var outputLock = new OutputLock();
        const int Workers = 4;
        const int Rounds = 50_000;
        long counter = 0;
        int inside = 0;
        var workers = new Task[Workers];
        for (int w = 0; w < Workers; w++)
        {
            workers[w] = Task.Factory.StartNew(
                () =>
                {
                    for (int i = 0; i < Rounds; i++)
                    {
                        using (outputLock.EnterScope())
                        {
                            Assert.Equal(1, Interlocked.Increment(ref inside));
                            counter++;
                            Interlocked.Decrement(ref inside);
                        }
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(workers).WithTimeout();

        Assert.Equal(Workers * Rounds, counter);
        Assert.False(outputLock.IsHeldByCurrentThread);
    }

    /// <summary>Regression guard: taking the lock again on the thread that holds it (a write inside an open FrameWriteScope) throws instead of spinning forever.</summary>
    [Fact]
    public void Enter_OnTheHoldingThread_ThrowsInsteadOfDeadlocking()
    {
        var outputLock = new OutputLock();
        outputLock.Enter();

        Assert.Throws<InvalidOperationException>(outputLock.Enter);

        Assert.True(outputLock.IsHeldByCurrentThread);
        outputLock.Exit();
        Assert.False(outputLock.IsHeldByCurrentThread);
    }

    /// <summary>Guards hand-over: a thread waiting for the lock gets in once the holder leaves, and not before.</summary>
    [Fact]
    public void Exit_WithAWaiter_LetsTheWaiterIn()
    {
        var outputLock = new OutputLock();
        using var waiting = new ManualResetEventSlim();
        int entered = 0;
        bool heldByWaiter = false;
        outputLock.Enter();
        var waiter = new Thread(() =>
        {
            waiting.Set();
            outputLock.Enter();
            Volatile.Write(ref entered, 1);
            heldByWaiter = outputLock.IsHeldByCurrentThread;
            outputLock.Exit();
        });
        waiter.Start();

        Assert.True(waiting.Wait(TestTimeouts.Default));
        Assert.Equal(0, Volatile.Read(ref entered));
        Assert.True(outputLock.IsHeldByCurrentThread);
        outputLock.Exit();

        Assert.True(waiter.Join(TestTimeouts.Default));
        Assert.Equal(1, Volatile.Read(ref entered));
        Assert.True(heldByWaiter);
        Assert.False(outputLock.IsHeldByCurrentThread);
    }
}
