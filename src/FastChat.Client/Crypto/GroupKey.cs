using FastChat.Client.Crypto.Internal;

namespace FastChat.Client.Crypto;

/// <summary>A group's symmetric key for one epoch: 256 random bits, created by the group's admin.</summary>
/// <remarks>
/// <para>
/// The admin wraps the key for every member with <see cref="GroupKeyWrap"/>, and creates a new key for the next epoch
/// whenever a member is removed or leaves, so a former member cannot read later messages. Messages are sealed with
/// <see cref="GroupEnvelope"/> under the key of the epoch they carry.
/// </para>
/// <para>Immutable and safe to share between threads.</para>
/// </remarks>
public sealed class GroupKey
{
    /// <summary>The size of a group key in bytes.</summary>
    public const int KeySize = 32;

    private readonly byte[] _key;

    /// <summary>Creates a group key from its bytes (for example restored from the client's own storage).</summary>
    /// <param name="epoch">The key's epoch (the server's <c>keyEpoch</c> of the group).</param>
    /// <param name="key">The <see cref="KeySize"/>-byte key.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not <see cref="KeySize"/> bytes.</exception>
    public GroupKey(int epoch, ReadOnlySpan<byte> key)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"A group key is {KeySize} bytes; got {key.Length}.", nameof(key));
        }

        Epoch = epoch;
        _key = key.ToArray();
    }

    /// <summary>The key's epoch.</summary>
    public int Epoch { get; }

    /// <summary>The key's <see cref="KeySize"/> bytes.</summary>
    public ReadOnlySpan<byte> Key => _key;

    internal byte[] KeyBytes => _key;

    /// <summary>Creates a new random key for an epoch.</summary>
    /// <param name="epoch">The epoch (the server's <c>keyEpoch</c> after the change that calls for a new key).</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    public static GroupKey Generate(int epoch) => Generate(epoch, CryptoRandom.Default);

    /// <summary>Whether this key has the same epoch and bytes as <paramref name="other"/>.</summary>
    /// <param name="other">The other key.</param>
    /// <returns><see langword="true"/> if both are the same key.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is <see langword="null"/>.</exception>
    public bool IsSameKey(GroupKey other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Epoch == other.Epoch && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(_key, other._key);
    }

    /// <summary>Returns the epoch only: the key itself is never formatted.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"group key, epoch {Epoch}";

    internal static GroupKey Generate(int epoch, CryptoRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Span<byte> key = stackalloc byte[KeySize];
        random.Fill(key);
        var groupKey = new GroupKey(epoch, key);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
        return groupKey;
    }
}
