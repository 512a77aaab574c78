using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace FastChat.Transport;

/// <summary>
/// Client-side TLS for <see cref="FastChatConnector"/>: the host name to verify and how to trust the server's
/// certificate.
/// </summary>
/// <remarks>
/// Trust is decided by the first of these that is set:
/// <list type="number">
/// <item><see cref="PinnedCertificateThumbprint"/> or <see cref="PinnedCertificate"/>: exactly that certificate is accepted,
/// whatever its chain or names (the usual choice for self-signed server certificates);</item>
/// <item><see cref="CertificateAuthority"/> or <see cref="CertificateAuthorityPath"/>: the chain must end at that root
/// (the system store is ignored) and the certificate must match <see cref="TargetHost"/>;</item>
/// <item>otherwise the operating system's trust store and host name check.</item>
/// </list>
/// A rejected certificate fails <see cref="FastChatConnector.ConnectAsync(System.Net.EndPoint, ConnectorOptions?, CancellationToken)"/>
/// with a <see cref="TlsHandshakeException"/> whose message says why.
/// </remarks>
public sealed class TlsClientOptions
{
    /// <summary>The server name sent in SNI and checked against the certificate. <see langword="null"/> uses the host connected to.</summary>
    public string? TargetHost { get; set; }

    /// <summary>
    /// The SHA-256 (64 hex digits) or SHA-1 (40 hex digits) hash of the one server certificate to accept. Colons,
    /// spaces and dashes between digits are ignored, as is case.
    /// </summary>
    public string? PinnedCertificateThumbprint { get; set; }

    /// <summary>The one server certificate to accept (compared byte for byte).</summary>
    public X509Certificate2? PinnedCertificate { get; set; }

    /// <summary>A root certificate to trust instead of the system store.</summary>
    public X509Certificate2? CertificateAuthority { get; set; }

    /// <summary>A PEM or DER file holding the root certificate to trust instead of the system store.</summary>
    public string? CertificateAuthorityPath { get; set; }

    /// <summary>Checks the server chain's revocation status online (applies to chain validation, not to pinning). Default: <see langword="false"/>.</summary>
    public bool CheckCertificateRevocation { get; set; }

    /// <summary>The TLS versions allowed. <see cref="SslProtocols.None"/> (the default) lets the operating system choose, which is the secure choice.</summary>
    public SslProtocols EnabledProtocols { get; set; } = SslProtocols.None;

    /// <summary>How long the handshake may take. Default: 10 seconds (the connect timeout also bounds it).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks that at most one trust source is set and that it is well formed.</summary>
    /// <exception cref="ArgumentException">Two trust sources, a malformed thumbprint, a missing file, or a bad timeout.</exception>
    public void Validate()
    {
        int sources = (string.IsNullOrEmpty(PinnedCertificateThumbprint) ? 0 : 1)
            + (PinnedCertificate is null ? 0 : 1)
            + (CertificateAuthority is null ? 0 : 1)
            + (string.IsNullOrEmpty(CertificateAuthorityPath) ? 0 : 1);
        if (sources > 1)
        {
            throw new ArgumentException("Set at most one of PinnedCertificateThumbprint, PinnedCertificate, CertificateAuthority and CertificateAuthorityPath.", nameof(PinnedCertificateThumbprint));
        }

        if (!string.IsNullOrEmpty(PinnedCertificateThumbprint) && Internal.TlsCertificates.ParseThumbprint(PinnedCertificateThumbprint) is null)
        {
            throw new ArgumentException($"PinnedCertificateThumbprint '{PinnedCertificateThumbprint}' is not a SHA-256 (64 hex digits) or SHA-1 (40 hex digits) hash.", nameof(PinnedCertificateThumbprint));
        }

        if (!string.IsNullOrEmpty(CertificateAuthorityPath) && !File.Exists(CertificateAuthorityPath))
        {
            throw new ArgumentException($"The certificate authority file '{CertificateAuthorityPath}' does not exist.", nameof(CertificateAuthorityPath));
        }

        if (HandshakeTimeout <= TimeSpan.Zero && HandshakeTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"HandshakeTimeout must be positive or Timeout.InfiniteTimeSpan; it is {HandshakeTimeout}.", nameof(HandshakeTimeout));
        }
    }
}
