using System.Buffers;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Server.Internal;

// Files are store-and-forward: every frame (offer, chunks, completion) is committed to each recipient's pending
// queue, then online recipients are nudged to drain it, so a file reaches them in order, paced by their own reading
// (a big file never overruns a recipient's send buffer), and an offline recipient gets it at the next sign-in.
// The offer is re-encoded once with the sender filled in; chunks and the completion are stored exactly as received
// (they carry no sender), so the recipient sees the sender's request ids on them, which it ignores.
internal sealed partial class ClientSession
{
    // Uploads one session may have open at once.
    private const int MaxConcurrentUploads = 8;

    // Ciphertext a chunk may carry beyond its plaintext: the AEAD tag and nonce, with room to spare.
    private const int ChunkOverheadAllowance = 64;

    private Dictionary<MessageId, FileUpload>? _uploads;

    private async ValueTask OnFileOfferAsync(uint requestId, FileOffer offer)
    {
        long limit = _context.Options.MaxFileSize;
        bool direct = offer.Recipient.Length != 0;
        if (direct == (offer.Group.Length != 0))
        {
            WriteError(requestId, ErrorCode.ProtocolViolation, "A file goes to one user (recipient) or one group (group): set exactly one of them.");
            return;
        }

        if (offer.TotalSize > limit)
        {
            WriteError(requestId, ErrorCode.FileTooLarge, FileTooLargeMessage(limit));
            return;
        }

        if (offer.TotalSize < 0 || offer.ChunkCount < 1 || offer.ChunkCount > Math.Max(1, offer.TotalSize))
        {
            WriteError(requestId, ErrorCode.ProtocolViolation, $"A file of {offer.TotalSize} B cannot come in {offer.ChunkCount} chunk(s).");
            return;
        }

        _uploads ??= [];
        if (_uploads.ContainsKey(offer.FileId))
        {
            WriteError(requestId, ErrorCode.ProtocolViolation, $"File {offer.FileId} is already being sent.");
            return;
        }

        if (_uploads.Count >= MaxConcurrentUploads)
        {
            WriteError(requestId, ErrorCode.ProtocolViolation, $"At most {MaxConcurrentUploads} files can be sent at once.");
            return;
        }

        FileOffer stamped = offer with { Sender = _userName };
        byte[] payload = Encode(in stamped);
        try
        {
            string[]? recipients = direct
                ? await DirectFileRecipientAsync(requestId, offer.Recipient).ConfigureAwait(false)
                : await GroupFileRecipientsAsync(requestId, offer.Group).ConfigureAwait(false);
            if (recipients is null)
            {
                return;
            }

            var upload = new FileUpload(offer.FileId, recipients, offer.ChunkCount);
            await EnqueueFileFrameAsync(upload, PendingKind.FileOffer, 0, payload).ConfigureAwait(false);
            _uploads[offer.FileId] = upload;
            await NotifyFileRecipientsAsync(upload, authoritative: true).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, "storing a file offer", ex);
            WriteError(requestId, ErrorCode.InternalError, "The file offer could not be stored; send the file again.");
        }
    }

    private async ValueTask OnFileChunkAsync(uint requestId, MessageId fileId, int index, long dataLength, byte[] payload)
    {
        if (_uploads is null || !_uploads.TryGetValue(fileId, out FileUpload? upload))
        {
            WriteError(requestId, ErrorCode.Unexpected, $"No file {fileId} is being sent: send FileOffer first.");
            return;
        }

        if (index != upload.NextIndex || index >= upload.ChunkCount)
        {
            WriteError(requestId, ErrorCode.ProtocolViolation, $"Chunk {index} of file {fileId} arrived, but chunk {upload.NextIndex} of {upload.ChunkCount} was expected; the transfer is cancelled.");
            await AbandonUploadAsync(upload).ConfigureAwait(false);
            return;
        }

        upload.Bytes += dataLength;
        long limit = _context.Options.MaxFileSize;
        if (dataLength > Protocol.Messages.ProtocolConstants.MaxFileChunkSize + ChunkOverheadAllowance
            || upload.Bytes > limit + ((long)upload.ChunkCount * ChunkOverheadAllowance))
        {
            WriteError(requestId, ErrorCode.FileTooLarge, FileTooLargeMessage(limit) + " The transfer is cancelled.");
            await AbandonUploadAsync(upload).ConfigureAwait(false);
            return;
        }

        try
        {
            await EnqueueFileFrameAsync(upload, PendingKind.FileChunk, index, payload).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, "storing a file chunk", ex);
            WriteError(requestId, ErrorCode.InternalError, "A file chunk could not be stored; the transfer is cancelled, send the file again.");
            await AbandonUploadAsync(upload).ConfigureAwait(false);
            return;
        }

        upload.NextIndex++;
        await NotifyFileRecipientsAsync(upload, authoritative: false).ConfigureAwait(false);
    }

    private async ValueTask OnFileCompleteAsync(uint requestId, MessageId fileId, int chunkCount, byte[] payload)
    {
        if (_uploads is null || !_uploads.TryGetValue(fileId, out FileUpload? upload))
        {
            WriteError(requestId, ErrorCode.Unexpected, $"No file {fileId} is being sent: send FileOffer first.");
            return;
        }

        if (chunkCount != upload.ChunkCount || upload.NextIndex != upload.ChunkCount)
        {
            WriteError(requestId, ErrorCode.ProtocolViolation, $"File {fileId} was offered in {upload.ChunkCount} chunk(s); {upload.NextIndex} arrived and the completion says {chunkCount}. The transfer is cancelled.");
            await AbandonUploadAsync(upload).ConfigureAwait(false);
            return;
        }

        try
        {
            await EnqueueFileFrameAsync(upload, PendingKind.FileComplete, 0, payload).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            ServerLog.StoreFailed(_context.Logger, "completing a file", ex);
            WriteError(requestId, ErrorCode.InternalError, "The file could not be completed; send it again.");
            await AbandonUploadAsync(upload).ConfigureAwait(false);
            return;
        }

        _uploads.Remove(fileId);

        // Committed for every recipient: the server has taken responsibility for the whole file.
        _connection.TryWriteMessage(requestId, new Ack { Id = fileId });
        await NotifyFileRecipientsAsync(upload, authoritative: true).ConfigureAwait(false);
    }

    private async Task<string[]?> DirectFileRecipientAsync(uint requestId, string recipient)
    {
        if (!await _context.UserExistsAsync(recipient, Stopping).ConfigureAwait(false))
        {
            WriteError(requestId, ErrorCode.UserNotFound, $"There is no user '{recipient}'.");
            return null;
        }

        return [recipient];
    }

    private async Task<string[]?> GroupFileRecipientsAsync(uint requestId, string group)
    {
        GroupInfo? info = await _context.Groups.RefreshAsync(_context.Store, group, Stopping).ConfigureAwait(false);
        if (info is null)
        {
            WriteError(requestId, ErrorCode.GroupNotFound, $"There is no group '{group}'.");
            return null;
        }

        if (!GroupCache.IsMember(info, _userName))
        {
            WriteError(requestId, ErrorCode.NotMember, $"You are not a member of '{group}'.");
            return null;
        }

        var recipients = new List<string>(info.Members.Count);
        foreach (string member in info.Members)
        {
            if (!string.Equals(member, _userName, StringComparison.Ordinal))
            {
                recipients.Add(member);
            }
        }

        return [.. recipients];
    }

    private async Task EnqueueFileFrameAsync(FileUpload upload, PendingKind kind, int part, byte[] payload)
    {
        if (upload.Recipients.Length == 0)
        {
            return;
        }

        var items = new PendingItem[upload.Recipients.Length];
        DateTime now = _context.UtcNow;
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = new PendingItem(0, upload.Recipients[i], upload.Id, kind, part, payload, now);
        }

        await _context.Store.EnqueueBatchAsync(items, Stopping).ConfigureAwait(false);
        _context.Metrics.MessagesStored(items.Length);
    }

    // The offer and the completion look presence up in the store; chunks in between nudge only recipients known to
    // be online, so a recipient who signs in mid-transfer gets the rest at the latest with the completion.
    private async Task NotifyFileRecipientsAsync(FileUpload upload, bool authoritative)
    {
        foreach (string recipient in upload.Recipients)
        {
            if (authoritative)
            {
                await _router.NotifyStoredQuietlyAsync(recipient, Batch, Stopping).ConfigureAwait(false);
            }
            else
            {
                _router.NudgeIfKnown(recipient, Batch);
            }
        }
    }

    // A cancelled or unfinished transfer: its stored frames are deleted so recipients never get half a file later.
    private async Task AbandonUploadAsync(FileUpload upload)
    {
        _uploads?.Remove(upload.Id);
        foreach (string recipient in upload.Recipients)
        {
            try
            {
                await _context.Store.DeletePendingAsync(recipient, upload.Id, Stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ChatStoreException or OperationCanceledException)
            {
                ServerLog.StoreFailed(_context.Logger, $"deleting an abandoned file for {recipient}", ex);
            }
        }
    }

    private async Task AbandonUploadsAsync()
    {
        if (_uploads is null || _uploads.Count == 0)
        {
            return;
        }

        foreach (FileUpload upload in _uploads.Values.ToArray())
        {
            await AbandonUploadAsync(upload).ConfigureAwait(false);
        }
    }

    private static string FileTooLargeMessage(long limit) => $"The file is larger than the {DescribeSize(limit)} limit.";

    private static string DescribeSize(long bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MiB",
        >= 1024 when bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        _ => $"{bytes} B",
    };

    private sealed class FileUpload(MessageId id, string[] recipients, int chunkCount)
    {
        public MessageId Id { get; } = id;

        public string[] Recipients { get; } = recipients;

        public int ChunkCount { get; } = chunkCount;

        public int NextIndex { get; set; }

        public long Bytes { get; set; }
    }
}
