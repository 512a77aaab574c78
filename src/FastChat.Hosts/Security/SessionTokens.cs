using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FastChat.Hosts.Security;

/// <summary>Why a session token was rejected.</summary>
public enum SessionTokenStatus
{
    /// <summary>The token is valid.</summary>
    Valid = 0,

    /// <summary>The token is malformed or its signature does not match (forged or signed with another cluster key).</summary>
    Invalid = 1,

    /// <summary>The token is genuine but has expired.</summary>
    Expired = 2,

    /// <summary>The token is genuine but names another server.</summary>
    WrongServer = 3,
}

/// <summary>
/// Issues and verifies the session tokens the balancer hands out in <c>Assigned</c> and chat servers check in
/// <c>Resume</c>. Format (version 1): <c>0x01 | len(user) u8 | user UTF-8 | len(serverId) u8 | serverId UTF-8 |
/// expiresAt Unix milliseconds i64 BE | HMAC-SHA256 over everything before it</c>.
/// </summary>
public static class SessionTokens
{
    private const byte Version = 1;
    private const int MacLength = 32;

    /// <summary>Creates a token.</summary>
    /// <param name="key">The cluster key.</param>
    /// <param name="userName">The user (at most 255 UTF-8 bytes).</param>
    /// <param name="serverId">The assigned server (at most 255 UTF-8 bytes).</param>
    /// <param name="expiresAt">When it expires (UTC).</param>
    /// <returns>The token bytes.</returns>
    /// <exception cref="ArgumentException">A name is longer than 255 bytes.</exception>
    public static byte[] Issue(ClusterKey key, string userName, string serverId, DateTime expiresAt)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(userName);
        ArgumentNullException.ThrowIfNull(serverId);
        var userLength = Encoding.UTF8.GetByteCount(userName);
        var serverLength = Encoding.UTF8.GetByteCount(serverId);
        if (userLength > byte.MaxValue || serverLength > byte.MaxValue)
        {
            throw new ArgumentException("User names and server ids in a session token are at most 255 bytes.");
        }

        var bodyLength = 1 + 1 + userLength + 1 + serverLength + sizeof(long);
        var token = new byte[bodyLength + MacLength];
        var offset = 0;
        token[offset++] = Version;
        token[offset++] = (byte)userLength;
        offset += Encoding.UTF8.GetBytes(userName, token.AsSpan(offset));
        token[offset++] = (byte)serverLength;
        offset += Encoding.UTF8.GetBytes(serverId, token.AsSpan(offset));
        BinaryPrimitives.WriteInt64BigEndian(token.AsSpan(offset), new DateTimeOffset(expiresAt.ToUniversalTime()).ToUnixTimeMilliseconds());
        key.ComputeHmac(token.AsSpan(0, bodyLength), token.AsSpan(bodyLength));
        return token;
    }

    /// <summary>Verifies a token: signature first (in constant time), then expiry, then the server it names.</summary>
    /// <param name="key">The cluster key.</param>
    /// <param name="token">The token bytes.</param>
    /// <param name="serverId">The verifying server's id.</param>
    /// <param name="now">The current time (UTC).</param>
    /// <param name="userName">The user the token names, when it is genuine (even if expired or for another server); otherwise empty.</param>
    /// <returns>The verdict.</returns>
    public static SessionTokenStatus Validate(ClusterKey key, ReadOnlySequence<byte> token, string serverId, DateTime now, out string userName)
    {
        ArgumentNullException.ThrowIfNull(key);
        userName = string.Empty;
        if (token.Length is < 1 + 1 + 1 + sizeof(long) + MacLength or > 1024)
        {
            return SessionTokenStatus.Invalid;
        }

        Span<byte> bytes = stackalloc byte[(int)token.Length];
        token.CopyTo(bytes);
        var bodyLength = bytes.Length - MacLength;
        Span<byte> mac = stackalloc byte[MacLength];
        key.ComputeHmac(bytes[..bodyLength], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, bytes[bodyLength..]) || bytes[0] != Version)
        {
            return SessionTokenStatus.Invalid;
        }

        var body = bytes[..bodyLength];
        var userLength = body[1];
        if (2 + userLength + 1 > body.Length)
        {
            return SessionTokenStatus.Invalid;
        }

        var user = body.Slice(2, userLength);
        var serverLength = body[2 + userLength];
        var serverStart = 2 + userLength + 1;
        if (serverStart + serverLength + sizeof(long) != body.Length)
        {
            return SessionTokenStatus.Invalid;
        }

        var server = body.Slice(serverStart, serverLength);
        var expiresAt = BinaryPrimitives.ReadInt64BigEndian(body[(serverStart + serverLength)..]);
        userName = Encoding.UTF8.GetString(user);
        if (new DateTimeOffset(now.ToUniversalTime()).ToUnixTimeMilliseconds() >= expiresAt)
        {
            return SessionTokenStatus.Expired;
        }

        Span<byte> expectedServer = stackalloc byte[Encoding.UTF8.GetMaxByteCount(serverId.Length)];
        var expectedLength = Encoding.UTF8.GetBytes(serverId, expectedServer);
        return server.SequenceEqual(expectedServer[..expectedLength]) ? SessionTokenStatus.Valid : SessionTokenStatus.WrongServer;
    }
}
