namespace FastChat.Transport;

/// <summary>
/// Why a connection closed. The first reason recorded wins: later aborts, errors and closes never overwrite it,
/// so <see cref="FastChatConnection.CloseReason"/> answers "why did this connection drop?".
/// </summary>
/// <remarks>The values are stable: they may be logged, exported as metric tags or sent to a peer.</remarks>
public enum CloseReason
{
    /// <summary>The connection is still open.</summary>
    None = 0,

    /// <summary>The application closed the connection (<see cref="FastChatConnection.CloseAsync"/> or <see cref="FastChatConnection.DisposeAsync"/>).</summary>
    LocalClose = 1,

    /// <summary>The peer finished sending (TCP FIN) before the application closed its side.</summary>
    RemoteClose = 2,

    /// <summary>The application aborted the connection without a more specific reason.</summary>
    Aborted = 3,

    /// <summary>The peer broke the wire protocol: a truncated frame, or a message the application rejected as malformed.</summary>
    ProtocolViolation = 4,

    /// <summary>The peer announced a frame larger than the connection's maximum frame size.</summary>
    FrameTooLarge = 5,

    /// <summary>The peer did not read fast enough: its queued output passed <see cref="TransportOptions.MaxPendingSendBytes"/>.</summary>
    SlowConsumer = 6,

    /// <summary>Nothing was received for <see cref="TransportOptions.IdleTimeout"/>.</summary>
    IdleTimeout = 7,

    /// <summary>An unexpected socket or stream error.</summary>
    TransportError = 8,

    /// <summary>The listener was at <see cref="ListenerOptions.MaxConnections"/> when the connection arrived.</summary>
    ConnectionLimit = 9,

    /// <summary>The listener or host that owned the connection shut down.</summary>
    Shutdown = 10,

    /// <summary>The TLS handshake failed or timed out, or the TLS stream broke.</summary>
    TlsFailure = 11,

    /// <summary>The peer reset the connection (TCP RST) or the network dropped it.</summary>
    ConnectionReset = 12,

    /// <summary>The application's frame handler failed with an unexpected exception.</summary>
    ApplicationError = 13,
}
