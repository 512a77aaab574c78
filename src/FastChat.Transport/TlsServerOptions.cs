using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace FastChat.Transport;

/// <summary>
/// Server-side TLS for a <see cref="FastChatListener"/>: the certificate to present, from an
/// <see cref="X509Certificate2"/>, a PKCS#12 (PFX) file or PEM certificate and key files.
/// </summary>
/// <remarks>
/// The certificate is loaded once, when the listener binds; its chain is built once and reused by every
/// handshake. A failed handshake closes only that connection (logged, never returned by
/// <see cref="FastChatListener.AcceptAsync"/>).
/// </remarks>
public sealed class TlsServerOptions
{
    /// <summary>The certificate, with its private key. Set this or <see cref="CertificatePath"/>.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// A PKCS#12 (<c>.pfx</c>/<c>.p12</c>) file, or a PEM certificate file (recognised by its
    /// <c>-----BEGIN</c> header). Set this or <see cref="Certificate"/>.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>
    /// For a PEM <see cref="CertificatePath"/>: the PEM private key file. <see langword="null"/> reads the key from
    /// the certificate file itself.
    /// </summary>
    public string? KeyPath { get; set; }

    /// <summary>The PKCS#12 file's password, or the password of an encrypted PEM private key.</summary>
    public string? Password { get; set; }

    /// <summary>The TLS versions allowed. <see cref="SslProtocols.None"/> (the default) lets the operating system choose, which is the secure choice.</summary>
    public SslProtocols EnabledProtocols { get; set; } = SslProtocols.None;

    /// <summary>How long a client may take to complete the handshake before the connection is dropped. Default: 10 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks that exactly one certificate source is set and that its files exist.</summary>
    /// <exception cref="ArgumentException">No certificate source, two of them, a missing file, or a bad timeout.</exception>
    public void Validate()
    {
        if ((Certificate is null) == string.IsNullOrEmpty(CertificatePath))
        {
            throw new ArgumentException("TLS needs exactly one server certificate source: set Certificate or CertificatePath.", nameof(CertificatePath));
        }

        if (Certificate is { HasPrivateKey: false })
        {
            throw new ArgumentException($"The TLS server certificate '{Certificate.Subject}' has no private key.", nameof(Certificate));
        }

        if (!string.IsNullOrEmpty(CertificatePath) && !File.Exists(CertificatePath))
        {
            throw new ArgumentException($"The TLS certificate file '{CertificatePath}' does not exist.", nameof(CertificatePath));
        }

        if (!string.IsNullOrEmpty(KeyPath) && !File.Exists(KeyPath))
        {
            throw new ArgumentException($"The TLS private key file '{KeyPath}' does not exist.", nameof(KeyPath));
        }

        if (HandshakeTimeout <= TimeSpan.Zero && HandshakeTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"HandshakeTimeout must be positive or Timeout.InfiniteTimeSpan; it is {HandshakeTimeout}.", nameof(HandshakeTimeout));
        }
    }
}
