namespace FastChat.Transport;

/// <summary>How <see cref="FastChatConnector"/> connects, on top of the per-connection <see cref="TransportOptions"/>.</summary>
public sealed class ConnectorOptions : TransportOptions
{
    /// <summary>
    /// The limit on the whole of <see cref="FastChatConnector.ConnectAsync(System.Net.EndPoint, ConnectorOptions?, CancellationToken)"/>:
    /// name resolution, the TCP connect and, with TLS, the handshake. Passing it throws <see cref="ConnectTimeoutException"/>.
    /// <see cref="Timeout.InfiniteTimeSpan"/> leaves only the caller's token. Default: 10 seconds.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS settings; <see langword="null"/> (the default) connects over plain TCP.</summary>
    public TlsClientOptions? Tls { get; set; }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        ValidateTimeout(nameof(ConnectTimeout), ConnectTimeout, allowInfinite: true);
        Tls?.Validate();
    }
}
