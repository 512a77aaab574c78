using System.Buffers;
using System.Security.Cryptography;
using FastChat.Client.Crypto;
using FastChat.Client.History;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Secure.Internal;

internal sealed partial class SecureSession
{
    // "name (9999).ext" is far past any real collision; a folder that full is reported rather than searched forever.
    private const int MaxNumberedNames = 10_000;

    private Task HandleControlAsync(ChatEvent item, CancellationToken cancellationToken)
    {
        switch (item)
        {
            case GroupKeyReceived key:
                return OnGroupKeyAsync(key, cancellationToken);
            case GroupChangedEvent change:
                return OnGroupChangedAsync(change, cancellationToken);
            case MessageDelivered delivered:
                return OnDeliveredAsync(delivered, cancellationToken);
            case ConnectionStateChanged state:
                return OnConnectionStateAsync(state, cancellationToken);
            case ResumeMarker:
                _resumed.TrySetResult();
                OnResumed();
                return Task.CompletedTask;
            default:
                return Task.CompletedTask;
        }
    }

    private async Task OnConnectionStateAsync(ConnectionStateChanged state, CancellationToken cancellationToken)
    {
        await _outlet.NotifyAsync(new ConnectionChanged(state.State, state.Reason), cancellationToken).ConfigureAwait(false);
        if (state.State == ConnectionState.Connected)
        {
            StartBackground(SyncAfterResumeAsync, "Checking the group keys after the resume");
        }
    }

