using System.Security.Cryptography;

namespace FastChat.Client.Crypto.Internal;

/// <summary>Imports, checks and encodes the P-256 keys of FastChat's formats.</summary>
internal static class EcKeys
{
    /// <summary>The size of a P-256 field element, private scalar or signature half, in bytes.</summary>
    public const int ScalarSize = 32;

    /// <summary>The size of an uncompressed SEC 1 point: <c>0x04 || X || Y</c>.</summary>
    public const int PointSize = 1 + (2 * ScalarSize);

    /// <summary>The size of an ECDSA P-256 signature in IEEE P1363 form (<c>r || s</c>).</summary>
    public const int SignatureSize = 2 * ScalarSize;

    private const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>Imports a P-256 SubjectPublicKeyInfo as an ECDH key.</summary>
    /// <exception cref="CryptographicException">The bytes are not a canonical P-256 SubjectPublicKeyInfo.</exception>
    public static ECDiffieHellman ImportAgreementPublicKey(ReadOnlySpan<byte> spki)
    {
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(spki, out int bytesRead);
            EnsureCanonicalP256(key, spki, bytesRead);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Imports a P-256 SubjectPublicKeyInfo as an ECDSA key.</summary>
    /// <exception cref="CryptographicException">The bytes are not a canonical P-256 SubjectPublicKeyInfo.</exception>
    public static ECDsa ImportSigningPublicKey(ReadOnlySpan<byte> spki)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(spki, out int bytesRead);
            EnsureCanonicalP256(key, spki, bytesRead);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Checks that a key is on P-256 and writes its public point as <c>0x04 || X || Y</c>.</summary>
    /// <exception cref="CryptographicException">The key is not a P-256 key.</exception>
    public static void WritePoint(ECDiffieHellman key, Span<byte> destination)
    {
        // One export serves the curve check and the point: every export allocates the coordinates and the curve's OID,
        // and this runs once per sealed envelope.
        ECParameters parameters = key.ExportParameters(includePrivateParameters: false);
        if (key.KeySize != 256 || parameters.Curve.Oid?.Value != P256Oid)
        {
            throw new CryptographicException($"The key is on a curve of {key.KeySize} bits; FastChat uses P-256 only.");
        }

        if (parameters.Q.X is not { Length: ScalarSize } x || parameters.Q.Y is not { Length: ScalarSize } y)
        {
            throw new CryptographicException("The ephemeral key is not a P-256 key.");
        }

        destination[0] = 0x04;
        x.CopyTo(destination[1..]);
        y.CopyTo(destination[(1 + ScalarSize)..]);
    }

    /// <summary>Imports an uncompressed P-256 point as an ECDH public key; the platform rejects points off the curve.</summary>
    /// <exception cref="CryptographicException">The bytes are not an uncompressed point on P-256.</exception>
    public static ECDiffieHellman ImportPoint(ReadOnlySpan<byte> point)
    {
        if (point.Length != PointSize || point[0] != 0x04)
        {
            throw new CryptographicException("The ephemeral public key is not an uncompressed P-256 point.");
        }

        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = point.Slice(1, ScalarSize).ToArray(), Y = point.Slice(1 + ScalarSize, ScalarSize).ToArray() },
        };
        return ECDiffieHellman.Create(parameters);
    }

    /// <summary>Imports a P-256 private scalar as an ECDH key pair (the platform derives the public point).</summary>
    /// <exception cref="CryptographicException">The scalar is not a valid P-256 private key.</exception>
    public static ECDiffieHellman ImportAgreementPrivateKey(ReadOnlySpan<byte> d)
    {
        byte[] scalar = d.ToArray();
        try
        {
            return ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = scalar });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }
    }

    /// <summary>Imports a P-256 private scalar as an ECDSA key pair (the platform derives the public point).</summary>
    /// <exception cref="CryptographicException">The scalar is not a valid P-256 private key.</exception>
    public static ECDsa ImportSigningPrivateKey(ReadOnlySpan<byte> d)
    {
        byte[] scalar = d.ToArray();
        try
        {
            return ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = scalar });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }
    }

    /// <summary>Writes a key pair's private scalar, left-padded to 32 bytes.</summary>
    public static void WritePrivateScalar(ECAlgorithm key, Span<byte> destination)
    {
        ECParameters parameters = key.ExportParameters(includePrivateParameters: true);
        try
        {
            if (parameters.D is not { Length: <= ScalarSize } d)
            {
                throw new CryptographicException("The key is not a P-256 key pair.");
            }

            destination[..ScalarSize].Clear();
            d.CopyTo(destination[(ScalarSize - d.Length)..]);
        }
        finally
        {
            if (parameters.D is not null)
            {
                CryptographicOperations.ZeroMemory(parameters.D);
            }
        }
    }

    /// <summary>Throws unless the key is on P-256 (and, for an imported key, the input held nothing but its canonical encoding).</summary>
    public static void EnsureP256(ECAlgorithm key)
    {
        if (key.KeySize != 256 || key.ExportParameters(includePrivateParameters: false).Curve.Oid?.Value != P256Oid)
        {
            throw new CryptographicException($"The key is on a curve of {key.KeySize} bits; FastChat uses P-256 only.");
        }
    }

    private static void EnsureCanonicalP256(ECAlgorithm key, ReadOnlySpan<byte> spki, int bytesRead)
    {
        EnsureP256(key);

        // One key, one encoding: trailing bytes or a compressed point would give the same key a second fingerprint.
        if (bytesRead != spki.Length || !spki.SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new CryptographicException("The public key is not in canonical SubjectPublicKeyInfo form (uncompressed point, no trailing bytes).");
        }
    }
}
