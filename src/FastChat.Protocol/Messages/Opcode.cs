namespace FastChat.Protocol.Messages;

/// <summary>
/// Identifies a message: the first element of every frame payload (<c>[opcode, requestId, fields...]</c>).
/// </summary>
/// <remarks>
/// Values are grouped by area in blocks of 16 (session, accounts, messaging, groups, keys, files, presence,
/// cluster). A receiver that gets a well-framed message with an opcode it does not know skips it.
/// </remarks>
public enum Opcode : byte
{
    /// <summary>The first frame each way: protocol version, role, features (<see cref="Messages.Hello"/>).</summary>
    Hello = 0x01,

    /// <summary>A failure reply or notice (<see cref="Messages.Error"/>).</summary>
    Error = 0x02,

    /// <summary>A liveness probe (<see cref="Messages.Ping"/>).</summary>
    Ping = 0x03,

    /// <summary>The answer to a <see cref="Ping"/> (<see cref="Messages.Pong"/>).</summary>
    Pong = 0x04,

    /// <summary>Generic success reply to a request (<see cref="Messages.Ok"/>).</summary>
    Ok = 0x05,

    /// <summary>The server asks the client to go back through the balancer (<see cref="Messages.Reconnect"/>).</summary>
    Reconnect = 0x06,

    /// <summary>Asks for a user's key-derivation parameters before sign-in (<see cref="Messages.KdfParametersRequest"/>).</summary>
    KdfParametersRequest = 0x10,

    /// <summary>A user's key-derivation parameters (<see cref="Messages.KdfParameters"/>).</summary>
    KdfParameters = 0x11,

    /// <summary>Creates an account (<see cref="Messages.SignUp"/>).</summary>
    SignUp = 0x12,

    /// <summary>Signs in to the balancer (<see cref="Messages.SignIn"/>).</summary>
    SignIn = 0x13,

    /// <summary>The balancer's answer to sign-up or sign-in: the server to use and a session token (<see cref="Messages.Assigned"/>).</summary>
    Assigned = 0x14,

    /// <summary>Opens a session on a chat server with a session token (<see cref="Messages.Resume"/>).</summary>
    Resume = 0x15,

    /// <summary>The server accepted a <see cref="Resume"/> (<see cref="Messages.Resumed"/>).</summary>
    Resumed = 0x16,

    /// <summary>Ends the session (<see cref="Messages.SignOut"/>).</summary>
    SignOut = 0x17,

    /// <summary>An end-to-end encrypted message to one user (<see cref="Messages.DirectMessage"/>).</summary>
    DirectMessage = 0x20,

    /// <summary>An end-to-end encrypted message to a group (<see cref="Messages.GroupMessage"/>).</summary>
    GroupMessage = 0x21,

    /// <summary>Acknowledges a message by id (<see cref="Messages.Ack"/>).</summary>
    Ack = 0x22,

    /// <summary>Tells a sender that a recipient acknowledged its message (<see cref="Messages.Delivered"/>).</summary>
    Delivered = 0x23,

    /// <summary>Acknowledges several messages at once, for peers that negotiated <see cref="ProtocolFeatures.AckBatch"/> (<see cref="Messages.AckBatch"/>).</summary>
    AckBatch = 0x24,

    /// <summary>Tells a sender that a recipient acknowledged several of its messages, for peers that negotiated <see cref="ProtocolFeatures.AckBatch"/> (<see cref="Messages.DeliveredBatch"/>).</summary>
    DeliveredBatch = 0x25,

    /// <summary>Creates a group (<see cref="Messages.GroupCreate"/>).</summary>
    GroupCreate = 0x30,

    /// <summary>Adds a member to a group (<see cref="Messages.GroupAddMember"/>).</summary>
    GroupAddMember = 0x31,

    /// <summary>Removes a member from a group (<see cref="Messages.GroupRemoveMember"/>).</summary>
    GroupRemoveMember = 0x32,

    /// <summary>Leaves a group (<see cref="Messages.GroupLeave"/>).</summary>
    GroupLeave = 0x33,

    /// <summary>Asks for a group's members (<see cref="Messages.GroupMembersRequest"/>).</summary>
    GroupMembersRequest = 0x34,

    /// <summary>A group's admin, key epoch and members (<see cref="Messages.GroupMembers"/>).</summary>
    GroupMembers = 0x35,

    /// <summary>A group key wrapped for one member (<see cref="Messages.GroupKeyEnvelope"/>).</summary>
    GroupKeyEnvelope = 0x36,

    /// <summary>Notice of a change to a group (<see cref="Messages.GroupChanged"/>).</summary>
    GroupChanged = 0x37,

    /// <summary>Asks for a user's public keys (<see cref="Messages.PublicKeysRequest"/>).</summary>
    PublicKeysRequest = 0x40,

    /// <summary>A user's public keys (<see cref="Messages.PublicKeys"/>).</summary>
    PublicKeys = 0x41,

    /// <summary>Announces a file transfer (<see cref="Messages.FileOffer"/>).</summary>
    FileOffer = 0x50,

    /// <summary>One encrypted chunk of a file (<see cref="Messages.FileChunk"/>).</summary>
    FileChunk = 0x51,

    /// <summary>Marks the end of a file transfer (<see cref="Messages.FileComplete"/>).</summary>
    FileComplete = 0x52,

    /// <summary>A user came online or went offline (<see cref="Messages.Presence"/>).</summary>
    Presence = 0x60,

    /// <summary>A chat server registers with the balancer (<see cref="Messages.RegisterServer"/>).</summary>
    RegisterServer = 0x70,

    /// <summary>A chat server's periodic load report (<see cref="Messages.LoadReport"/>).</summary>
    LoadReport = 0x71,

    /// <summary>A frame relayed between chat servers for a user on the receiving server (<see cref="Messages.Relay"/>).</summary>
    Relay = 0x72,

    /// <summary>Authenticates a server-to-server link (<see cref="Messages.PeerLink"/>).</summary>
    PeerLink = 0x73,

    /// <summary>Asks the balancer for the cluster's state (<see cref="Messages.ClusterStatusRequest"/>).</summary>
    ClusterStatusRequest = 0x74,

    /// <summary>The cluster's state (<see cref="Messages.ClusterStatus"/>).</summary>
    ClusterStatus = 0x75,
}
