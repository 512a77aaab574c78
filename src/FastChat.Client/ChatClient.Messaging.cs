using FastChat.Client.Internal;
using FastChat.Protocol;
using FastChat.Protocol.Messages;

namespace FastChat.Client;

public sealed partial class ChatClient
{
    /// <summary>Sends a direct message with a new random id.</summary>
    /// <param name="recipient">The receiving user.</param>
    /// <param name="body">The body (ciphertext once end-to-end encryption is on). It is not copied: leave it unchanged until the task completes, since it is resent after a reconnect.</param>
    /// <param name="cancellationToken">Stops waiting; the message is then no longer resent (it may already have reached the server).</param>
    /// <returns>The message id, once the server has taken responsibility for the message (delivered or stored).</returns>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is empty or too long, or <paramref name="body"/> is larger than <see cref="MaxBodySize"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or the outbox is full.</exception>
    /// <exception cref="ChatException">The server refused the message, e.g. <see cref="ErrorCode.UserNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>; send again with the same id to let the recipient drop a duplicate.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendDirectAsync(string recipient, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendDirectAsync(recipient, MessageId.NewId(), body, cancellationToken);

    /// <summary>Sends a direct message with an id chosen by the caller (to retry a send without risking a duplicate).</summary>
    /// <param name="recipient">The receiving user.</param>
    /// <param name="id">The message id; recipients drop a second message with the same id.</param>
    /// <param name="body">The body. It is not copied: leave it unchanged until the task completes, since it is resent after a reconnect.</param>
    /// <param name="cancellationToken">Stops waiting; the message is then no longer resent (it may already have reached the server).</param>
    /// <returns><paramref name="id"/>, once the server has taken responsibility for the message (delivered or stored).</returns>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is empty or too long, <paramref name="id"/> is empty, or <paramref name="body"/> is larger than <see cref="MaxBodySize"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, the outbox is full, or a message with this id is already waiting for its acknowledgement.</exception>
    /// <exception cref="ChatException">The server refused the message, e.g. <see cref="ErrorCode.UserNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendDirectAsync(string recipient, MessageId id, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendDirectAsync(recipient, id, DateTime.UtcNow, body, cancellationToken);

