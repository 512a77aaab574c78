using System.Buffers;
using System.Security.Cryptography;
using FastChat.Client.Crypto;
using FastChat.Client.History;
using FastChat.Client.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Secure.Internal;

internal sealed partial class SecureSession
{
    /// <summary>
    /// The largest file the client sends: what any FastChat client accepts (the servers' own limit, 16 MiB by default,
    /// may be lower and is reported as <see cref="ErrorCode.FileTooLarge"/>). The encrypted chunks are held in memory
    /// until the server acknowledges the file.
    /// </summary>
    public const long MaxFileSize = IncomingFiles.MaxFileBytes;

    public async Task<MessageId> SendTextAsync(string recipient, string text, CancellationToken cancellationToken)
    {
        byte[] payload = MessagePayload.EncodeText(text);
        try
        {
            CheckBodySize(DirectEnvelope.GetEnvelopeLength(payload.Length), nameof(text));
            PublicIdentity to = await GetTrustedIdentityAsync(recipient, cancellationToken).ConfigureAwait(false);
            MessageId id = MessageId.NewId();
            DateTime sentAt = DateTime.UtcNow;
            byte[] body = DirectEnvelope.Seal(_keys, UserName, to, id, sentAt, payload);
            await _history.AddSentAsync(new HistoryEntry { Id = id, Peer = recipient, SentAt = sentAt, Kind = HistoryKind.Text, Text = text }, cancellationToken)
                .ConfigureAwait(false);
            return await CompleteSendAsync(id, _inner.SendDirectAsync(recipient, id, sentAt, body, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
    }

    public async Task<MessageId> SendGroupTextAsync(string group, string text, CancellationToken cancellationToken)
    {
        byte[] payload = MessagePayload.EncodeText(text);
        try
        {
            CheckBodySize(GroupEnvelope.GetEnvelopeLength(payload.Length), nameof(text));
            GroupKey key = await GetSendingKeyAsync(group, cancellationToken).ConfigureAwait(false);
            MessageId id = MessageId.NewId();
            DateTime sentAt = DateTime.UtcNow;
            byte[] body = GroupEnvelope.Seal(_keys, UserName, group, key, id, sentAt, payload);
            await _history.AddSentAsync(new HistoryEntry { Id = id, Group = group, SentAt = sentAt, Kind = HistoryKind.Text, Text = text }, cancellationToken)
                .ConfigureAwait(false);
            return await CompleteSendAsync(id, _inner.SendGroupAsync(group, key.Epoch, id, sentAt, body, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
    }

    public async Task<MessageId> SendFileAsync(string recipient, string path, CancellationToken cancellationToken)
    {
        PublicIdentity to = await GetTrustedIdentityAsync(recipient, cancellationToken).ConfigureAwait(false);
        PreparedFile file = await PrepareFileAsync(path, cancellationToken).ConfigureAwait(false);
        DateTime sentAt = DateTime.UtcNow;
        byte[] envelope = file.Manifest.SealForUser(_keys, UserName, to, file.Id, sentAt);
        await _history.AddSentAsync(FileEntry(file, recipient, null, sentAt), cancellationToken).ConfigureAwait(false);
        return await CompleteSendAsync(file.Id, _inner.SendFileAsync(recipient, file.Id, sentAt, envelope, file.Manifest.Length, file.Chunks, cancellationToken))
            .ConfigureAwait(false);
    }

    public async Task<MessageId> SendGroupFileAsync(string group, string path, CancellationToken cancellationToken)
    {
        GroupKey key = await GetSendingKeyAsync(group, cancellationToken).ConfigureAwait(false);
        PreparedFile file = await PrepareFileAsync(path, cancellationToken).ConfigureAwait(false);
        DateTime sentAt = DateTime.UtcNow;
        byte[] envelope = file.Manifest.SealForGroup(_keys, UserName, group, key, file.Id, sentAt);
        await _history.AddSentAsync(FileEntry(file, string.Empty, group, sentAt), cancellationToken).ConfigureAwait(false);
        return await CompleteSendAsync(file.Id, _inner.SendGroupFileAsync(group, key.Epoch, file.Id, sentAt, envelope, file.Manifest.Length, file.Chunks, cancellationToken))
            .ConfigureAwait(false);
    }

    private static HistoryEntry FileEntry(PreparedFile file, string recipient, string? group, DateTime sentAt) => new()
    {
        Id = file.Id,
        Peer = recipient,
        Group = group,
        SentAt = sentAt,
        Kind = HistoryKind.File,
        FilePath = file.FullPath,
        FileName = file.Manifest.Name,
        FileSize = file.Manifest.Length,
    };

    /// <summary>
    /// Reads a file once to hash it into a manifest with a new file key, then again to encrypt it chunk by chunk,
    /// checking that the second reading is the content that was hashed.
    /// </summary>
    private static async Task<PreparedFile> PrepareFileAsync(string path, CancellationToken cancellationToken)
    {
        string fullPath = Path.GetFullPath(path);
        string name = Path.GetFileName(fullPath);
        if (name.Length == 0)
        {
            throw new ArgumentException($"'{path}' names a folder, not a file.", nameof(path));
        }

        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            CheckFileSize(stream.Length, fullPath);
            FileManifest manifest = await FileManifest.CreateAsync(name, stream, cancellationToken).ConfigureAwait(false);
            CheckFileSize(manifest.Length, fullPath);

            MessageId id = MessageId.NewId();
            var chunks = new ReadOnlyMemory<byte>[manifest.ChunkCount];
            byte[] buffer = ArrayPool<byte>.Shared.Rent(FileManifest.MaxChunkSize);
            try
            {
                using var encryptor = new FileEncryptor(id, manifest);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                stream.Position = 0;
                for (int i = 0; i < chunks.Length; i++)
                {
                    int length = encryptor.GetChunkLength(i);
                    await stream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    hash.AppendData(buffer, 0, length);
                    chunks[i] = encryptor.EncryptChunk(i, buffer.AsSpan(0, length));
                }

                if (stream.Length != manifest.Length || !hash.GetHashAndReset().AsSpan().SequenceEqual(manifest.Sha256.Span))
                {
                    throw new IOException($"The file '{fullPath}' changed while it was being encrypted; send it again.");
                }
            }
            catch (EndOfStreamException ex)
            {
                throw new IOException($"The file '{fullPath}' shrank while it was being encrypted; send it again.", ex);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(buffer.AsSpan(0, FileManifest.MaxChunkSize));
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return new PreparedFile(id, fullPath, manifest, chunks);
        }
    }

    private static void CheckFileSize(long length, string path)
    {
        if (length > MaxFileSize)
        {
            throw new ChatException(ErrorCode.FileTooLarge, $"The file '{path}' is {length} B; FastChat sends files of at most {MaxFileSize} B.");
        }
    }

    private void CheckBodySize(int envelopeLength, string paramName)
    {
        int limit = _inner.MaxBodySize;
        if (envelopeLength > limit)
        {
            throw new ArgumentException($"The message is {envelopeLength} B once encrypted, over the limit of {limit} B for one message; send it as a file.", paramName);
        }
    }

    /// <summary>Waits for the server's acknowledgement and records the outcome in the history.</summary>
    private async Task<MessageId> CompleteSendAsync(MessageId id, Task<MessageId> sending)
    {
        try
        {
            await ServerRequestAsync(sending).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChatException or ChatConnectionException or TimeoutException or OperationCanceledException
                                       or InvalidOperationException or ArgumentException or ObjectDisposedException)
        {
            await MarkFailedAsync(id, ex).ConfigureAwait(false);
            throw;
        }

        // The caller's token may be cancelled by now; the server has the message, and the history must say so.
        await _history.MarkSentAsync(id, CancellationToken.None).ConfigureAwait(false);
        return id;
    }

    private async Task MarkFailedAsync(MessageId id, Exception error)
    {
        string reason = error is OperationCanceledException
            ? "The send was cancelled before the server acknowledged it."
            : error.Message;
        try
        {
            await _history.MarkFailedAsync(id, reason, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChatHistoryException or ObjectDisposedException)
        {
            // The send's own error is what the caller needs; a history that failed too (or closed at sign-out) adds
            // nothing to it.
        }
    }

    /// <summary>
    /// The key to seal a group message with: the newest held, provided the server announced no newer epoch (a member
    /// left or was removed and still holds the older key). As the admin, first issues the key the server's epoch needs.
    /// </summary>
    private async Task<GroupKey> GetSendingKeyAsync(string group, CancellationToken cancellationToken)
    {
        await WaitForResumeAsync(cancellationToken).ConfigureAwait(false);
        GroupState? state = TryGetGroup(group);
        GroupKey? latest = state?.Ring.Latest;
        bool uncheckedAdmin = state is not null && !state.AdminChecked && string.Equals(state.Admin, UserName, StringComparison.Ordinal);
        if (latest is null || uncheckedAdmin || latest.Epoch < state!.ServerEpoch)
        {
            // The admin makes sure the key for the server's current epoch exists (after an offline removal, say); for
            // anyone else this only says "not the admin". A group that does not exist fails here with GroupNotFound.
            await EnsureGroupKeyAsync(group, null, cancellationToken).ConfigureAwait(false);
            state = TryGetGroup(group);
            latest = state?.Ring.Latest;
        }

        if (latest is null || state is null)
        {
            throw new ChatException(
                ErrorCode.NotMember,
                $"This client holds no key for group '{group}': this user is not a member of it, or its admin has not sent the group key yet.");
        }

        if (latest.Epoch < state.ServerEpoch)
        {
            throw new ChatException(
                ErrorCode.Unexpected,
                $"Waiting for the admin to rotate the group key of '{group}': a member left or was removed, so the group is at key epoch {state.ServerEpoch}, and this client holds only epoch {latest.Epoch}, which the former member has too. Try again once the new key arrives.");
        }

        return latest;
    }

    private sealed record PreparedFile(MessageId Id, string FullPath, FileManifest Manifest, ReadOnlyMemory<byte>[] Chunks);
}
