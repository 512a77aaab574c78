using FastChat.Protocol.Messages;

namespace FastChat.Client;

/// <summary>Something that happened to a signed-in <see cref="ChatClient"/>, read with <see cref="ChatClient.ReadEventsAsync"/>.</summary>
/// <remarks>
/// The concrete events are <see cref="DirectMessageReceived"/>, <see cref="GroupMessageReceived"/>, <see cref="FileReceived"/>,
/// <see cref="GroupKeyReceived"/>, <see cref="GroupChangedEvent"/>, <see cref="MessageDelivered"/> and
/// <see cref="ConnectionStateChanged"/>; match on the type. Byte payloads are copies the application owns.
/// </remarks>
public abstract record ChatEvent;

/// <summary>A received message, group message or file: it carries an id and is acknowledged (automatically with <see cref="ChatClientOptions.AutoAck"/>, or with <see cref="ChatClient.AckAsync"/>).</summary>
/// <param name="Id">The id the sender chose; the client drops later copies with the same id.</param>
/// <param name="From">The sender, as authenticated by the server.</param>
/// <param name="SentAt">When the sender sent it (UTC, the sender's clock).</param>
public abstract record IncomingMessage(MessageId Id, string From, DateTime SentAt) : ChatEvent;

/// <summary>A direct message to this user.</summary>
/// <param name="Id">The message id.</param>
/// <param name="From">The sender.</param>
/// <param name="SentAt">When the sender sent it (UTC, the sender's clock).</param>
/// <param name="Body">The body (ciphertext once end-to-end encryption is on), as the sender wrote it.</param>
public sealed record DirectMessageReceived(MessageId Id, string From, DateTime SentAt, ReadOnlyMemory<byte> Body)
    : IncomingMessage(Id, From, SentAt);

/// <summary>A message to a group this user belongs to.</summary>
/// <param name="Id">The message id.</param>
/// <param name="From">The sender.</param>
/// <param name="Group">The group.</param>
/// <param name="KeyEpoch">The epoch of the group key the body is encrypted with.</param>
/// <param name="SentAt">When the sender sent it (UTC, the sender's clock).</param>
/// <param name="Body">The body, as the sender wrote it.</param>
public sealed record GroupMessageReceived(MessageId Id, string From, string Group, int KeyEpoch, DateTime SentAt, ReadOnlyMemory<byte> Body)
    : IncomingMessage(Id, From, SentAt);

/// <summary>A whole file (all its chunks arrived), to this user or to one of its groups.</summary>
/// <param name="Id">The file id.</param>
/// <param name="From">The sender.</param>
/// <param name="Recipient">This user for a direct file; empty for a group file.</param>
/// <param name="Group">The group for a group file; empty for a direct file.</param>
/// <param name="KeyEpoch">For a group file, the group key epoch of the envelope; 0 otherwise.</param>
/// <param name="SentAt">When the sender sent it (UTC, the sender's clock).</param>
/// <param name="Envelope">The sender's envelope (encrypted name, hash and file key).</param>
/// <param name="TotalSize">The file's size as the sender announced it.</param>
/// <param name="Chunks">The chunks in order, each as the sender wrote it.</param>
public sealed record FileReceived(
    MessageId Id,
    string From,
    string Recipient,
    string Group,
    int KeyEpoch,
    DateTime SentAt,
    ReadOnlyMemory<byte> Envelope,
    long TotalSize,
    IReadOnlyList<ReadOnlyMemory<byte>> Chunks)
    : IncomingMessage(Id, From, SentAt);

/// <summary>A group key wrapped for this user by the group's admin. The server delivers the stored envelopes again at every sign-in.</summary>
/// <param name="Group">The group.</param>
/// <param name="Epoch">The key's epoch.</param>
/// <param name="Sender">The admin who wrapped it.</param>
/// <param name="Envelope">The wrapped key.</param>
public sealed record GroupKeyReceived(string Group, int Epoch, string Sender, ReadOnlyMemory<byte> Envelope) : ChatEvent;

/// <summary>A change to a group this user belongs to (or was just removed from).</summary>
/// <param name="Group">The group.</param>
/// <param name="Kind">What changed.</param>
/// <param name="Member">The member concerned (added, removed or leaving).</param>
/// <param name="Actor">Who made the change.</param>
/// <param name="Epoch">The group key epoch after the change.</param>
public sealed record GroupChangedEvent(string Group, GroupChangeKind Kind, string Member, string Actor, int Epoch) : ChatEvent;

/// <summary>A direct message this user sent was acknowledged by its recipient.</summary>
/// <param name="Id">The message id.</param>
/// <param name="Recipient">The recipient who acknowledged it.</param>
public sealed record MessageDelivered(MessageId Id, string Recipient) : ChatEvent;

/// <summary>The client's session changed state.</summary>
/// <param name="State">The new state.</param>
/// <param name="Reason">Why, for logs and status lines.</param>
/// <param name="Error">The error behind a <see cref="ConnectionState.Reconnecting"/> or <see cref="ConnectionState.Disconnected"/>, if any.</param>
public sealed record ConnectionStateChanged(ConnectionState State, string Reason, Exception? Error = null) : ChatEvent;
