using System.Net;
using System.Net.Sockets;
using FastChat.Protocol;

namespace FastChat.Transport;

/// <summary>
/// The peer reset the connection (TCP RST), or the network dropped it. Completes the connection's
/// <see cref="FastChatConnection.Input"/> so a pending read learns why no more data will come.
/// </summary>
public sealed class ConnectionResetException : FastChatException
{
    /// <summary>Creates the exception with a message and the socket or stream error behind it.</summary>
    public ConnectionResetException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The connection was closed on this side for a reason other than an orderly close: an abort, a protocol
/// violation, a slow consumer, an idle timeout or a shutdown. <see cref="Reason"/> says which.
/// </summary>
public sealed class ConnectionAbortedException : FastChatException
{
    /// <summary>Creates the exception for the given reason.</summary>
    public ConnectionAbortedException(CloseReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Why the connection was closed.</summary>
    public CloseReason Reason { get; }
}

/// <summary>An unexpected socket or stream error (anything other than a reset or a local abort).</summary>
public sealed class TransportException : FastChatException
{
    /// <summary>Creates the exception with a message and the error behind it.</summary>
    public TransportException(string message, Exception? innerException)
        : base(message, innerException)
    {
        SocketError = innerException switch
        {
            SocketException socketException => socketException.SocketErrorCode,
            { InnerException: SocketException socketException } => socketException.SocketErrorCode,
            _ => SocketError.SocketError,
        };
    }

    /// <summary>The socket error code, or <see cref="SocketError.SocketError"/> when the error did not come from a socket.</summary>
    public SocketError SocketError { get; }
}

/// <summary>
/// <see cref="FastChatConnector"/> did not establish the connection (TCP connect and, with TLS, the handshake)
/// within <see cref="ConnectorOptions.ConnectTimeout"/>.
/// </summary>
public sealed class ConnectTimeoutException : FastChatException
{
    /// <summary>Creates the exception for a connection to <paramref name="endPoint"/> that took longer than <paramref name="timeout"/>.</summary>
    public ConnectTimeoutException(EndPoint endPoint, TimeSpan timeout)
        : base($"Connecting to {endPoint} timed out after {timeout.TotalMilliseconds:0} ms.")
    {
        EndPoint = endPoint;
        Timeout = timeout;
    }

    /// <summary>The endpoint that was being connected to.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The limit that was reached.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>
/// The TLS handshake failed: the peer's certificate was rejected (the message says why: pin mismatch, untrusted
/// chain, wrong host name), the protocols did not match, or the handshake timed out.
/// </summary>
public sealed class TlsHandshakeException : FastChatException
{
    /// <summary>Creates the exception with a message and the error behind it.</summary>
    public TlsHandshakeException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
