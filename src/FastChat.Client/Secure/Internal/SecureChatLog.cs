using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastChat.Client.Secure.Internal;

// Every log line of the end-to-end layer (category FastChat.Client.Secure), source-generated with fixed event ids.
// Warning means a message, key or file was refused or could not be handled; routine decisions log at Debug.
internal static partial class SecureChatLog
{
    [LoggerMessage(1, LogLevel.Information, "Signed in as {UserName} with identity {Fingerprint}.", EventName = "SignedIn")]
    public static partial void SignedIn(ILogger logger, string userName, string fingerprint);

    [LoggerMessage(2, LogLevel.Warning, "Message {Id} from {Sender} was refused and acknowledged: {Reason}", EventName = "MessageRejected")]
    public static partial void MessageRejected(ILogger logger, MessageId id, string sender, string reason);

    [LoggerMessage(3, LogLevel.Information, "Message {Id} from {Sender} waits, unacknowledged: {Reason} (held in memory: {Held}).", EventName = "MessageHeld")]
    public static partial void MessageHeld(ILogger logger, MessageId id, string sender, string reason, bool held);

    [LoggerMessage(4, LogLevel.Debug, "Message {Id} from {Sender} was already received; the copy is acknowledged and dropped.", EventName = "DuplicateDropped")]
    public static partial void DuplicateDropped(ILogger logger, MessageId id, string sender);

    [LoggerMessage(5, LogLevel.Debug, "Key of group {Group}, epoch {Epoch}, from {Admin} added.", EventName = "GroupKeyAdded")]
    public static partial void GroupKeyAdded(ILogger logger, string group, int epoch, string admin);

    [LoggerMessage(6, LogLevel.Warning, "A key of group {Group}, epoch {Epoch}, from {Sender} was refused: {Reason}", EventName = "GroupKeyRejected")]
    public static partial void GroupKeyRejected(ILogger logger, string group, int epoch, string sender, string reason);

    [LoggerMessage(7, LogLevel.Information, "Issued the key of group {Group} for epoch {Epoch} and wrapped it for {MemberCount} member(s).", EventName = "GroupKeyIssued")]
    public static partial void GroupKeyIssued(ILogger logger, string group, int epoch, int memberCount);

    [LoggerMessage(8, LogLevel.Warning, "The identity key of {UserName} changed: pinned {Pinned}, now {Current}.", EventName = "KeyChanged")]
    public static partial void KeyChanged(ILogger logger, string userName, string pinned, string current);

    [LoggerMessage(9, LogLevel.Warning, "{Operation} failed: {Message}", EventName = "BackgroundFailed")]
    public static partial void BackgroundFailed(ILogger logger, string operation, string message, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "Handling a {EventType} failed: {Message}", EventName = "EventFailed")]
    public static partial void EventFailed(ILogger logger, string eventType, string message, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "Message {Id} from {Sender} stays pending on the server: {Message}", EventName = "MessageLeftPending")]
    public static partial void MessageLeftPending(ILogger logger, MessageId id, string sender, string message, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "The key of group {Group}, epoch {Epoch}, was not wrapped for {Member}: {Reason}", EventName = "KeyNotWrapped")]
    public static partial void KeyNotWrapped(ILogger logger, string group, int epoch, string member, string reason);

    [LoggerMessage(13, LogLevel.Warning, "Pinned the new identity of {UserName} itself ({Fingerprint}): its private keys opened with the password, so they are the account's own.", EventName = "OwnKeyRepinned")]
    public static partial void OwnKeyRepinned(ILogger logger, string userName, string fingerprint);

    [LoggerMessage(14, LogLevel.Information, "Trusted the new identity key of {UserName} ({Fingerprint}).", EventName = "KeyTrusted")]
    public static partial void KeyTrusted(ILogger logger, string userName, string fingerprint);
}
