using FastChat.Protocol.Messages;

namespace FastChat.Client.Secure;

/// <summary>Something that happened to a signed-in <see cref="SecureChatClient"/>, read with <see cref="SecureChatClient.ReadEventsAsync"/>.</summary>
/// <remarks>
/// The concrete events are <see cref="TextReceived"/>, <see cref="FileSaved"/>, <see cref="MessageDeliveredTo"/>,
/// <see cref="GroupNotice"/>, <see cref="KeyChanged"/>, <see cref="SecurityWarning"/> and <see cref="ConnectionChanged"/>;
/// match on the type and skip the ones you do not know (later versions may add more).
/// </remarks>
public abstract record SecureChatEvent;

/// <summary>A text message, verified and decrypted, already recorded in the history and acknowledged.</summary>
/// <param name="Id">The message id the sender chose.</param>
/// <param name="From">The sender, whose signature was verified against its pinned key.</param>
/// <param name="Group">The group of a group message; <see langword="null"/> for a direct message.</param>
/// <param name="SentAt">When the sender sent it (UTC, by the sender's clock; signed, so the server cannot change it).</param>
/// <param name="Text">The text.</param>
public sealed record TextReceived(MessageId Id, string From, string? Group, DateTime SentAt, string Text) : SecureChatEvent;

/// <summary>A file or image, verified, decrypted and saved in <see cref="SecureChatOptions.DownloadDirectory"/>, already recorded in the history and acknowledged.</summary>
/// <param name="Id">The file id the sender chose.</param>
/// <param name="From">The sender.</param>
/// <param name="Group">The group of a group file; <see langword="null"/> for a direct file.</param>
/// <param name="SentAt">When the sender sent it (UTC, by the sender's clock).</param>
/// <param name="Path">Where it was saved (a full path). Never an existing file: a name already taken gets a number, <c>name (1).ext</c>.</param>
/// <param name="FileName">The name the sender gave, made safe as a file name (no folders, no control characters).</param>
/// <param name="Size">The file's size in bytes.</param>
public sealed record FileSaved(MessageId Id, string From, string? Group, DateTime SentAt, string Path, string FileName, long Size) : SecureChatEvent;

/// <summary>A recipient acknowledged a direct message or file this user sent; the history records it as delivered.</summary>
/// <param name="Id">The message id.</param>
/// <param name="Recipient">Who acknowledged it.</param>
public sealed record MessageDeliveredTo(MessageId Id, string Recipient) : SecureChatEvent;

/// <summary>A change to one of this user's groups, as the server reports it.</summary>
/// <param name="Group">The group.</param>
/// <param name="Kind">What changed.</param>
/// <param name="Member">The member added, removed or leaving.</param>
/// <param name="Actor">Who made the change.</param>
/// <param name="Epoch">The group key epoch after the change. After a removal or a departure the admin's client issues a key for it; until then group sends wait.</param>
public sealed record GroupNotice(string Group, GroupChangeKind Kind, string Member, string Actor, int Epoch) : SecureChatEvent;

/// <summary>
/// A contact's public keys differ from the ones pinned when the contact was first seen: the contact re-created the
/// account, or someone (the server) is substituting keys. Nothing is sent to the contact and nothing from it is opened
/// until the user compares fingerprints and calls <see cref="SecureChatClient.TrustNewKey"/>.
/// </summary>
/// <param name="UserName">The contact.</param>
/// <param name="PinnedFingerprint">The fingerprint pinned so far.</param>
/// <param name="NewFingerprint">The fingerprint of the keys the server now returns.</param>
public sealed record KeyChanged(string UserName, string PinnedFingerprint, string NewFingerprint) : SecureChatEvent;

/// <summary>
/// A message, file or group key was refused: a bad signature, tampering, a wrong recipient, a malformed payload, a key
/// from someone who is not the group's admin, or a sender whose key changed; or it waits for a group key that has not
/// arrived (<c>no key for epoch N yet</c>). Nothing of it was shown or recorded.
/// </summary>
/// <param name="Id">The message or file id, or <see langword="null"/> for a group key.</param>
/// <param name="From">The claimed sender.</param>
/// <param name="Reason">What was wrong, for the user.</param>
public sealed record SecurityWarning(MessageId? Id, string From, string Reason) : SecureChatEvent;

/// <summary>The session changed state: connected, reconnecting (messages sent meanwhile wait), or disconnected.</summary>
/// <param name="State">The new state.</param>
/// <param name="Reason">Why, for status lines.</param>
public sealed record ConnectionChanged(ConnectionState State, string Reason) : SecureChatEvent;
