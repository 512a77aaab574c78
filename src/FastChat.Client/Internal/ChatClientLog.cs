using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastChat.Client.Internal;

// Every client log line, source-generated, with fixed event ids. Expected churn (a server going away, a duplicate
// dropped) logs at Debug or Information; Warning means something the application may want to know about.
internal static partial class ChatClientLog
{
    [LoggerMessage(1, LogLevel.Information, "Signed in as {UserName} on server {ServerId} ({Host}:{Port}); {PendingCount} stored message(s) follow.", EventName = "SignedIn")]
    public static partial void SignedIn(ILogger logger, string userName, string serverId, string host, int port, int pendingCount);

    [LoggerMessage(2, LogLevel.Information, "The session on server {ServerId} ended ({Reason}); signing in again through the balancer.", EventName = "SessionLost")]
    public static partial void SessionLost(ILogger logger, string serverId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Reconnection attempt {Attempt} failed: {Message} Retrying in {Delay}.", EventName = "ReconnectAttemptFailed")]
    public static partial void ReconnectAttemptFailed(ILogger logger, int attempt, string message, TimeSpan delay, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Reconnected as {UserName} on server {ServerId}; {ResentCount} unacknowledged message(s) resent.", EventName = "Reconnected")]
    public static partial void Reconnected(ILogger logger, string userName, string serverId, int resentCount);

    [LoggerMessage(5, LogLevel.Error, "Reconnecting as {UserName} failed for good: {Message}", EventName = "ReconnectGaveUp")]
    public static partial void ReconnectGaveUp(ILogger logger, string userName, string message, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "{Peer} sent an error that answers no pending request: {ErrorCode}: {Message}", EventName = "UnsolicitedError")]
    public static partial void UnsolicitedError(ILogger logger, string peer, ErrorCode errorCode, string message);

    [LoggerMessage(7, LogLevel.Warning, "{Peer} sent a malformed {Opcode} message, which is skipped: {Message}", EventName = "BadMessage")]
    public static partial void BadMessage(ILogger logger, string peer, Opcode opcode, string message);

    [LoggerMessage(8, LogLevel.Debug, "Dropped a duplicate of message {MessageId}.", EventName = "DuplicateDropped")]
    public static partial void DuplicateDropped(ILogger logger, MessageId messageId);

    [LoggerMessage(9, LogLevel.Warning, "Dropped incoming file {FileId}: {Reason} It stays pending on the server and is delivered again at the next sign-in.", EventName = "FileDropped")]
    public static partial void FileDropped(ILogger logger, MessageId fileId, string reason);

    [LoggerMessage(10, LogLevel.Debug, "{Peer} sent {Opcode} for request {RequestId}, which is not pending (it timed out or was cancelled).", EventName = "UnexpectedReply")]
    public static partial void UnexpectedReply(ILogger logger, string peer, Opcode opcode, uint requestId);

    [LoggerMessage(11, LogLevel.Information, "Signed out as {UserName}.", EventName = "SignedOut")]
    public static partial void SignedOut(ILogger logger, string userName);

    [LoggerMessage(12, LogLevel.Warning, "The session on server {ServerId} ended ({Reason}) and automatic reconnection is off.", EventName = "SessionEnded")]
    public static partial void SessionEnded(ILogger logger, string serverId, string reason);

    [LoggerMessage(13, LogLevel.Information, "Server {ServerId} asked the client to reconnect: {Reason} (retry after {RetryAfterMilliseconds} ms).", EventName = "ReconnectRequested")]
    public static partial void ReconnectRequested(ILogger logger, string serverId, string reason, int retryAfterMilliseconds);
}
