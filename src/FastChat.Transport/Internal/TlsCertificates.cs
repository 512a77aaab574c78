using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace FastChat.Transport.Internal;

// Loading of server certificates and the client-side trust decision (pin, custom root, or system store).
internal static class TlsCertificates
{
    private const int Sha1Length = 20;
    private const int Sha256Length = 32;

    public static byte[]? ParseThumbprint(string thumbprint)
    {
        var digits = new StringBuilder(thumbprint.Length);
        foreach (char c in thumbprint)
        {
            if (c is ':' or ' ' or '-')
            {
                continue;
            }

            if (!char.IsAsciiHexDigit(c))
            {
                return null;
            }

            digits.Append(c);
        }

        if (digits.Length != 2 * Sha1Length && digits.Length != 2 * Sha256Length)
        {
            return null;
        }

        return Convert.FromHexString(digits.ToString());
    }

    public static SslServerAuthenticationOptions CreateServerOptions(TlsServerOptions options)
    {
        (X509Certificate2 leaf, X509Certificate2Collection? intermediates) = LoadServerCertificate(options);

        // Building the chain once here, offline, spares every handshake from doing it again.
        SslStreamCertificateContext context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context,
            EnabledSslProtocols = options.EnabledProtocols,
            ClientCertificateRequired = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
    }

    private static (X509Certificate2 Leaf, X509Certificate2Collection? Intermediates) LoadServerCertificate(TlsServerOptions options)
    {
        if (options.Certificate is not null)
        {
            return (options.Certificate, null);
        }

        string path = options.CertificatePath!;
        X509Certificate2 leaf;
        X509Certificate2Collection all;
        try
        {
            if (IsPem(path))
            {
                leaf = string.IsNullOrEmpty(options.Password)
                    ? X509Certificate2.CreateFromPemFile(path, options.KeyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, options.KeyPath);
                if (OperatingSystem.IsWindows())
                {
                    // SChannel cannot use the ephemeral key a PEM import produces; a PKCS#12 round trip persists it.
                    X509Certificate2 ephemeral = leaf;
                    leaf = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
                    ephemeral.Dispose();
                }

                all = [];
                all.ImportFromPemFile(path);
            }
            else
            {
                all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, options.Password);
                leaf = FindLeaf(all, path);
            }
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException($"The TLS certificate '{path}' could not be loaded: {ex.Message}", nameof(options), ex);
        }

        if (!leaf.HasPrivateKey)
        {
            throw new ArgumentException($"The TLS certificate '{path}' has no private key.", nameof(options));
        }

        var intermediates = new X509Certificate2Collection();
        foreach (X509Certificate2 certificate in all)
        {
            if (!certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                intermediates.Add(certificate);
            }
        }

        return (leaf, intermediates.Count == 0 ? null : intermediates);
    }

    private static X509Certificate2 FindLeaf(X509Certificate2Collection certificates, string path)
    {
        foreach (X509Certificate2 certificate in certificates)
        {
            if (certificate.HasPrivateKey)
            {
                return certificate;
            }
        }

        throw new ArgumentException($"The TLS certificate file '{path}' holds no certificate with a private key.", nameof(path));
    }

    public static X509Certificate2 LoadCertificateAuthority(string path)
    {
        try
        {
            return IsPem(path)
                ? X509Certificate2.CreateFromPem(File.ReadAllText(path))
                : X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException($"The certificate authority file '{path}' could not be loaded: {ex.Message}", nameof(path), ex);
        }
    }

    private static bool IsPem(string path)
    {
        using var reader = new StreamReader(path, Encoding.ASCII, detectEncodingFromByteOrderMarks: true);
        char[] start = new char[64];
        int read = reader.ReadBlock(start, 0, start.Length);
        return new string(start, 0, read).Contains("-----BEGIN", StringComparison.Ordinal);
    }

    public static string FormatHash(X509Certificate certificate) =>
        certificate.GetCertHashString(HashAlgorithmName.SHA256);

    public static string DescribeChain(X509Chain? chain)
    {
        if (chain is null || chain.ChainStatus.Length == 0)
        {
            return "no chain status";
        }

        var text = new StringBuilder();
        foreach (X509ChainStatus status in chain.ChainStatus)
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            text.Append(CultureInfo.InvariantCulture, $"{status.Status}: {status.StatusInformation.Trim()}");
        }

        return text.ToString();
    }
}

// One per connect: decides trust for the server certificate and remembers why it said no, so the
// handshake failure can say more than SslStream's generic "rejected by the validation callback".
internal sealed class ServerCertificateValidator
{
    private readonly byte[]? _pinnedHash;
    private readonly X509Certificate2? _pinnedCertificate;
    private readonly X509Certificate2? _authority;
    private readonly bool _checkRevocation;

    public ServerCertificateValidator(TlsClientOptions options)
    {
        if (!string.IsNullOrEmpty(options.PinnedCertificateThumbprint))
        {
            _pinnedHash = TlsCertificates.ParseThumbprint(options.PinnedCertificateThumbprint);
        }

        _pinnedCertificate = options.PinnedCertificate;
        _authority = options.CertificateAuthority
            ?? (string.IsNullOrEmpty(options.CertificateAuthorityPath) ? null : TlsCertificates.LoadCertificateAuthority(options.CertificateAuthorityPath));
        _checkRevocation = options.CheckCertificateRevocation;
    }

    public string? FailureReason { get; private set; }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            FailureReason = "The server presented no certificate.";
            return false;
        }

        if (_pinnedHash is not null)
        {
            byte[] actual = _pinnedHash.Length == 32
                ? certificate.GetCertHash(HashAlgorithmName.SHA256)
                : certificate.GetCertHash(HashAlgorithmName.SHA1);
            if (CryptographicOperations.FixedTimeEquals(actual, _pinnedHash))
            {
                return true;
            }

            FailureReason = $"The server certificate (SHA-256 {TlsCertificates.FormatHash(certificate)}, subject '{certificate.Subject}') does not match the pinned thumbprint {Convert.ToHexString(_pinnedHash)}.";
            return false;
        }

        if (_pinnedCertificate is not null)
        {
            if (certificate.GetRawCertData().AsSpan().SequenceEqual(_pinnedCertificate.RawDataMemory.Span))
            {
                return true;
            }

            FailureReason = $"The server certificate (SHA-256 {TlsCertificates.FormatHash(certificate)}, subject '{certificate.Subject}') is not the pinned certificate (SHA-256 {TlsCertificates.FormatHash(_pinnedCertificate)}).";
            return false;
        }

        if (_authority is not null)
        {
            return ValidateAgainstAuthority(certificate, chain, errors, _authority);
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        FailureReason = $"The server certificate (subject '{certificate.Subject}') is not trusted: {errors} ({TlsCertificates.DescribeChain(chain)}).";
        return false;
    }

    private bool ValidateAgainstAuthority(X509Certificate certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2 authority)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            FailureReason = $"The server certificate (subject '{certificate.Subject}') does not match the target host name.";
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = _checkRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            // The intermediates the server sent: they may not be in any local store.
            foreach (X509ChainElement element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (chain.Build(leaf))
        {
            return true;
        }

        FailureReason = $"The server certificate (subject '{certificate.Subject}') does not chain to the trusted authority '{authority.Subject}': {TlsCertificates.DescribeChain(chain)}.";
        return false;
    }
}
