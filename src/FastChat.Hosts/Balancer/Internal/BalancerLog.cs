using System.Net;
using FastChat.Protocol.Messages;
using FastChat.Transport;
using Microsoft.Extensions.Logging;

namespace FastChat.Hosts.Balancer.Internal;

// Every balancer log line, source-generated, with fixed event ids (stable across releases: alerts may key on them).
// What a client does wrong logs at Debug (a hostile client must not be able to flood the log at higher levels);
// what operators must know about (servers coming and going, refused registrations, a user name or address
// reaching its sign-in failure limit — once, not per refused attempt — and store failures) logs at Information or
// above.
internal static partial class BalancerLog
{
    [LoggerMessage(1, LogLevel.Information, "Balancer listening on {EndPoint}, assigning chat servers by {Strategy}.", EventName = "BalancerStarted")]
    public static partial void Started(ILogger logger, EndPoint endPoint, string strategy);

    [LoggerMessage(2, LogLevel.Information, "Balancer on {EndPoint} stopped.", EventName = "BalancerStopped")]
    public static partial void Stopped(ILogger logger, EndPoint endPoint);

    [LoggerMessage(3, LogLevel.Information, "Chat server {ServerId} registered from {RemoteEndPoint}; its clients connect to {Host}:{Port}.", EventName = "ServerRegistered")]
    public static partial void ServerRegistered(ILogger logger, string serverId, EndPoint? remoteEndPoint, string host, int port);

    [LoggerMessage(4, LogLevel.Warning, "Chat server {ServerId} registered again from {RemoteEndPoint}; its previous link is closed.", EventName = "ServerReplaced")]
    public static partial void ServerReplaced(ILogger logger, string serverId, EndPoint? remoteEndPoint);

    [LoggerMessage(5, LogLevel.Information, "Chat server {ServerId} disconnected ({CloseReason}); it is no longer assigned.", EventName = "ServerDisconnected")]
    public static partial void ServerDisconnected(ILogger logger, string serverId, CloseReason closeReason);

    [LoggerMessage(6, LogLevel.Warning, "Chat server {ServerId} sent no load report for {Silence}, over the limit of {ServerTimeout}; it is no longer assigned.", EventName = "ServerStale")]
    public static partial void ServerStale(ILogger logger, string serverId, TimeSpan silence, TimeSpan serverTimeout);

    [LoggerMessage(7, LogLevel.Information, "Chat server {ServerId} reports again; it is assigned again.", EventName = "ServerLiveAgain")]
    public static partial void ServerLiveAgain(ILogger logger, string serverId);

    [LoggerMessage(8, LogLevel.Warning, "Refused the registration of chat server {ServerId} from {RemoteEndPoint}: {Reason}", EventName = "ServerRegistrationRefused")]
    public static partial void RegistrationRefused(ILogger logger, string serverId, EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(9, LogLevel.Information, "User {UserName} signed up from {RemoteEndPoint}.", EventName = "SignedUp")]
    public static partial void SignedUp(ILogger logger, string userName, EndPoint? remoteEndPoint);

    [LoggerMessage(10, LogLevel.Debug, "User {UserName} signed in from {RemoteEndPoint} and was assigned to chat server {ServerId}.", EventName = "SignedIn")]
    public static partial void SignedIn(ILogger logger, string userName, EndPoint? remoteEndPoint, string serverId);

    [LoggerMessage(11, LogLevel.Debug, "A sign-in as {UserName} from {RemoteEndPoint} failed: wrong user name or password.", EventName = "SignInFailed")]
    public static partial void SignInFailed(ILogger logger, string userName, EndPoint? remoteEndPoint);

    [LoggerMessage(12, LogLevel.Debug, "A sign-in as {UserName} from {RemoteEndPoint} was refused after too many failed attempts; retry allowed in {RetryAfter}.", EventName = "SignInRateLimited")]
    public static partial void SignInRateLimited(ILogger logger, string userName, EndPoint? remoteEndPoint, TimeSpan retryAfter);

    [LoggerMessage(13, LogLevel.Warning, "No live chat server to assign user {UserName} to.", EventName = "NoServerAvailable")]
    public static partial void NoServerAvailable(ILogger logger, string userName);

    [LoggerMessage(14, LogLevel.Error, "The store failed while connection {ConnectionId} was served; the request was answered with InternalError.", EventName = "StoreFailed")]
    public static partial void StoreFailed(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(15, LogLevel.Debug, "Connection {ConnectionId} sent a bad {Opcode} message: {Message}", EventName = "BadMessage")]
    public static partial void BadMessage(ILogger logger, long connectionId, Opcode opcode, string message);

    [LoggerMessage(16, LogLevel.Debug, "Connection {ConnectionId} ({Role}) sent {Opcode}, which is not allowed now.", EventName = "UnexpectedMessage")]
    public static partial void UnexpectedMessage(ILogger logger, long connectionId, string role, Opcode opcode);

    [LoggerMessage(17, LogLevel.Debug, "Connection {ConnectionId} was refused at Hello: {Reason}", EventName = "HelloRefused")]
    public static partial void HelloRefused(ILogger logger, long connectionId, string reason);

    [LoggerMessage(18, LogLevel.Warning, "User name {UserName} had {Limit} failed sign-ins within {Window}; further attempts are refused until they age out.", EventName = "UserRateLimited")]
    public static partial void UserLimited(ILogger logger, string userName, int limit, TimeSpan window);

    [LoggerMessage(19, LogLevel.Warning, "Address {Address} had {Limit} failed sign-ins within {Window}; further attempts from it are refused until they age out.", EventName = "AddressRateLimited")]
    public static partial void AddressLimited(ILogger logger, IPAddress address, int limit, TimeSpan window);
}
