using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FastChat.Transport.Tests;

// Certificates made on the spot (ECDSA P-256), written as PFX and PEM files to a temporary folder.
internal sealed class TestCertificates : IDisposable
{
    public const string Password = "fastchat-test";

    private TestCertificates(string directory, X509Certificate2 certificate, X509Certificate2? authority)
    {
        Directory = directory;
        Certificate = certificate;
        Authority = authority;
        PfxPath = Path.Combine(directory, "server.pfx");
        CertificatePemPath = Path.Combine(directory, "server.crt");
        KeyPemPath = Path.Combine(directory, "server.key");
        AuthorityPemPath = Path.Combine(directory, "ca.crt");

        File.WriteAllBytes(PfxPath, certificate.Export(X509ContentType.Pfx, Password));
        File.WriteAllText(CertificatePemPath, certificate.ExportCertificatePem());
        using ECDsa key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(KeyPemPath, key.ExportPkcs8PrivateKeyPem());
        if (authority is not null)
        {
            File.WriteAllText(AuthorityPemPath, authority.ExportCertificatePem());
        }
    }

    public string Directory { get; }

    // The server certificate, with its private key.
    public X509Certificate2 Certificate { get; }

    // The root that signed Certificate (null when it is self-signed).
    public X509Certificate2? Authority { get; }

    public string PfxPath { get; }

    public string CertificatePemPath { get; }

    public string KeyPemPath { get; }

    public string AuthorityPemPath { get; }

    public string Sha256Thumbprint => Certificate.GetCertHashString(HashAlgorithmName.SHA256);

    public static TestCertificates CreateSelfSigned()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = CreateServerRequest(key);
        X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return new TestCertificates(CreateDirectory(), certificate, authority: null);
    }

    public static TestCertificates CreateSignedByAuthority()
    {
        using ECDsa authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest("CN=FastChat Test Root", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, critical: false));
        X509Certificate2 authority = authorityRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(60));

        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request = CreateServerRequest(key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using X509Certificate2 publicOnly = request.Create(authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(16));
        X509Certificate2 certificate = publicOnly.CopyWithPrivateKey(key);
        return new TestCertificates(CreateDirectory(), certificate, authority);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Authority?.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static CertificateRequest CreateServerRequest(ECDsa key)
    {
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request;
    }

    private static string CreateDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), "fastchat-tls-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }
}
