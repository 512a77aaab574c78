using System.Buffers;
using System.Security.Cryptography;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

public sealed class FileTests
{
    private const int ChunkSize = ProtocolConstants.MaxFileChunkSize;

    [Fact]
    public async Task File_ToAnOnlineRecipient_ArrivesInOrderAndTheSenderIsAckedAtCompletion()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(servers: 2);
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice", harness.First);
        await using RawClient bob = await harness.SignInAsync("bob", harness.Second);
        byte[] file = RandomNumberGenerator.GetBytes((300 * 1024) + 123);

        (MessageId fileId, uint completeId) = await SendFileAsync(alice, "bob", file);
        (Ack ack, uint ackId) = await alice.ReadWithIdAsync<Ack>();
        Assert.Equal(fileId, ack.Id);
        Assert.Equal(completeId, ackId);

        byte[] received = await ReceiveFileAsync(bob, fileId, "alice");
        Assert.Equal(file, received);
        await bob.SendAsync(new Ack { Id = fileId });
        await ServerHarness.WaitUntilAsync(async () => await harness.Store.CountPendingAsync("bob") == 0, "the acked file is deleted");
    }

    [Fact]
    public async Task File_ToAnOfflineRecipient_IsDeliveredWholeAtResume()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        byte[] file = RandomNumberGenerator.GetBytes(200 * 1024);
        MessageId fileId;
        await using (RawClient alice = await harness.SignInAsync("alice"))
        {
            (fileId, _) = await SendFileAsync(alice, "bob", file);
            Assert.Equal(fileId, (await alice.ReadAsync<Ack>()).Id);
        }

        (RawClient bob, Resumed resumed) = await harness.ResumeAsync("bob");
        await using (bob)
        {
            Assert.Equal(1, resumed.PendingCount);
            Assert.Equal(file, await ReceiveFileAsync(bob, fileId, "alice"));
        }
    }

    /// <summary>Guards the size limit: an offer over it is refused with a message that names the limit.</summary>
    [Fact]
    public async Task FileOffer_OverTheLimit_IsFileTooLarge()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(configure: options => options.MaxFileSize = 1024 * 1024);
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");

        FileOffer offer = Offer("bob", MessageId.NewId(), (1024 * 1024) + 1, 17);
        uint requestId = await alice.SendAsync(offer);
        Error error = await alice.ExpectErrorAsync(ErrorCode.FileTooLarge, requestId);
        Assert.Equal("The file is larger than the 1 MiB limit.", error.Message);
        Assert.Equal(0, await harness.Store.CountPendingAsync("bob").WaitAsync(ServerHarness.Timeout));
    }

    /// <summary>Guards the limit against a sender whose chunks carry more than its offer announced.</summary>
    [Fact]
    public async Task FileChunks_BeyondTheLimit_CancelTheTransferAndDeleteWhatWasStored()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync(configure: options => options.MaxFileSize = 100 * 1024);
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        MessageId fileId = MessageId.NewId();

        await alice.SendAsync(Offer("bob", fileId, 100 * 1024, 2));
        await alice.SendAsync(new FileChunk { FileId = fileId, Index = 0, Data = new(new byte[ChunkSize]) });
        uint tooMuch = await alice.SendAsync(new FileChunk { FileId = fileId, Index = 1, Data = new(new byte[ChunkSize]) });
        Error error = await alice.ExpectErrorAsync(ErrorCode.FileTooLarge, tooMuch);
        Assert.Contains("100 KiB", error.Message, StringComparison.Ordinal);
        await ServerHarness.WaitUntilAsync(async () => await harness.Store.CountPendingAsync("bob") == 0, "the cancelled transfer is deleted");

        uint after = await alice.SendAsync(new FileComplete { FileId = fileId, ChunkCount = 2 });
        await alice.ExpectErrorAsync(ErrorCode.Unexpected, after);
    }

    /// <summary>Guards ordering: a chunk out of sequence cancels the transfer.</summary>
    [Fact]
    public async Task FileChunk_OutOfOrder_IsAProtocolViolation()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient alice = await harness.SignInAsync("alice");
        MessageId fileId = MessageId.NewId();

        await alice.SendAsync(Offer("bob", fileId, 3000, 3));
        uint skipped = await alice.SendAsync(new FileChunk { FileId = fileId, Index = 1, Data = new(new byte[1000]) });
        await alice.ExpectErrorAsync(ErrorCode.ProtocolViolation, skipped);
        await ServerHarness.WaitUntilAsync(async () => await harness.Store.CountPendingAsync("bob") == 0, "the cancelled transfer is deleted");
    }

    private static FileOffer Offer(string recipient, MessageId fileId, long size, int chunks) => new()
    {
        FileId = fileId,
        Sender = string.Empty,
        Recipient = recipient,
        Group = string.Empty,
        KeyEpoch = 0,
        TotalSize = size,
        ChunkCount = chunks,
        SentAt = DateTime.UtcNow,
        Envelope = new(new byte[] { 0xE0, 0xE1 }),
    };

    private static async Task<(MessageId FileId, uint CompleteRequestId)> SendFileAsync(RawClient sender, string recipient, byte[] file)
    {
        MessageId fileId = MessageId.NewId();
        int chunks = (file.Length + ChunkSize - 1) / ChunkSize;
        await sender.SendAsync(Offer(recipient, fileId, file.Length, chunks));
        for (int i = 0; i < chunks; i++)
        {
            int offset = i * ChunkSize;
            byte[] data = file.AsSpan(offset, Math.Min(ChunkSize, file.Length - offset)).ToArray();
            await sender.SendAsync(new FileChunk { FileId = fileId, Index = i, Data = new(data) });
        }

        uint completeId = await sender.SendAsync(new FileComplete { FileId = fileId, ChunkCount = chunks });
        return (fileId, completeId);
    }

    private static async Task<byte[]> ReceiveFileAsync(RawClient recipient, MessageId fileId, string sender)
    {
        FileOffer offer = await recipient.ReadAsync<FileOffer>();
        Assert.Equal(fileId, offer.FileId);
        Assert.Equal(sender, offer.Sender);
        Assert.Equal(new byte[] { 0xE0, 0xE1 }, offer.Envelope.ToArray());
        using var file = new MemoryStream();
        for (int i = 0; i < offer.ChunkCount; i++)
        {
            FileChunk chunk = await recipient.ReadAsync<FileChunk>();
            Assert.Equal(i, chunk.Index);
            file.Write(chunk.Data.ToArray());
        }

        FileComplete complete = await recipient.ReadAsync<FileComplete>();
        Assert.Equal(offer.ChunkCount, complete.ChunkCount);
        Assert.Equal(offer.TotalSize, file.Length);
        return file.ToArray();
    }
}
