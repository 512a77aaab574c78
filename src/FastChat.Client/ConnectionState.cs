namespace FastChat.Client;

/// <summary>Where a <see cref="ChatClient"/>'s session stands.</summary>
public enum ConnectionState
{
    /// <summary>Not signed in: before sign-in, after sign-out, after disposal, or after reconnecting gave up (for example the password changed).</summary>
    Disconnected = 0,

    /// <summary>Signed in, with a live session on a chat server.</summary>
    Connected = 1,

    /// <summary>Signed in, but the session was lost: the client is signing in again through the balancer. Messages sent meanwhile wait in the outbox.</summary>
    Reconnecting = 2,
}
