namespace FastChat.Protocol.Messages;

/// <summary>What a peer is, as announced in <see cref="Hello.Role"/>.</summary>
/// <remarks>Written as its integer value (a MessagePack positive fixint).</remarks>
public enum PeerRole : byte
{
    /// <summary>A chat client (the user's application).</summary>
    Client = 1,

    /// <summary>A chat server.</summary>
    Server = 2,

    /// <summary>The load balancer.</summary>
    Balancer = 3,
}
