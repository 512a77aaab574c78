using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Storage;

/// <summary>A stored account. The server never sees the password: it keeps the KDF parameters the client chose, a salted hash of the derived authentication key, the public keys and the client-wrapped private keys.</summary>
/// <param name="UserName">The user name (unique).</param>
/// <param name="KdfAlgorithm">The key-derivation function, e.g. <c>pbkdf2-sha256</c>.</param>
/// <param name="KdfSalt">The account salt the client chose.</param>
/// <param name="KdfIterations">The iteration count the client chose.</param>
/// <param name="ServerSalt">A random salt chosen by the balancer at sign-up.</param>
/// <param name="AuthKeyHash"><c>SHA-256(serverSalt || authKey)</c>.</param>
/// <param name="AgreementPublicKey">The ECDH P-256 public key.</param>
/// <param name="SigningPublicKey">The ECDSA P-256 public key.</param>
/// <param name="WrappedPrivateKeys">The private keys, wrapped by the client (opaque).</param>
/// <param name="CreatedAt">When the account was created (UTC).</param>
public sealed record Account(
    string UserName,
    string KdfAlgorithm,
    byte[] KdfSalt,
    int KdfIterations,
    byte[] ServerSalt,
    byte[] AuthKeyHash,
    byte[] AgreementPublicKey,
    byte[] SigningPublicKey,
    byte[] WrappedPrivateKeys,
    DateTime CreatedAt);

/// <summary>A group as stored.</summary>
/// <param name="Name">The group name.</param>
/// <param name="Admin">The admin (also a member).</param>
/// <param name="MemberLimit">The most members it may have.</param>
/// <param name="KeyEpoch">The current key epoch; advanced by one on every removal or leave.</param>
/// <param name="Members">The members in the order they joined (the admin first).</param>
public sealed record GroupInfo(string Name, string Admin, int MemberLimit, int KeyEpoch, IReadOnlyList<string> Members);

/// <summary>The outcome of a membership change.</summary>
public enum GroupChangeStatus
{
    /// <summary>The change was made.</summary>
    Ok = 0,

    /// <summary>There is no such group.</summary>
    GroupNotFound = 1,

    /// <summary>The user is already a member.</summary>
    AlreadyMember = 2,

    /// <summary>The group has reached its member limit.</summary>
    GroupFull = 3,

    /// <summary>The user is not a member.</summary>
    NotMember = 4,
}

/// <summary>The result of <see cref="IChatStore.AddMemberAsync"/> or <see cref="IChatStore.RemoveMemberAsync"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="KeyEpoch">The group's key epoch after the change (0 when the group was not found).</param>
/// <param name="Admin">The group's admin after the change (empty when the group was not found or was deleted).</param>
/// <param name="GroupDeleted">Whether the group was deleted because its last member left.</param>
public readonly record struct GroupChange(GroupChangeStatus Status, int KeyEpoch, string Admin, bool GroupDeleted = false);

/// <summary>A group key wrapped for one member at one epoch (opaque to the server).</summary>
/// <param name="Group">The group.</param>
/// <param name="Member">The member it is wrapped for.</param>
/// <param name="Epoch">The key epoch.</param>
/// <param name="Sender">Who wrapped it (the admin at the time).</param>
/// <param name="Envelope">The wrapped key.</param>
public sealed record GroupKeyEnvelopeRecord(string Group, string Member, int Epoch, string Sender, byte[] Envelope);

/// <summary>What a pending item carries.</summary>
public enum PendingKind
{
    /// <summary>A <see cref="DirectMessage"/> or <see cref="GroupMessage"/> payload.</summary>
    Message = 1,

    /// <summary>A <see cref="FileOffer"/> payload.</summary>
    FileOffer = 2,

    /// <summary>A <see cref="FileChunk"/> payload; <see cref="PendingItem.Part"/> is the chunk index.</summary>
    FileChunk = 3,

    /// <summary>A <see cref="FileComplete"/> payload.</summary>
    FileComplete = 4,
}

/// <summary>
/// An item waiting for its recipient: the complete message payload (<c>[opcode, requestId, fields...]</c>, no length
/// prefix) exactly as it is to be delivered. Items are unique by (recipient, id, kind, part).
/// </summary>
/// <param name="Sequence">The store-assigned arrival order (ascending per store; ignored on enqueue).</param>
/// <param name="Recipient">Who it is for.</param>
/// <param name="Id">The message or file id.</param>
/// <param name="Kind">What it carries.</param>
/// <param name="Part">The chunk index for <see cref="PendingKind.FileChunk"/>; 0 otherwise.</param>
/// <param name="Payload">The payload to deliver, byte for byte.</param>
/// <param name="EnqueuedAt">When it was stored (UTC).</param>
public sealed record PendingItem(long Sequence, string Recipient, MessageId Id, PendingKind Kind, int Part, byte[] Payload, DateTime EnqueuedAt);

/// <summary>A chat server's advertised endpoint.</summary>
/// <param name="ServerId">The server id.</param>
/// <param name="Host">The host clients and peers connect to.</param>
/// <param name="Port">The port.</param>
/// <param name="UpdatedAt">When it was last recorded (UTC).</param>
public sealed record ServerRecord(string ServerId, string Host, int Port, DateTime UpdatedAt);
