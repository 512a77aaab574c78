using System.Security.Cryptography;

namespace FastChat.Client;

/// <summary>
/// Turns a password into the two keys FastChat derives from it (DESIGN.md §5):
/// <c>master = PBKDF2-SHA256(password, salt, iterations, 32 B)</c>, then
/// <c>authKey = HKDF-SHA256(master, info "fastchat auth", 32 B)</c> and
/// <c>wrapKey = HKDF-SHA256(master, info "fastchat wrap", 32 B)</c>, with no HKDF salt.
/// </summary>
/// <remarks>
/// The password is encoded as UTF-8 exactly as given (no normalization). The balancer sees only the auth key (and
/// stores only a salted hash of it); the wrap key never leaves the client, which uses it to wrap the account's private
/// keys. The two keys come from one master through different HKDF labels, so neither reveals the other.
/// </remarks>
public static class PasswordKeys
{
    /// <summary>The key-derivation function's name on the wire (<c>KdfParameters.Algorithm</c>, <c>SignUp.KdfAlgorithm</c>).</summary>
    public const string Algorithm = "pbkdf2-sha256";

    /// <summary>The size of the master, auth and wrap keys, in bytes.</summary>
    public const int KeySize = 32;

    /// <summary>The size of the salt chosen at sign-up, in bytes.</summary>
    public const int SaltSize = 16;

    /// <summary>Derives the auth and wrap keys.</summary>
    /// <param name="password">The password.</param>
    /// <param name="salt">The account's salt.</param>
    /// <param name="iterations">The PBKDF2 iteration count.</param>
    /// <returns>The keys; dispose them to wipe them from memory.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iterations"/> is not positive.</exception>
    public static PasswordDerivedKeys Derive(string password, ReadOnlySpan<byte> salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        var keys = new PasswordDerivedKeys();
        Derive(password.AsSpan(), salt, iterations, keys.AuthKeyBuffer, keys.WrapKeyBuffer);
        return keys;
    }

    /// <summary>Derives the auth and wrap keys into the caller's buffers.</summary>
    /// <param name="password">The password.</param>
    /// <param name="salt">The account's salt.</param>
    /// <param name="iterations">The PBKDF2 iteration count.</param>
    /// <param name="authKey">Receives the <see cref="KeySize"/>-byte auth key.</param>
    /// <param name="wrapKey">Receives the <see cref="KeySize"/>-byte wrap key.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iterations"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="authKey"/> or <paramref name="wrapKey"/> is not <see cref="KeySize"/> bytes.</exception>
    public static void Derive(ReadOnlySpan<char> password, ReadOnlySpan<byte> salt, int iterations, Span<byte> authKey, Span<byte> wrapKey)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        if (authKey.Length != KeySize)
        {
            throw new ArgumentException($"The auth key buffer must be {KeySize} bytes; it is {authKey.Length}.", nameof(authKey));
        }

        if (wrapKey.Length != KeySize)
        {
            throw new ArgumentException($"The wrap key buffer must be {KeySize} bytes; it is {wrapKey.Length}.", nameof(wrapKey));
        }

        Span<byte> master = stackalloc byte[KeySize];
        try
        {
            Rfc2898DeriveBytes.Pbkdf2(password, salt, master, iterations, HashAlgorithmName.SHA256);
            HKDF.DeriveKey(HashAlgorithmName.SHA256, master, authKey, salt: ReadOnlySpan<byte>.Empty, info: "fastchat auth"u8);
            HKDF.DeriveKey(HashAlgorithmName.SHA256, master, wrapKey, salt: ReadOnlySpan<byte>.Empty, info: "fastchat wrap"u8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(master);
        }
    }

    /// <summary>Creates a new random salt of <see cref="SaltSize"/> bytes, as sign-up does.</summary>
    /// <returns>The salt.</returns>
    public static byte[] NewSalt() => RandomNumberGenerator.GetBytes(SaltSize);
}

/// <summary>The two keys <see cref="PasswordKeys.Derive(string, ReadOnlySpan{byte}, int)"/> derives from a password.</summary>
/// <remarks>Disposing wipes both keys; reading them afterwards throws <see cref="ObjectDisposedException"/>.</remarks>
public sealed class PasswordDerivedKeys : IDisposable
{
    private readonly byte[] _authKey = new byte[PasswordKeys.KeySize];
    private readonly byte[] _wrapKey = new byte[PasswordKeys.KeySize];
    private bool _disposed;

    internal PasswordDerivedKeys()
    {
    }

    /// <summary>The key that proves the password to the balancer (sent at sign-up and sign-in).</summary>
    /// <exception cref="ObjectDisposedException">The keys were disposed.</exception>
    public ReadOnlySpan<byte> AuthKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _authKey;
        }
    }

    /// <summary>The key that wraps the account's private keys; it never leaves the client.</summary>
    /// <exception cref="ObjectDisposedException">The keys were disposed.</exception>
    public ReadOnlySpan<byte> WrapKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _wrapKey;
        }
    }

    internal Span<byte> AuthKeyBuffer => _authKey;

    internal Span<byte> WrapKeyBuffer => _wrapKey;

    /// <summary>Wipes both keys.</summary>
    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_authKey);
        CryptographicOperations.ZeroMemory(_wrapKey);
    }
}
