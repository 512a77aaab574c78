using System.Net;
using Microsoft.Extensions.Logging;

namespace FastChat.Transport;

// Every transport log line, source-generated, with fixed event ids (stable across releases: alerts and
// dashboards may key on them). Expected disconnects log at Debug; only failures that point at a bug or a
// broken machine log at Error, always with the connection id.
internal static partial class TransportLog
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} accepted from {RemoteEndPoint}.", EventName = "ConnectionAccepted")]
    public static partial void ConnectionAccepted(ILogger logger, long connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} connected to {RemoteEndPoint}.", EventName = "ConnectionEstablished")]
    public static partial void ConnectionEstablished(ILogger logger, long connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(3, LogLevel.Debug, "Connection {ConnectionId} closed: {CloseReason}.", EventName = "ConnectionClosed")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId, CloseReason closeReason);

    [LoggerMessage(4, LogLevel.Debug, "Connection {ConnectionId} was reset by the peer.", EventName = "ConnectionReset")]
    public static partial void ConnectionReset(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(5, LogLevel.Error, "Connection {ConnectionId} failed with an unexpected transport error.", EventName = "ConnectionError")]
    public static partial void ConnectionError(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "Connection from {RemoteEndPoint} closed on arrival ({CloseReason}): the limit of {MaxConnections} connections is reached.", EventName = "ConnectionRejected")]
    public static partial void ConnectionRejected(ILogger logger, EndPoint? remoteEndPoint, CloseReason closeReason, int maxConnections);

    [LoggerMessage(7, LogLevel.Debug, "Connection {ConnectionId} received FIN: the peer finished sending.", EventName = "ConnectionReadFin")]
    public static partial void ConnectionReadFin(ILogger logger, long connectionId);

    [LoggerMessage(8, LogLevel.Debug, "Connection {ConnectionId} paused receiving: the application is not reading fast enough.", EventName = "ConnectionPause")]
    public static partial void ConnectionPause(ILogger logger, long connectionId);

    [LoggerMessage(9, LogLevel.Debug, "Connection {ConnectionId} resumed receiving.", EventName = "ConnectionResume")]
    public static partial void ConnectionResume(ILogger logger, long connectionId);

    [LoggerMessage(10, LogLevel.Debug, "Connection {ConnectionId} received nothing for {IdleTimeout} and is closed.", EventName = "IdleTimeout")]
    public static partial void IdleTimeout(ILogger logger, long connectionId, TimeSpan idleTimeout);

    [LoggerMessage(11, LogLevel.Warning, "Connection {ConnectionId} is aborted as a slow consumer: {PendingBytes} B would be waiting to be sent, over the limit of {MaxPendingSendBytes} B.", EventName = "SlowConsumer")]
    public static partial void SlowConsumer(ILogger logger, long connectionId, long pendingBytes, long maxPendingSendBytes);

    [LoggerMessage(12, LogLevel.Debug, "Connection {ConnectionId} announced a frame of {FrameLength} B, over the limit of {MaxFrameSize} B, and is closed.", EventName = "FrameTooLarge")]
    public static partial void FrameTooLarge(ILogger logger, long connectionId, long frameLength, int maxFrameSize);

    [LoggerMessage(13, LogLevel.Debug, "Connection {ConnectionId} broke the protocol and is closed: {Message}", EventName = "ProtocolViolation")]
    public static partial void ProtocolViolation(ILogger logger, long connectionId, string message);

    [LoggerMessage(14, LogLevel.Error, "The frame handler failed on connection {ConnectionId}; the connection is aborted.", EventName = "FrameHandlerError")]
    public static partial void FrameHandlerError(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(15, LogLevel.Information, "Listening on {EndPoint}.", EventName = "ListenerBound")]
    public static partial void ListenerBound(ILogger logger, EndPoint endPoint);

    [LoggerMessage(16, LogLevel.Information, "Stopped listening on {EndPoint}.", EventName = "ListenerUnbound")]
    public static partial void ListenerUnbound(ILogger logger, EndPoint endPoint);

    [LoggerMessage(17, LogLevel.Error, "Accepting a connection on {EndPoint} failed.", EventName = "AcceptError")]
    public static partial void AcceptError(ILogger logger, EndPoint endPoint, Exception exception);

    [LoggerMessage(18, LogLevel.Debug, "The TLS handshake of connection {ConnectionId} failed: {Message}", EventName = "TlsHandshakeFailed")]
    public static partial void TlsHandshakeFailed(ILogger logger, long connectionId, string message, Exception? exception);

    [LoggerMessage(19, LogLevel.Debug, "Connection {ConnectionId} could not send its queued output within {CloseTimeout} while closing and is aborted.", EventName = "CloseTimedOut")]
    public static partial void CloseTimedOut(ILogger logger, long connectionId, TimeSpan closeTimeout);

    [LoggerMessage(20, LogLevel.Error, "A ConnectionClosed callback of connection {ConnectionId} threw.", EventName = "ConnectionClosedCallbackError")]
    public static partial void ConnectionClosedCallbackError(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(21, LogLevel.Debug, "Connection {ConnectionId} broke off: {CloseReason}.", EventName = "ConnectionBrokenOff")]
    public static partial void ConnectionBrokenOff(ILogger logger, long connectionId, CloseReason closeReason, Exception exception);

    [LoggerMessage(22, LogLevel.Error, "Connection {ConnectionId}'s transport loops did not stop within {CloseTimeout} after the connection closed.", EventName = "LoopsDidNotStop")]
    public static partial void LoopsDidNotStop(ILogger logger, long connectionId, TimeSpan closeTimeout);
}
