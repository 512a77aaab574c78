using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Crypto;

public sealed class ReplayGuardTests
{
    /// <summary>Guards replay protection: a message the server (or anyone) delivers twice is accepted once.</summary>
    [Fact]
    public void TryAccept_SameSenderAndIdTwice_RejectsReplay()
    {
        var guard = new ReplayGuard();
        MessageId id = MessageId.NewId();

        Assert.True(guard.TryAccept("alice", id));
        Assert.False(guard.TryAccept("alice", id));
        Assert.Equal(1, guard.Count);
    }

    [Fact]
    public void TryAccept_SameIdFromAnotherSender_Accepts()
    {
        var guard = new ReplayGuard();
        MessageId id = MessageId.NewId();

        Assert.True(guard.TryAccept("alice", id));
        Assert.True(guard.TryAccept("bob", id));
        Assert.True(guard.Contains("alice", id));
        Assert.True(guard.Contains("bob", id));
    }

    [Fact]
    public void Accept_Replay_ThrowsReplayed()
    {
        var guard = new ReplayGuard();
        MessageId id = MessageId.NewId();
        guard.Accept("alice", id);

        var ex = Assert.Throws<EnvelopeException>(() => guard.Accept("alice", id));

        Assert.Equal(EnvelopeFailure.Replayed, ex.Failure);
        Assert.Contains(id.ToString(), ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards the bound: memory stays at the capacity, the oldest pair being forgotten first.</summary>
    [Fact]
    public void TryAccept_OverCapacity_ForgetsOldestFirst()
    {
        var guard = new ReplayGuard(3);
        MessageId[] ids = [MessageId.NewId(), MessageId.NewId(), MessageId.NewId(), MessageId.NewId()];

        foreach (MessageId id in ids)
        {
            Assert.True(guard.TryAccept("alice", id));
        }

        Assert.Equal(3, guard.Count);
        Assert.False(guard.Contains("alice", ids[0]));
        Assert.False(guard.TryAccept("alice", ids[3]));
        Assert.True(guard.TryAccept("alice", ids[0]));
        Assert.False(guard.Contains("alice", ids[1]));
    }

    [Fact]
    public void Constructor_CapacityNotPositive_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayGuard(0));
    }

    [Fact]
    public void TryAccept_ConcurrentDuplicates_AcceptsEachPairOnce()
    {
        var guard = new ReplayGuard(10_000);
        MessageId[] ids = new MessageId[1000];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = MessageId.NewId();
        }

        int accepted = 0;
        Parallel.For(0, 4, _ =>
        {
            foreach (MessageId id in ids)
            {
                if (guard.TryAccept("alice", id))
                {
                    Interlocked.Increment(ref accepted);
                }
            }
        });

        Assert.Equal(ids.Length, accepted);
    }
}
