using System.Buffers;
using FastChat.Client.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests;

public sealed class RecentMessageIdsTests
{
    [Fact]
    public void TryAdd_NewThenDuplicate_ReportsPendingThenAcknowledged()
    {
        var recent = new RecentMessageIds();
        MessageId id = MessageId.NewId();

        Assert.Equal(RecentIdState.New, recent.TryAdd(id));
        Assert.Equal(RecentIdState.Pending, recent.TryAdd(id));
        recent.MarkAcknowledged(id);
        Assert.Equal(RecentIdState.Acknowledged, recent.TryAdd(id));
    }

    /// <summary>Guards the bound: the set forgets the oldest id instead of growing with every message ever received.</summary>
    [Fact]
    public void TryAdd_PastCapacity_ForgetsTheOldest()
    {
        var recent = new RecentMessageIds();
        MessageId first = MessageId.NewId();
        recent.TryAdd(first);
        for (int i = 0; i < RecentMessageIds.Capacity; i++)
        {
            recent.TryAdd(MessageId.NewId());
        }

        Assert.Null(recent.Find(first));
        Assert.Equal(RecentIdState.New, recent.TryAdd(first));
    }

    [Fact]
    public void Remove_UndeliveredId_IsNewAgain()
    {
        var recent = new RecentMessageIds();
        MessageId id = MessageId.NewId();
        recent.TryAdd(id);
        recent.Remove(id);

        Assert.Equal(RecentIdState.New, recent.TryAdd(id));
    }
}

public sealed class IncomingFilesTests
{
    [Fact]
    public void Complete_AllChunks_ReturnsTheFileInOrder()
    {
        var files = new IncomingFiles();
        MessageId id = MessageId.NewId();
        Assert.Null(files.Begin(Offer(id, chunkCount: 2)));
        Assert.Null(files.AddChunk(new FileChunk { FileId = id, Index = 1, Data = new ReadOnlySequence<byte>(new byte[] { 2 }) }, out bool known));
        Assert.True(known);
        Assert.Null(files.AddChunk(new FileChunk { FileId = id, Index = 0, Data = new ReadOnlySequence<byte>(new byte[] { 1 }) }, out _));

        FileReceived? file = files.Complete(new FileComplete { FileId = id, ChunkCount = 2 }, out string? problem);

        Assert.Null(problem);
        Assert.NotNull(file);
        Assert.Equal(new byte[] { 1 }, file.Chunks[0].ToArray());
        Assert.Equal(new byte[] { 2 }, file.Chunks[1].ToArray());
        Assert.Equal("alice", file.From);
    }

    /// <summary>Guards against a broken server: a missing chunk, an index out of range or an absurd count never yields a file.</summary>
    [Fact]
    public void HostileFrames_AreRefusedWithAReason()
    {
        var files = new IncomingFiles();
        MessageId missing = MessageId.NewId();
        files.Begin(Offer(missing, chunkCount: 2));
        files.AddChunk(new FileChunk { FileId = missing, Index = 0, Data = new ReadOnlySequence<byte>(new byte[1]) }, out _);
        Assert.Null(files.Complete(new FileComplete { FileId = missing, ChunkCount = 2 }, out string? problem));
        Assert.Contains("1 of its 2", problem, StringComparison.Ordinal);

        MessageId outOfRange = MessageId.NewId();
        files.Begin(Offer(outOfRange, chunkCount: 1));
        Assert.NotNull(files.AddChunk(new FileChunk { FileId = outOfRange, Index = 1, Data = new ReadOnlySequence<byte>(new byte[1]) }, out _));
        Assert.Null(files.Complete(new FileComplete { FileId = outOfRange, ChunkCount = 1 }, out problem));
        Assert.Null(problem);

        Assert.NotNull(files.Begin(Offer(MessageId.NewId(), chunkCount: 0)));
        Assert.NotNull(files.Begin(Offer(MessageId.NewId(), chunkCount: IncomingFiles.MaxChunkCount + 1)));
        Assert.NotNull(files.Begin(Offer(MessageId.NewId(), chunkCount: 1) with { TotalSize = -1 }));

        files.AddChunk(new FileChunk { FileId = MessageId.NewId(), Index = 0 }, out bool known);
        Assert.False(known);
    }

    [Fact]
    public void Begin_TooManyFilesAtOnce_IsRefused()
    {
        var files = new IncomingFiles();
        for (int i = 0; i < IncomingFiles.MaxConcurrentFiles; i++)
        {
            Assert.Null(files.Begin(Offer(MessageId.NewId(), chunkCount: 1)));
        }

        Assert.NotNull(files.Begin(Offer(MessageId.NewId(), chunkCount: 1)));
    }

    private static FileOffer Offer(MessageId id, int chunkCount) => new()
    {
        FileId = id,
        Sender = "alice",
        Recipient = "bob",
        TotalSize = chunkCount,
        ChunkCount = chunkCount,
        SentAt = DateTime.UtcNow,
    };
}