    /// <summary>
    /// Sends a direct message with an id and a send time chosen by the caller: an end-to-end envelope binds both, so
    /// the frame must carry exactly the values the body was sealed with.
    /// </summary>
    /// <param name="recipient">The receiving user.</param>
    /// <param name="id">The message id; recipients drop a second message with the same id.</param>
    /// <param name="sentAt">The send time the message carries (<c>DirectMessage.SentAt</c>). A local time is converted to UTC; an unspecified one is taken as UTC.</param>
    /// <param name="body">The body. It is not copied: leave it unchanged until the task completes, since it is resent after a reconnect.</param>
    /// <param name="cancellationToken">Stops waiting; the message is then no longer resent (it may already have reached the server).</param>
    /// <returns><paramref name="id"/>, once the server has taken responsibility for the message (delivered or stored).</returns>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is empty or too long, <paramref name="id"/> is empty, or <paramref name="body"/> is larger than <see cref="MaxBodySize"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, the outbox is full, or a message with this id is already waiting for its acknowledgement.</exception>
    /// <exception cref="ChatException">The server refused the message, e.g. <see cref="ErrorCode.UserNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendDirectAsync(string recipient, MessageId id, DateTime sentAt, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ValidateName(recipient, nameof(recipient));
        ValidateId(id, nameof(id));
        ValidateSize(body, nameof(body));
        return SendMessageAsync(new OutboxEntry(this, OutboxKind.Direct, id, recipient, 0, ToUtc(sentAt), body), cancellationToken);
    }

    /// <summary>Sends a message to a group with a new random id; the server fans it out to every other member.</summary>
    /// <param name="group">The group.</param>
    /// <param name="keyEpoch">The epoch of the group key the body is encrypted with.</param>
    /// <param name="body">The body. It is not copied: leave it unchanged until the task completes, since it is resent after a reconnect.</param>
    /// <param name="cancellationToken">Stops waiting; the message is then no longer resent (it may already have reached the server).</param>
    /// <returns>The message id, once every member's copy is delivered or stored.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long, or <paramref name="body"/> is larger than <see cref="MaxBodySize"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or the outbox is full.</exception>
    /// <exception cref="ChatException">The server refused the message, e.g. <see cref="ErrorCode.NotMember"/> or <see cref="ErrorCode.GroupNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendGroupAsync(string group, int keyEpoch, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendGroupAsync(group, keyEpoch, MessageId.NewId(), body, cancellationToken);

    /// <summary>Sends a message to a group with an id chosen by the caller.</summary>
    /// <param name="group">The group.</param>
    /// <param name="keyEpoch">The epoch of the group key the body is encrypted with.</param>
    /// <param name="id">The message id; members drop a second message with the same id.</param>
    /// <param name="body">The body. It is not copied: leave it unchanged until the task completes, since it is resent after a reconnect.</param>
    /// <param name="cancellationToken">Stops waiting; the message is then no longer resent (it may already have reached the server).</param>
    /// <returns><paramref name="id"/>, once every member's copy is delivered or stored.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long, <paramref name="id"/> is empty, or <paramref name="body"/> is larger than <see cref="MaxBodySize"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, the outbox is full, or a message with this id is already waiting for its acknowledgement.</exception>
    /// <exception cref="ChatException">The server refused the message, e.g. <see cref="ErrorCode.NotMember"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendGroupAsync(string group, int keyEpoch, MessageId id, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default) =>
        SendGroupAsync(group, keyEpoch, id, DateTime.UtcNow, body, cancellationToken);

    /// <summary>Sends a message to a group with an id and a send time chosen by the caller (the values its envelope was sealed with).</summary>
    /// <param name="group">The group.</param>
    /// <param name="keyEpoch">The epoch of the group key the body is encrypted with.</param>
    /// <param name="id">The message id; members drop a second message with the same id.</param>
    /// <param name="sentAt">The send time the message carries (<c>GroupMessage.SentAt</c>). A local time is converted to UTC; an unspecified one is taken as UTC.</param>
    /// <param name="body">The body. It is not copied: leave it unchanged until the task completes, since it is resent after a reconnect.</param>
    /// <param name="cancellationToken">Stops waiting; the message is then no longer resent (it may already have reached the server).</param>
    /// <returns><paramref name="id"/>, once every member's copy is delivered or stored.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long, <paramref name="id"/> is empty, or <paramref name="body"/> is larger than <see cref="MaxBodySize"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, the outbox is full, or a message with this id is already waiting for its acknowledgement.</exception>
    /// <exception cref="ChatException">The server refused the message, e.g. <see cref="ErrorCode.NotMember"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendGroupAsync(string group, int keyEpoch, MessageId id, DateTime sentAt, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ValidateName(group, nameof(group));
        ValidateId(id, nameof(id));
        ValidateSize(body, nameof(body));
        return SendMessageAsync(new OutboxEntry(this, OutboxKind.Group, id, group, keyEpoch, ToUtc(sentAt), body), cancellationToken);
    }

    /// <summary>
    /// Sends a file to a user: <c>FileOffer</c>, the chunks, <c>FileComplete</c>. It waits for the server to keep up
    /// between chunks, so a large file is never buffered whole, and starts over on the next server if the session is
    /// lost before the acknowledgement.
    /// </summary>
    /// <param name="recipient">The receiving user.</param>
    /// <param name="envelope">The encrypted file name, hash and file key (opaque to the servers).</param>
    /// <param name="totalSize">The file's size in bytes (plaintext).</param>
    /// <param name="chunks">The chunks in order (ciphertext), each at most 64 KiB plus 256 bytes of AEAD overhead. They are not copied: leave them unchanged until the task completes.</param>
    /// <param name="cancellationToken">Stops the transfer; the file is then not resent.</param>
    /// <returns>The file id, once the server has stored the whole file for the recipient.</returns>
    /// <exception cref="ArgumentException">The recipient is empty or too long, there are no chunks, a chunk is too large, the envelope is larger than <see cref="MaxBodySize"/>, or <paramref name="totalSize"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="chunks"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or the outbox is full.</exception>
    /// <exception cref="ChatException">The server refused the file, e.g. <see cref="ErrorCode.FileTooLarge"/> or <see cref="ErrorCode.UserNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/> after the last chunk, or no session for as long.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendFileAsync(string recipient, ReadOnlyMemory<byte> envelope, long totalSize, IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default) =>
        SendFileAsync(recipient, MessageId.NewId(), envelope, totalSize, chunks, cancellationToken);

    /// <summary>Sends a file to a user with a file id chosen by the caller (see <see cref="SendFileAsync(string, ReadOnlyMemory{byte}, long, IReadOnlyList{ReadOnlyMemory{byte}}, CancellationToken)"/>).</summary>
    /// <param name="recipient">The receiving user.</param>
    /// <param name="fileId">The file id; the recipient drops a second file with the same id.</param>
    /// <param name="envelope">The encrypted file name, hash and file key (opaque to the servers).</param>
    /// <param name="totalSize">The file's size in bytes (plaintext).</param>
    /// <param name="chunks">The chunks in order, each at most 64 KiB plus 256 bytes. They are not copied: leave them unchanged until the task completes.</param>
    /// <param name="cancellationToken">Stops the transfer; the file is then not resent.</param>
    /// <returns><paramref name="fileId"/>, once the server has stored the whole file for the recipient.</returns>
    /// <exception cref="ArgumentException">The recipient is empty or too long, the id is empty, there are no chunks, a chunk is too large, the envelope is larger than <see cref="MaxBodySize"/>, or <paramref name="totalSize"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="chunks"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, the outbox is full, or a send with this id is already in progress.</exception>
    /// <exception cref="ChatException">The server refused the file, e.g. <see cref="ErrorCode.FileTooLarge"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/> after the last chunk, or no session for as long.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendFileAsync(string recipient, MessageId fileId, ReadOnlyMemory<byte> envelope, long totalSize, IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default) =>
        SendFileAsync(recipient, fileId, DateTime.UtcNow, envelope, totalSize, chunks, cancellationToken);

    /// <summary>Sends a file to a user with a file id and a send time chosen by the caller (the values its envelope was sealed with).</summary>
    /// <param name="recipient">The receiving user.</param>
    /// <param name="fileId">The file id; the recipient drops a second file with the same id.</param>
    /// <param name="sentAt">The send time the offer carries (<c>FileOffer.SentAt</c>). A local time is converted to UTC; an unspecified one is taken as UTC.</param>
    /// <param name="envelope">The encrypted file name, hash and file key (opaque to the servers).</param>
    /// <param name="totalSize">The file's size in bytes (plaintext).</param>
    /// <param name="chunks">The chunks in order, each at most 64 KiB plus 256 bytes. They are not copied: leave them unchanged until the task completes.</param>
    /// <param name="cancellationToken">Stops the transfer; the file is then not resent.</param>
    /// <returns><paramref name="fileId"/>, once the server has stored the whole file for the recipient.</returns>
    /// <exception cref="ArgumentException">The recipient is empty or too long, the id is empty, there are no chunks, a chunk is too large, the envelope is larger than <see cref="MaxBodySize"/>, or <paramref name="totalSize"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="chunks"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, the outbox is full, or a send with this id is already in progress.</exception>
    /// <exception cref="ChatException">The server refused the file, e.g. <see cref="ErrorCode.FileTooLarge"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/> after the last chunk, or no session for as long.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendFileAsync(string recipient, MessageId fileId, DateTime sentAt, ReadOnlyMemory<byte> envelope, long totalSize, IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default)
    {
        ValidateName(recipient, nameof(recipient));
        OutboxEntry entry = CreateFileEntry(OutboxKind.DirectFile, fileId, recipient, 0, sentAt, envelope, totalSize, chunks);
        return SendFileCoreAsync(entry, cancellationToken);
    }

    /// <summary>Sends a file to a group (see <see cref="SendFileAsync(string, ReadOnlyMemory{byte}, long, IReadOnlyList{ReadOnlyMemory{byte}}, CancellationToken)"/>); the server stores and forwards it to every other member.</summary>
    /// <param name="group">The group.</param>
    /// <param name="keyEpoch">The epoch of the group key the envelope is encrypted with.</param>
    /// <param name="envelope">The encrypted file name, hash and file key (opaque to the servers).</param>
    /// <param name="totalSize">The file's size in bytes (plaintext).</param>
    /// <param name="chunks">The chunks in order, each at most 64 KiB plus 256 bytes. They are not copied: leave them unchanged until the task completes.</param>
    /// <param name="cancellationToken">Stops the transfer; the file is then not resent.</param>
    /// <returns>The file id, once the server has stored the whole file for every member.</returns>
    /// <exception cref="ArgumentException">The group is empty or too long, there are no chunks, a chunk is too large, the envelope is larger than <see cref="MaxBodySize"/>, or <paramref name="totalSize"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="chunks"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or the outbox is full.</exception>
    /// <exception cref="ChatException">The server refused the file, e.g. <see cref="ErrorCode.FileTooLarge"/> or <see cref="ErrorCode.NotMember"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/> after the last chunk, or no session for as long.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendGroupFileAsync(string group, int keyEpoch, ReadOnlyMemory<byte> envelope, long totalSize, IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default) =>
        SendGroupFileAsync(group, keyEpoch, MessageId.NewId(), envelope, totalSize, chunks, cancellationToken);

    /// <summary>Sends a file to a group with a file id chosen by the caller.</summary>
    /// <param name="group">The group.</param>
    /// <param name="keyEpoch">The epoch of the group key the envelope is encrypted with.</param>
    /// <param name="fileId">The file id; members drop a second file with the same id.</param>
    /// <param name="envelope">The encrypted file name, hash and file key (opaque to the servers).</param>
    /// <param name="totalSize">The file's size in bytes (plaintext).</param>
    /// <param name="chunks">The chunks in order, each at most 64 KiB plus 256 bytes. They are not copied: leave them unchanged until the task completes.</param>
    /// <param name="cancellationToken">Stops the transfer; the file is then not resent.</param>
    /// <returns><paramref name="fileId"/>, once the server has stored the whole file for every member.</returns>
    /// <exception cref="ArgumentException">The group is empty or too long, the id is empty, there are no chunks, a chunk is too large, the envelope is larger than <see cref="MaxBodySize"/>, or <paramref name="totalSize"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="chunks"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, the outbox is full, or a send with this id is already in progress.</exception>
    /// <exception cref="ChatException">The server refused the file, e.g. <see cref="ErrorCode.FileTooLarge"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/> after the last chunk, or no session for as long.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendGroupFileAsync(string group, int keyEpoch, MessageId fileId, ReadOnlyMemory<byte> envelope, long totalSize, IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default) =>
        SendGroupFileAsync(group, keyEpoch, fileId, DateTime.UtcNow, envelope, totalSize, chunks, cancellationToken);

    /// <summary>Sends a file to a group with a file id and a send time chosen by the caller (the values its envelope was sealed with).</summary>
    /// <param name="group">The group.</param>
    /// <param name="keyEpoch">The epoch of the group key the envelope is encrypted with.</param>
    /// <param name="fileId">The file id; members drop a second file with the same id.</param>
    /// <param name="sentAt">The send time the offer carries (<c>FileOffer.SentAt</c>). A local time is converted to UTC; an unspecified one is taken as UTC.</param>
    /// <param name="envelope">The encrypted file name, hash and file key (opaque to the servers).</param>
    /// <param name="totalSize">The file's size in bytes (plaintext).</param>
    /// <param name="chunks">The chunks in order, each at most 64 KiB plus 256 bytes. They are not copied: leave them unchanged until the task completes.</param>
    /// <param name="cancellationToken">Stops the transfer; the file is then not resent.</param>
    /// <returns><paramref name="fileId"/>, once the server has stored the whole file for every member.</returns>
    /// <exception cref="ArgumentException">The group is empty or too long, the id is empty, there are no chunks, a chunk is too large, the envelope is larger than <see cref="MaxBodySize"/>, or <paramref name="totalSize"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="chunks"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, the outbox is full, or a send with this id is already in progress.</exception>
    /// <exception cref="ChatException">The server refused the file, e.g. <see cref="ErrorCode.FileTooLarge"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/> after the last chunk, or no session for as long.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<MessageId> SendGroupFileAsync(string group, int keyEpoch, MessageId fileId, DateTime sentAt, ReadOnlyMemory<byte> envelope, long totalSize, IReadOnlyList<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default)
    {
        ValidateName(group, nameof(group));
        OutboxEntry entry = CreateFileEntry(OutboxKind.GroupFile, fileId, group, keyEpoch, sentAt, envelope, totalSize, chunks);
        return SendFileCoreAsync(entry, cancellationToken);
    }

    /// <summary>
    /// Acknowledges a received message, group message or file, so that the server deletes its stored copy. Needed only
    /// with <see cref="ChatClientOptions.AutoAck"/> off. While the client is reconnecting the ack is skipped: the server
    /// delivers the message again and the client, remembering the ack, drops the copy and acknowledges it then.
    /// </summary>
    /// <param name="id">The id of the <see cref="IncomingMessage"/>.</param>
    /// <param name="cancellationToken">Stops waiting for the connection to take the ack.</param>
    /// <returns>A task that completes when the ack is queued for sending.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public ValueTask AckAsync(MessageId id, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        _recent.MarkAcknowledged(id);
        ServerSession? session = _session;
        if (session is null || !session.TryWriteAck(id))
        {
            return default;
        }

        ValueTask<bool> flush = session.FlushAsync(cancellationToken);
        return flush.IsCompletedSuccessfully ? default : AwaitFlushAsync(flush);
    }

    /// <summary>
    /// Forgets a received message that the application decided not to acknowledge yet (for example a group message
    /// whose key has not arrived), so that the server's next delivery of it (after a reconnect) reaches the application
    /// again instead of being dropped as a copy of a message still being processed.
    /// </summary>
    internal void ReleaseUnacknowledged(MessageId id) => _recent.Remove(id);

    internal void RemoveFromOutbox(OutboxEntry entry)
    {
        lock (_lock)
        {
            if (_outbox.TryGetValue(entry.Id, out OutboxEntry? queued) && ReferenceEquals(queued, entry))
            {
                _outbox.Remove(entry.Id);
            }
        }
    }

    /// <summary>Whether the current session negotiated coalesced acknowledgements (<see cref="ProtocolFeatures.AckBatch"/>).</summary>
    internal bool AckBatchNegotiated => _session?.AckBatchEnabled ?? false;

    /// <summary>The server acknowledged a message or file: complete the send.</summary>
    internal void OnAck(ServerSession session, uint requestId, MessageId id)
    {
        OutboxEntry? entry;
        lock (_lock)
        {
            _outbox.Remove(id, out entry);
        }

        if (entry is null)
        {
            // Late: the send timed out or was cancelled. Drop its request from the table (a batched ack has no request id).
            if (requestId == 0)
            {
                session.ForgetMessage(id);
            }
            else
            {
                session.ForgetMessage(requestId, id);
            }

            return;
        }

        session.Unregister(entry);
        entry.Succeed();
    }

    private static async ValueTask AwaitFlushAsync(ValueTask<bool> flush) => await flush.ConfigureAwait(false);

    // The wire carries UTC; an envelope seals the same instant (docs/security.md §2: local converted, unspecified taken as UTC).
    private static DateTime ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static void ValidateId(MessageId id, string paramName)
    {
        if (id.IsEmpty)
        {
            ThrowHelper.ThrowEmptyId(paramName);
        }
    }

    private OutboxEntry CreateFileEntry(OutboxKind kind, MessageId fileId, string target, int keyEpoch, DateTime sentAt, ReadOnlyMemory<byte> envelope, long totalSize, IReadOnlyList<ReadOnlyMemory<byte>> chunks)
    {
        ValidateId(fileId, nameof(fileId));
        ValidateSize(envelope, nameof(envelope));
        ArgumentNullException.ThrowIfNull(chunks);
        ArgumentOutOfRangeException.ThrowIfNegative(totalSize);
        if (chunks.Count == 0)
        {
            throw new ArgumentException("A file has at least one chunk.", nameof(chunks));
        }

        int limit = Math.Min(ProtocolConstants.MaxFileChunkSize + MaxChunkOverhead, MaxBodySize);
        for (int i = 0; i < chunks.Count; i++)
        {
            if (chunks[i].Length > limit)
            {
                throw new ArgumentException($"Chunk {i} is {chunks[i].Length} B; a chunk is at most {limit} B (64 KiB plus the AEAD overhead).", nameof(chunks));
            }
        }

        return new OutboxEntry(this, kind, fileId, target, keyEpoch, ToUtc(sentAt), envelope) { TotalSize = totalSize, Chunks = chunks };
    }

    /// <summary>Puts an entry in the outbox; returns the session to write it on now, if there is one.</summary>
    private ServerSession? Enqueue(OutboxEntry entry)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowDisposed();
            }

            if (_credentials is null)
            {
                ThrowHelper.ThrowNotSignedIn();
            }

            if (_outbox.Count >= _options.OutboxCapacity)
            {
                ThrowHelper.ThrowOutboxFull(_options.OutboxCapacity);
            }

            if (!_outbox.TryAdd(entry.Id, entry))
            {
                ThrowHelper.ThrowDuplicateOutboxId(entry.Id);
            }

            entry.Sequence = ++_lastSequence;
            ServerSession? session = _session;
            if (session is not null)
            {
                // Written on this generation: a reconnection resends it only if it installs a newer one.
                entry.Generation = _generation;
            }

            return session;
        }
    }

    private async Task<MessageId> SendMessageAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        ServerSession? session = Enqueue(entry);
        try
        {
            // Without a session (reconnecting) the entry waits in the outbox; the reconnection writes it.
            if (session is not null && session.TryWriteMessage(entry))
            {
                // Completes at once unless the server is behind: then the sender slows down with it.
                await session.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            return await entry.Task.WaitAsync(_options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            RemoveFromOutbox(entry);
            throw new TimeoutException(
                $"The server did not acknowledge message {entry.Id} within {_options.RequestTimeout.TotalSeconds:0.###} s; it is no longer resent. Send it again with the same id to let the recipient drop a duplicate.");
        }
        catch (OperationCanceledException)
        {
            RemoveFromOutbox(entry);
            throw;
        }
    }

    private async Task<MessageId> SendFileCoreAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        Enqueue(entry);
        try
        {
            while (true)
            {
                ServerSession session = await WaitForSessionAsync(cancellationToken).ConfigureAwait(false);
                await session.WriteFileAsync(entry, cancellationToken).ConfigureAwait(false);
                if (!entry.Task.IsCompleted)
                {
                    // The acknowledgement (or an error reply), or the end of the session, whichever comes first.
                    await Task.WhenAny(entry.Task, session.Closed).WaitAsync(_options.RequestTimeout, cancellationToken).ConfigureAwait(false);
                }

                if (entry.Task.IsCompleted)
                {
                    return await entry.Task.ConfigureAwait(false);
                }

                // The session ended before the acknowledgement: the file starts over, with the same id, on the next one.
            }
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"The server did not acknowledge file {entry.Id} within {_options.RequestTimeout.TotalSeconds:0.###} s; it is no longer resent. Send it again with the same id to let the recipient drop a duplicate.");
        }
        finally
        {
            // Already gone after an acknowledgement or an error reply; this covers timeouts and cancellation.
            RemoveFromOutbox(entry);
        }
    }

    /// <summary>The current session, or the next one if the client is reconnecting (bounded by the request timeout).</summary>
    private ValueTask<ServerSession> WaitForSessionAsync(CancellationToken cancellationToken)
    {
        Task<ServerSession> next;
        lock (_lock)
        {
            if (_disposed)
            {
                ThrowHelper.ThrowDisposed();
            }

            if (_session is { } session)
            {
                return new ValueTask<ServerSession>(session);
            }

            if (_credentials is null)
            {
                ThrowHelper.ThrowNotSignedIn();
            }

            _sessionWaiters ??= new TaskCompletionSource<ServerSession>(TaskCreationOptions.RunContinuationsAsynchronously);
            next = _sessionWaiters.Task;
        }

        return new ValueTask<ServerSession>(WaitForNextSessionAsync(next, cancellationToken));
    }

    private async Task<ServerSession> WaitForNextSessionAsync(Task<ServerSession> next, CancellationToken cancellationToken)
    {
        try
        {
            return await next.WaitAsync(_options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The client has been reconnecting for longer than the request timeout ({_options.RequestTimeout.TotalSeconds:0.###} s).");
        }
    }
}
