using System.Security.Cryptography;

namespace FastChat.Client.Internal;

/// <summary>
/// What the client keeps to sign in again after losing its server: the user name and the derived auth key, never the
/// password. Wiped at sign-out and disposal.
/// </summary>
internal sealed class Credentials : IDisposable
{
    public Credentials(string userName, byte[] authKey)
    {
        UserName = userName;
        AuthKey = authKey;
    }

    public string UserName { get; }

    public byte[] AuthKey { get; }

    public void Dispose() => CryptographicOperations.ZeroMemory(AuthKey);
}

/// <summary>An event waiting in the client's channel, with the session it arrived on (where its ack goes).</summary>
internal readonly record struct QueuedEvent(ChatEvent Event, ServerSession? Source);
