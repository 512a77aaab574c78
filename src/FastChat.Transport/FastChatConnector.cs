using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FastChat.Transport.Internal;

namespace FastChat.Transport;

/// <summary>Opens client connections, plain or TLS, with a connect timeout.</summary>
/// <remarks>
/// <code>
/// var options = new ConnectorOptions { Tls = new TlsClientOptions { PinnedCertificateThumbprint = "…" } };
/// await using FastChatConnection connection = await FastChatConnector.ConnectAsync("chat.example.com", 5000, options, cancellationToken);
/// </code>
/// </remarks>
public static class FastChatConnector
{
    /// <summary>Connects to a host name (resolved through DNS, every address tried in turn) or an IP address literal.</summary>
    /// <param name="host">The host name or IP address; with TLS, also the name verified unless <see cref="TlsClientOptions.TargetHost"/> is set.</param>
    /// <param name="port">The TCP port.</param>
    /// <param name="options">Connection settings; <see langword="null"/> uses the defaults.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The connected (and, with TLS, authenticated) connection.</returns>
    /// <exception cref="ArgumentException">The host is empty, the port is out of range, or the options are invalid.</exception>
    /// <exception cref="ConnectTimeoutException">The attempt took longer than <see cref="ConnectorOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="TlsHandshakeException">The TLS handshake failed; the message says why (e.g. the certificate did not match the pin).</exception>
    /// <exception cref="TransportException">The connection was refused, the host could not be resolved, or the network failed.</exception>
    public static ValueTask<FastChatConnection> ConnectAsync(string host, int port, ConnectorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        EndPoint endPoint = IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
        return ConnectCoreAsync(endPoint, host, options, cancellationToken);
    }

    /// <summary>Connects to an endpoint (<see cref="IPEndPoint"/>, <see cref="DnsEndPoint"/> or <see cref="UnixDomainSocketEndPoint"/>).</summary>
    /// <param name="endPoint">Where to connect.</param>
    /// <param name="options">Connection settings; <see langword="null"/> uses the defaults. With TLS and an IP endpoint, set <see cref="TlsClientOptions.TargetHost"/> unless the certificate is pinned.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The connected (and, with TLS, authenticated) connection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endPoint"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="ConnectTimeoutException">The attempt took longer than <see cref="ConnectorOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="TlsHandshakeException">The TLS handshake failed; the message says why (e.g. the certificate did not match the pin).</exception>
    /// <exception cref="TransportException">The connection was refused, the host could not be resolved, or the network failed.</exception>
    public static ValueTask<FastChatConnection> ConnectAsync(EndPoint endPoint, ConnectorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        string? host = endPoint switch
        {
            DnsEndPoint dns => dns.Host,
            IPEndPoint ip => ip.Address.ToString(),
            _ => null,
        };
        return ConnectCoreAsync(endPoint, host, options, cancellationToken);
    }

    private static async ValueTask<FastChatConnection> ConnectCoreAsync(EndPoint endPoint, string? host, ConnectorOptions? options, CancellationToken cancellationToken)
    {
        options ??= new ConnectorOptions();
        ConnectionSettings settings = ConnectionSettings.Create(options);
        cancellationToken.ThrowIfCancellationRequested();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            timeout.CancelAfter(options.ConnectTimeout);
        }

        Socket socket = endPoint switch
        {
            // A dual-mode socket can reach whichever address family the name resolves to.
            DnsEndPoint => new Socket(SocketType.Stream, ProtocolType.Tcp),
            UnixDomainSocketEndPoint => new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified),
            _ => new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp),
        };

        try
        {
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            SocketConfiguration.Apply(socket, settings);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new ConnectTimeoutException(endPoint, options.ConnectTimeout);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new TransportException($"Could not connect to {endPoint}: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        FastChatConnection connection;
        if (options.Tls is null)
        {
            connection = new SocketConnection(socket, settings);
        }
        else
        {
            connection = await AuthenticateAsync(socket, settings, endPoint, host, options, timeout, cancellationToken).ConfigureAwait(false);
        }

        connection.Start();
        TransportLog.ConnectionEstablished(settings.Logger, connection.Id, connection.RemoteEndPoint);
        return connection;
    }

    private static async Task<FastChatConnection> AuthenticateAsync(
        Socket socket,
        ConnectionSettings settings,
        EndPoint endPoint,
        string? host,
        ConnectorOptions options,
        CancellationTokenSource connectTimeout,
        CancellationToken cancellationToken)
    {
        TlsClientOptions tls = options.Tls!;
        var validator = new ServerCertificateValidator(tls);
        var sslOptions = new SslClientAuthenticationOptions
        {
            TargetHost = tls.TargetHost ?? host ?? string.Empty,
            EnabledSslProtocols = tls.EnabledProtocols,
            CertificateRevocationCheckMode = tls.CheckCertificateRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = validator.Validate,
        };

        var connection = new SslConnection(socket, settings);
        using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(connectTimeout.Token);
        if (tls.HandshakeTimeout != Timeout.InfiniteTimeSpan)
        {
            handshakeTimeout.CancelAfter(tls.HandshakeTimeout);
        }

        try
        {
            await connection.AuthenticateAsClientAsync(sslOptions, handshakeTimeout.Token).ConfigureAwait(false);
            return connection;
        }
#pragma warning disable CA1031 // Every handshake failure is reported as one of the documented exceptions, after the socket is released.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TransportMetrics.TlsHandshakeFailures.Add(1);
            Exception error;
            if (cancellationToken.IsCancellationRequested)
            {
                error = new OperationCanceledException("The connection attempt was cancelled during the TLS handshake.", ex, cancellationToken);
            }
            else if (connectTimeout.IsCancellationRequested)
            {
                error = new ConnectTimeoutException(endPoint, options.ConnectTimeout);
            }
            else if (handshakeTimeout.IsCancellationRequested)
            {
                error = new TlsHandshakeException($"The TLS handshake with {endPoint} timed out after {tls.HandshakeTimeout.TotalMilliseconds:0} ms.", ex);
            }
            else
            {
                string reason = validator.FailureReason ?? ex.Message;
                error = new TlsHandshakeException($"The TLS handshake with {endPoint} failed: {reason}", ex);
            }

            TransportLog.TlsHandshakeFailed(settings.Logger, connection.Id, error.Message, ex);
            connection.FailBeforeStart(CloseReason.TlsFailure, error);
            throw error;
        }
    }
}