    private async Task OnDeliveredAsync(MessageDelivered delivered, CancellationToken cancellationToken)
    {
        await _history.MarkDeliveredAsync(delivered.Id, delivered.Recipient, cancellationToken).ConfigureAwait(false);
        await _outlet.NotifyAsync(new MessageDeliveredTo(delivered.Id, delivered.Recipient), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A group key wrapped for this user: accepted only from the group's admin, verified against the admin's pinned key.</summary>
    private async Task OnGroupKeyAsync(GroupKeyReceived received, CancellationToken cancellationToken)
    {
        GroupState state = GetOrAddGroup(received.Group);
        string? admin = state.Admin;
        bool fromSelf = string.Equals(received.Sender, UserName, StringComparison.Ordinal);

        // The admin changes only when the old one leaves, and the new one's first key is for a newer epoch: a key for
        // an epoch already held, from anyone but the known admin, is not the admin's.
        if (!fromSelf && admin is not null && !string.Equals(received.Sender, admin, StringComparison.Ordinal) && received.Epoch <= state.LatestEpoch)
        {
            await RejectKeyAsync(received, $"it came from {received.Sender}, who is not the group's admin ({admin})", cancellationToken).ConfigureAwait(false);
            return;
        }

        IdentityLookup lookup;
        try
        {
            lookup = await LookupAsync(received.Sender, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatException ex) when (ex.ErrorCode == ErrorCode.UserNotFound)
        {
            await RejectKeyAsync(received, $"its sender {received.Sender} has no account", cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (EnvelopeException ex)
        {
            await RejectKeyAsync(received, ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (lookup.IsChanged)
        {
            await RejectKeyAsync(received, $"the identity key of {received.Sender} changed; trust it and sign in again to receive this key", cancellationToken).ConfigureAwait(false);
            return;
        }

        GroupKey key;
        try
        {
            key = GroupKeyWrap.Open(_keys, UserName, lookup.Identity, received.Group, received.Epoch, received.Envelope.Span);
        }
        catch (EnvelopeException ex)
        {
            await RejectKeyAsync(received, ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (received.Epoch >= state.LatestEpoch)
        {
            state.Admin = received.Sender;
        }

        state.Ring.Add(key);
        SecureChatLog.GroupKeyAdded(_logger, received.Group, received.Epoch, received.Sender);
        OnGroupKeyAdded(received.Group, received.Epoch);
    }

    private async Task RejectKeyAsync(GroupKeyReceived received, string reason, CancellationToken cancellationToken)
    {
        SecureChatLog.GroupKeyRejected(_logger, received.Group, received.Epoch, received.Sender, reason);
        await _outlet.NotifyAsync(
            new SecurityWarning(null, received.Sender, $"A key for group '{received.Group}' (epoch {received.Epoch}) was refused: {reason}."),
            cancellationToken).ConfigureAwait(false);
    }

    // ---- Received messages -------------------------------------------------------------------------------------

    private Task ProcessAsync(IncomingMessage message, CancellationToken cancellationToken) => message switch
    {
        DirectMessageReceived direct => ProcessTextAsync(direct, null, 0, direct.Body, cancellationToken),
        GroupMessageReceived group => ProcessTextAsync(group, group.Group, group.KeyEpoch, group.Body, cancellationToken),
        FileReceived file => ProcessFileAsync(file, cancellationToken),
        _ => RejectAsync(message, "This client does not know this kind of message.", cancellationToken),
    };

    private async Task ProcessTextAsync(IncomingMessage message, string? group, int epoch, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        PublicIdentity? sender = await ResolveSenderAsync(message, group, epoch, cancellationToken).ConfigureAwait(false);
        if (sender is null)
        {
            return;
        }

        byte[] plaintext;
        try
        {
            plaintext = group is null
                ? DirectEnvelope.Open(_keys, UserName, sender, message.Id, message.SentAt, body.Span)
                : GroupEnvelope.Open(RingOf(group), sender, epoch, message.Id, message.SentAt, body.Span);
        }
        catch (EnvelopeException ex)
        {
            await RejectAsync(message, Describe(ex), cancellationToken).ConfigureAwait(false);
            return;
        }

        string? text;
        string? problem;
        try
        {
            MessagePayload.TryDecodeText(plaintext, out text, out problem);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }

        if (text is null)
        {
            await RejectAsync(message, problem!, cancellationToken).ConfigureAwait(false);
            return;
        }

        var entry = new HistoryEntry { Id = message.Id, Peer = message.From, Group = group, SentAt = message.SentAt, Kind = HistoryKind.Text, Text = text };
        if (await RecordAsync(message, entry, cancellationToken).ConfigureAwait(false))
        {
            await AcceptAsync(message, new TextReceived(message.Id, message.From, group, message.SentAt, text), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ProcessFileAsync(FileReceived file, CancellationToken cancellationToken)
    {
        string? group = file.Group.Length == 0 ? null : file.Group;
        PublicIdentity? sender = await ResolveSenderAsync(file, group, file.KeyEpoch, cancellationToken).ConfigureAwait(false);
        if (sender is null)
        {
            return;
        }

        FileManifest manifest;
        try
        {
            manifest = group is null
                ? FileManifest.OpenFromUser(_keys, UserName, sender, file.Id, file.SentAt, file.Envelope.Span)
                : FileManifest.OpenFromGroup(RingOf(group), sender, file.KeyEpoch, file.Id, file.SentAt, file.Envelope.Span);
        }
        catch (EnvelopeException ex)
        {
            await RejectAsync(file, Describe(ex), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!manifest.MatchesOffer(file.TotalSize, file.Chunks.Count))
        {
            await RejectAsync(
                file,
                $"The file's announced size ({file.TotalSize} B in {file.Chunks.Count} chunks) differs from its signed manifest ({manifest.Length} B in {manifest.ChunkCount}).",
                cancellationToken).ConfigureAwait(false);
            return;
        }

        // Checked before writing anything: a copy of a file already saved must not be saved twice.
        if (_replay.Contains(file.From, file.Id) || await _history.HasReceivedAsync(file.From, file.Id, cancellationToken).ConfigureAwait(false))
        {
            await DropDuplicateAsync(file, cancellationToken).ConfigureAwait(false);
            return;
        }

        string safeName = SafeFileName.Sanitize(manifest.Name);
        string path;
        try
        {
            path = await SaveAsync(file, manifest, safeName, cancellationToken).ConfigureAwait(false);
        }
        catch (EnvelopeException ex)
        {
            await RejectAsync(file, Describe(ex), cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The disk, not the file: keep it on the server for another try, and tell the user why it did not show.
            LeavePending(file, ex);
            await _outlet.WriteAsync(
                new SecurityWarning(file.Id, file.From, $"The file '{safeName}' could not be saved in '{_downloadDirectory}' ({ex.Message}); it stays on the server until the next sign-in."),
                cancellationToken).ConfigureAwait(false);
            return;
        }

        var entry = new HistoryEntry
        {
            Id = file.Id,
            Peer = file.From,
            Group = group,
            SentAt = file.SentAt,
            Kind = HistoryKind.File,
            FilePath = path,
            FileName = safeName,
            FileSize = manifest.Length,
        };
        bool recorded;
        try
        {
            recorded = await RecordAsync(file, entry, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not recorded, not acknowledged: the file comes again and is saved then.
            TryDelete(path);
            throw;
        }

        if (!recorded)
        {
            TryDelete(path);
            return;
        }

        await AcceptAsync(file, new FileSaved(file.Id, file.From, group, file.SentAt, path, safeName, manifest.Length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The sender's identity for verifying a message; or <see langword="null"/> when the message was dealt with here:
    /// held (no key for its epoch yet, or the sender's key changed) or refused (no such sender).
    /// </summary>
    private async Task<PublicIdentity?> ResolveSenderAsync(IncomingMessage message, string? group, int epoch, CancellationToken cancellationToken)
    {
        // A group this client does not know (left, or not yet told of) is not created here: it holds no key either.
        if (group is not null && TryGetGroup(group)?.Ring.TryGetKey(epoch, out _) != true)
        {
            bool first = _held.HoldForKey(message, group, epoch, out bool kept);

            // The key may have been added (and the hold emptied) between the check and the hold: look again, so the
            // message is not left waiting for a key that is already here. Whichever side takes it requeues it.
            if (TryGetGroup(group)?.Ring.TryGetKey(epoch, out _) == true)
            {
                Requeue(_held.TakeForKey(group, epoch));
                return null;
            }

            await HoldAsync(message, first, kept, $"No key for epoch {epoch} of group '{group}' yet: the message waits for the admin's key envelope.", cancellationToken)
                .ConfigureAwait(false);
            return null;
        }

        IdentityLookup lookup;
        try
        {
            lookup = await LookupAsync(message.From, cancellationToken).ConfigureAwait(false);
        }
        catch (ChatException ex) when (ex.ErrorCode == ErrorCode.UserNotFound)
        {
            await RejectAsync(message, $"The sender '{message.From}' has no account, so its signature cannot be checked.", cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (EnvelopeException ex)
        {
            await RejectAsync(message, $"The server returned unusable public keys for '{message.From}': {ex.Message}", cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (lookup.IsChanged)
        {
            bool first = _held.HoldForTrust(message, message.From, out bool kept);

            // Trusted meanwhile (TrustNewKey runs on the application's thread): as above, look again after holding.
            if (IsTrusted(message.From, lookup.Identity))
            {
                Requeue(_held.TakeForTrust(message.From));
                return null;
            }

            await HoldAsync(message, first, kept, $"The identity key of {message.From} changed: the message waits until the new key is trusted.", cancellationToken)
                .ConfigureAwait(false);
            return null;
        }

        return lookup.Identity;
    }

    /// <summary>Records a verified message in the history: <see langword="false"/> (and acknowledged) if it is a copy of one already recorded.</summary>
    private async Task<bool> RecordAsync(IncomingMessage message, HistoryEntry entry, CancellationToken cancellationToken)
    {
        if (_replay.Contains(message.From, message.Id))
        {
            await DropDuplicateAsync(message, cancellationToken).ConfigureAwait(false);
            return false;
        }

        // The history is the durable duplicate check (across restarts); the replay guard spares it a write per copy.
        // Both record only verified messages, so garbage sent under a genuine message's id cannot block it.
        bool added = await _history.AddReceivedAsync(entry, cancellationToken).ConfigureAwait(false);
        _replay.Accept(message.From, message.Id);
        if (!added)
        {
            await DropDuplicateAsync(message, cancellationToken).ConfigureAwait(false);
        }

        return added;
    }

    private async Task AcceptAsync(IncomingMessage message, SecureChatEvent received, CancellationToken cancellationToken)
    {
        await _inner.AckAsync(message.Id, cancellationToken).ConfigureAwait(false);
        await _outlet.WriteAsync(received, cancellationToken).ConfigureAwait(false);
    }

    private async Task DropDuplicateAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        SecureChatLog.DuplicateDropped(_logger, message.Id, message.From);
        await _inner.AckAsync(message.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses a message for good: acknowledged (so the server drops it) and reported.</summary>
    private async Task RejectAsync(IncomingMessage message, string reason, CancellationToken cancellationToken)
    {
        SecureChatLog.MessageRejected(_logger, message.Id, message.From, reason);
        await _inner.AckAsync(message.Id, cancellationToken).ConfigureAwait(false);
        await _outlet.WriteAsync(new SecurityWarning(message.Id, message.From, reason), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Leaves a message unacknowledged (the server keeps it), reporting it the first time.</summary>
    private async Task HoldAsync(IncomingMessage message, bool first, bool kept, string reason, CancellationToken cancellationToken)
    {
        // Its next delivery (after a reconnect) must reach this client again rather than be dropped as a copy.
        _inner.ReleaseUnacknowledged(message.Id);
        SecureChatLog.MessageHeld(_logger, message.Id, message.From, reason, kept);
        if (first)
        {
            await _outlet.WriteAsync(new SecurityWarning(message.Id, message.From, reason), cancellationToken).ConfigureAwait(false);
        }
    }

    private void LeavePending(IncomingMessage message, Exception error)
    {
        _inner.ReleaseUnacknowledged(message.Id);
        SecureChatLog.MessageLeftPending(_logger, message.Id, message.From, error.Message, error);
    }

    // The group's ring; an empty one if the group was left since the key check (the message then fails as UnknownEpoch).
    private GroupKeyRing RingOf(string group) => TryGetGroup(group)?.Ring ?? new GroupKeyRing(group);

    private static string Describe(EnvelopeException error) => error.Failure switch
    {
        EnvelopeFailure.BadSignature => "Bad signature: the message was modified or forged. " + error.Message,
        EnvelopeFailure.Tampered => "Tampered: it did not decrypt. " + error.Message,
        EnvelopeFailure.WrongRecipient => "Sealed for another key than this user's. " + error.Message,
        _ => $"Refused ({error.Failure}): {error.Message}",
    };

    /// <summary>Decrypts a file into a temporary file in the download folder, checks it whole, then gives it a free, safe name.</summary>
    private async Task<string> SaveAsync(FileReceived file, FileManifest manifest, string safeName, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_downloadDirectory);
        string temporary = Path.Combine(_downloadDirectory, $".{file.Id}.fastchat-part");
        TryDelete(temporary);
        bool saved = false;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(FileManifest.MaxChunkSize);
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
            };
            if (!OperatingSystem.IsWindows())
            {
                // What others sent this user is this user's alone.
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var decryptor = new FileDecryptor(file.Id, manifest))
            {
                var stream = new FileStream(temporary, options);
                await using (stream.ConfigureAwait(false))
                {
                    for (int i = 0; i < file.Chunks.Count; i++)
                    {
                        int length = decryptor.DecryptChunk(i, file.Chunks[i].Span, buffer);
                        await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                    }

                    // Length and SHA-256 against the signed manifest: only then does the file get a real name.
                    decryptor.Complete();
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            string path = MoveToFreeName(temporary, safeName);
            saved = true;
            return path;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, FileManifest.MaxChunkSize));
            ArrayPool<byte>.Shared.Return(buffer);
            if (!saved)
            {
                TryDelete(temporary);
            }
        }
    }

    private string MoveToFreeName(string temporary, string safeName)
    {
        for (int number = 0; number < MaxNumberedNames; number++)
        {
            string candidate = Path.Combine(_downloadDirectory, SafeFileName.Numbered(safeName, number));
            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                continue;
            }

            try
            {
                File.Move(temporary, candidate, overwrite: false);
                return candidate;
            }
            catch (IOException) when (File.Exists(candidate) || Directory.Exists(candidate))
            {
                // Taken between the check and the move: never overwrite, try the next number.
            }
        }

        throw new IOException($"'{safeName}' and its numbered alternatives up to {MaxNumberedNames - 1} all exist in '{_downloadDirectory}'.");
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temporary file is replaced by the next attempt.
        }
    }
}
