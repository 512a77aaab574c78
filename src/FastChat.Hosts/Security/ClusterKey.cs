using System.Security.Cryptography;
using System.Text;

namespace FastChat.Hosts.Security;

/// <summary>
/// The secret shared by every balancer and chat server of one cluster: it signs session tokens and authenticates
/// server registrations and server-to-server links (HMAC-SHA256). 32 random bytes, kept in configuration as base64
/// or in a key file.
/// </summary>
public sealed class ClusterKey
{
    /// <summary>The key length in bytes.</summary>
    public const int KeyLength = 32;

    private readonly byte[] _key;

    private ClusterKey(byte[] key) => _key = key;

    /// <summary>Creates a key from its bytes.</summary>
    /// <param name="key">Exactly <see cref="KeyLength"/> bytes.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not 32 bytes.</exception>
    public static ClusterKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLength)
        {
            throw new ArgumentException($"A cluster key is {KeyLength} bytes; this one is {key.Length}.", nameof(key));
        }

        return new ClusterKey(key.ToArray());
    }

    /// <summary>Parses a base64 key (as written by <see cref="ToBase64"/>).</summary>
    /// <param name="base64">The key in base64; surrounding white space is ignored.</param>
    /// <returns>The key.</returns>
    /// <exception cref="FormatException">The text is not base64 of 32 bytes.</exception>
    public static ClusterKey FromBase64(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException ex)
        {
            throw new FormatException("The cluster key is not valid base64.", ex);
        }

        if (bytes.Length != KeyLength)
        {
            throw new FormatException($"The cluster key must be {KeyLength} bytes of base64; it is {bytes.Length}.");
        }

        return new ClusterKey(bytes);
    }

    /// <summary>Creates a new random key.</summary>
    /// <returns>The key.</returns>
    public static ClusterKey Generate() => new(RandomNumberGenerator.GetBytes(KeyLength));

    /// <summary>Reads a key file (base64 text).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The key.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file does not hold a base64 key of 32 bytes.</exception>
    public static ClusterKey FromFile(string path) => FromBase64(File.ReadAllText(path, Encoding.ASCII));

    /// <summary>Reads a key file, or creates it with a new random key (readable by the owner only) if it does not exist.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The key.</returns>
    /// <exception cref="FormatException">The existing file does not hold a base64 key of 32 bytes.</exception>
    /// <exception cref="IOException">The file cannot be read or written.</exception>
    public static ClusterKey LoadOrCreate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path))
        {
            return FromFile(path);
        }

        var key = Generate();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        // Write to a temporary file first so a crash never leaves a truncated key behind, and create it owner-only.
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Encoding.ASCII.GetBytes(key.ToBase64() + "\n"));
            stream.Flush(flushToDisk: true);
        }

        try
        {
            // Another process may have raced us; the first one to move its file in wins and we read that one.
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return FromFile(path);
        }

        return key;
    }

    /// <summary>The key as base64.</summary>
    /// <returns>Base64 text.</returns>
    public string ToBase64() => Convert.ToBase64String(_key);

    /// <summary>Computes HMAC-SHA256 of <paramref name="data"/> under this key.</summary>
    /// <param name="data">The data.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <returns>32, the number of bytes written.</returns>
    public int ComputeHmac(ReadOnlySpan<byte> data, Span<byte> destination) => HMACSHA256.HashData(_key, data, destination);

    /// <summary>
    /// Computes the proof a chat server presents in <c>RegisterServer</c> (to the balancer) or <c>PeerLink</c> (to another
    /// server): <c>HMAC(key, purpose || 0 || serverId || 0 || context || 0 || issuedAt ticks, big-endian)</c>.
    /// </summary>
    /// <param name="purpose">What the proof is for (<c>register</c> or <c>peer</c>), so one cannot be replayed as the other.</param>
    /// <param name="serverId">The presenting server's id.</param>
    /// <param name="issuedAt">When it was issued (UTC); receivers reject proofs older than a few minutes.</param>
    /// <param name="context">
    /// What else the proof vouches for, so a captured proof cannot be replayed with other values: for a registration
    /// the advertised <c>host:port</c>, so nobody can point a server id at another address. Empty when there is nothing.
    /// </param>
    /// <returns>The 32-byte proof.</returns>
    public byte[] ComputeProof(string purpose, string serverId, DateTime issuedAt, string context = "")
    {
        ArgumentNullException.ThrowIfNull(purpose);
        ArgumentNullException.ThrowIfNull(serverId);
        ArgumentNullException.ThrowIfNull(context);
        var data = BuildProofData(purpose, serverId, context, issuedAt);
        return HMACSHA256.HashData(_key, data);
    }

    /// <summary>The context a registration proof vouches for: the advertised endpoint as <c>host:port</c>.</summary>
    /// <param name="host">The advertised host.</param>
    /// <param name="port">The advertised port.</param>
    /// <returns>The context string to pass to <see cref="ComputeProof"/> and <see cref="VerifyProof"/>.</returns>
    public static string EndpointContext(string host, int port) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{host}:{port}");

    /// <summary>Checks a proof from <see cref="ComputeProof"/> in constant time.</summary>
    /// <param name="purpose">What the proof is for.</param>
    /// <param name="serverId">The presenting server's id.</param>
    /// <param name="issuedAt">The issue time the server sent.</param>
    /// <param name="proof">The proof the server sent.</param>
    /// <param name="context">The context the proof must vouch for (see <see cref="ComputeProof"/>).</param>
    /// <returns><see langword="true"/> if it matches.</returns>
    public bool VerifyProof(string purpose, string serverId, DateTime issuedAt, ReadOnlySpan<byte> proof, string context = "")
    {
        var expected = ComputeProof(purpose, serverId, issuedAt, context);
        return proof.Length == expected.Length && CryptographicOperations.FixedTimeEquals(expected, proof);
    }

    private static byte[] BuildProofData(string purpose, string serverId, string context, DateTime issuedAt)
    {
        // Zero separators keep the fields unambiguous: names and host:port never contain a NUL.
        var purposeLength = Encoding.UTF8.GetByteCount(purpose);
        var idLength = Encoding.UTF8.GetByteCount(serverId);
        var contextLength = Encoding.UTF8.GetByteCount(context);
        var data = new byte[purposeLength + 1 + idLength + 1 + contextLength + 1 + sizeof(long)];
        var offset = Encoding.UTF8.GetBytes(purpose, data) + 1;
        offset += Encoding.UTF8.GetBytes(serverId, data.AsSpan(offset)) + 1;
        offset += Encoding.UTF8.GetBytes(context, data.AsSpan(offset)) + 1;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(offset), issuedAt.ToUniversalTime().Ticks);
        return data;
    }
}
