using System.Net;
using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastChat.Hosts.Server.Internal;

// Every chat-server log line, source-generated, with fixed event ids (3000-3099; stable across releases, so alerts
// may key on them). Client misbehaviour and expected disconnects log at Debug, trouble with the balancer or peers
// at Warning, failures that lose service (the store) at Error.
internal static partial class ServerLog
{
    [LoggerMessage(3001, LogLevel.Information, "Chat server {ServerId} listening on {EndPoint} (advertised as {Host}:{Port}).", EventName = "ServerStarted")]
    public static partial void ServerStarted(ILogger logger, string serverId, EndPoint endPoint, string host, int port);

    [LoggerMessage(3002, LogLevel.Information, "Chat server {ServerId} is shutting down: {Sessions} session(s) told to reconnect.", EventName = "ServerStopping")]
    public static partial void ServerStopping(ILogger logger, string serverId, int sessions);

    [LoggerMessage(3003, LogLevel.Information, "Chat server {ServerId} stopped.", EventName = "ServerStopped")]
    public static partial void ServerStopped(ILogger logger, string serverId);

    [LoggerMessage(3004, LogLevel.Debug, "Connection {ConnectionId} resumed the session of {UserName} ({PendingCount} pending).", EventName = "SessionResumed")]
    public static partial void SessionResumed(ILogger logger, long connectionId, string userName, int pendingCount);

    [LoggerMessage(3005, LogLevel.Debug, "Session of {UserName} on connection {ConnectionId} ended: {CloseReason}.", EventName = "SessionEnded")]
    public static partial void SessionEnded(ILogger logger, string userName, long connectionId, FastChat.Transport.CloseReason closeReason);

    [LoggerMessage(3006, LogLevel.Debug, "Connection {ConnectionId} presented a session token that is {Status}.", EventName = "TokenRejected")]
    public static partial void TokenRejected(ILogger logger, long connectionId, Security.SessionTokenStatus status);

    [LoggerMessage(3007, LogLevel.Warning, "{UserName} (connection {ConnectionId}) is disconnected as a slow consumer: {PendingBytes} B unsent, over the limit of {Limit} B.", EventName = "SlowConsumer")]
    public static partial void SlowConsumer(ILogger logger, string userName, long connectionId, long pendingBytes, long limit);

    [LoggerMessage(3008, LogLevel.Error, "The store failed while {Operation}.", EventName = "StoreFailed")]
    public static partial void StoreFailed(ILogger logger, string operation, Exception exception);

    [LoggerMessage(3009, LogLevel.Information, "Registered with the balancer at {Balancer}.", EventName = "BalancerRegistered")]
    public static partial void BalancerRegistered(ILogger logger, string balancer);

    [LoggerMessage(3010, LogLevel.Warning, "The balancer at {Balancer} is not reachable ({Message}); retrying in the background.", EventName = "BalancerUnavailable")]
    public static partial void BalancerUnavailable(ILogger logger, string balancer, string message);

    [LoggerMessage(3011, LogLevel.Debug, "The balancer at {Balancer} is still not reachable ({Message}); next attempt in {Delay}.", EventName = "BalancerStillUnavailable")]
    public static partial void BalancerStillUnavailable(ILogger logger, string balancer, string message, TimeSpan delay);

    [LoggerMessage(3012, LogLevel.Warning, "The balancer refused the registration: {Code} {Message}", EventName = "BalancerRejected")]
    public static partial void BalancerRejected(ILogger logger, ErrorCode code, string message);

    [LoggerMessage(3013, LogLevel.Information, "Peer link to {PeerId} open ({Direction}).", EventName = "PeerLinkOpened")]
    public static partial void PeerLinkOpened(ILogger logger, string peerId, string direction);

    [LoggerMessage(3014, LogLevel.Information, "Peer link to {PeerId} closed: {CloseReason}; {Stored} relayed message(s) stored for later delivery.", EventName = "PeerLinkClosed")]
    public static partial void PeerLinkClosed(ILogger logger, string peerId, FastChat.Transport.CloseReason closeReason, int stored);

    [LoggerMessage(3015, LogLevel.Warning, "Could not open a peer link to {PeerId}: {Message}", EventName = "PeerLinkFailed")]
    public static partial void PeerLinkFailed(ILogger logger, string peerId, string message);

    [LoggerMessage(3016, LogLevel.Warning, "Connection {ConnectionId} from {RemoteEndPoint} failed peer authentication: {Message}", EventName = "PeerAuthenticationFailed")]
    public static partial void PeerAuthenticationFailed(ILogger logger, long connectionId, EndPoint? remoteEndPoint, string message);

    [LoggerMessage(3017, LogLevel.Debug, "Stored {Count} delivery(ies) for {UserName}: {Reason}.", EventName = "DeliveriesStored")]
    public static partial void DeliveriesStored(ILogger logger, int count, string userName, string reason);

    [LoggerMessage(3018, LogLevel.Debug, "Connection {ConnectionId} handshake rejected: {Message}", EventName = "HandshakeRejected")]
    public static partial void HandshakeRejected(ILogger logger, long connectionId, string message);

    [LoggerMessage(3019, LogLevel.Debug, "Connection {ConnectionId} sent a bad {Opcode}: {Message}", EventName = "BadMessage")]
    public static partial void BadMessage(ILogger logger, long connectionId, Opcode opcode, string message);

    [LoggerMessage(3020, LogLevel.Debug, "Dropped a relay receipt for {Sender} to {PeerId}: no link.", EventName = "ReceiptDropped")]
    public static partial void ReceiptDropped(ILogger logger, string sender, string peerId);
}
