namespace FastChat.Client;

/// <summary>The outcome of <see cref="ChatClient.SignInAsync"/> or <see cref="ChatClient.SignUpAsync(string, string, AccountKeys, CancellationToken)"/>: who is signed in, where, and the account's keys.</summary>
public sealed class SignInResult
{
    internal SignInResult(string userName, string serverId, string serverHost, int serverPort, DateTime sessionExpiresAt, int pendingCount, AccountKeys keys, ReadOnlyMemory<byte> wrapKey)
    {
        UserName = userName;
        ServerId = serverId;
        ServerHost = serverHost;
        ServerPort = serverPort;
        SessionExpiresAt = sessionExpiresAt;
        PendingCount = pendingCount;
        Keys = keys;
        WrapKey = wrapKey;
    }

    /// <summary>The signed-in user.</summary>
    public string UserName { get; }

    /// <summary>The chat server the balancer assigned.</summary>
    public string ServerId { get; }

    /// <summary>The assigned server's host name or address.</summary>
    public string ServerHost { get; }

    /// <summary>The assigned server's port.</summary>
    public int ServerPort { get; }

    /// <summary>When the session token expires (UTC); the client signs in again by itself when a later reconnection needs a new one.</summary>
    public DateTime SessionExpiresAt { get; }

    /// <summary>How many stored messages the server announced for delivery right after sign-in.</summary>
    public int PendingCount { get; }

    /// <summary>The account's public keys and wrapped private keys, as stored at sign-up.</summary>
    public AccountKeys Keys { get; }

    /// <summary>
    /// The 32-byte key derived from the password that unwraps <see cref="AccountKeys.WrappedPrivateKeys"/>. It never
    /// leaves the client; keep it no longer than needed.
    /// </summary>
    public ReadOnlyMemory<byte> WrapKey { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{UserName} on {ServerId} ({ServerHost}:{ServerPort})";
}
