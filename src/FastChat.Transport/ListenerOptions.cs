using System.Net;

namespace FastChat.Transport;

/// <summary>Where and how a <see cref="FastChatListener"/> listens, on top of the per-connection <see cref="TransportOptions"/>.</summary>
public sealed class ListenerOptions : TransportOptions
{
    /// <summary>The address and port to bind. Port 0 picks a free port; read it back from <see cref="FastChatListener.EndPoint"/>. Default: 127.0.0.1:0.</summary>
    public EndPoint EndPoint { get; set; } = new IPEndPoint(IPAddress.Loopback, 0);

    /// <summary>The kernel's queue of connections not yet accepted (the operating system may cap it, e.g. <c>net.core.somaxconn</c>). Default: 512.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>
    /// The most connections the listener keeps open at once, counting those still in their TLS handshake.
    /// Connections beyond it are accepted and closed at once (the peer sees the connection end), counted in
    /// <see cref="FastChatListener.RejectedConnections"/> and the <c>fastchat.transport.connections.rejected</c>
    /// counter, and logged with <see cref="CloseReason.ConnectionLimit"/>; they never reach
    /// <see cref="FastChatListener.AcceptAsync"/>. Accepting and closing, rather than leaving them in the
    /// kernel's backlog, tells clients at once to try elsewhere. Default: 100,000.
    /// </summary>
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>TLS settings; <see langword="null"/> (the default) serves plain TCP.</summary>
    public TlsServerOptions? Tls { get; set; }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        if (EndPoint is null)
        {
            Fail(nameof(EndPoint), "EndPoint must be set.");
        }

        if (Backlog <= 0)
        {
            Fail(nameof(Backlog), $"Backlog must be positive; it is {Backlog}.");
        }

        if (MaxConnections <= 0)
        {
            Fail(nameof(MaxConnections), $"MaxConnections must be positive; it is {MaxConnections}.");
        }

        Tls?.Validate();
    }
}
