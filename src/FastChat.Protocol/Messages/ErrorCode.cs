namespace FastChat.Protocol.Messages;

/// <summary>Why a request failed or a connection is being closed (<see cref="Error.Code"/>).</summary>
/// <remarks>
/// Written as its integer value. Codes are grouped: 1-9 protocol, 10-19 accounts and sessions, 20-29 users and
/// groups, 30-39 files, 40-49 connection health, 50+ server faults. Unknown values are read as-is.
/// </remarks>
public enum ErrorCode
{
    /// <summary>The peer sent a malformed or invalid message.</summary>
    ProtocolViolation = 1,

    /// <summary>A frame's length exceeded the connection's maximum frame size; the connection is closed.</summary>
    FrameTooLarge = 2,

    /// <summary>The peer's protocol version is not supported; the connection is closed.</summary>
    UnsupportedVersion = 3,

    /// <summary>The opcode is not known to the receiver (sent in reply to a request it cannot serve).</summary>
    UnknownOpcode = 4,

    /// <summary>The message is not allowed in the connection's current state (for example, before sign-in).</summary>
    Unexpected = 5,

    /// <summary>Wrong user name or credentials.</summary>
    AuthenticationFailed = 10,

    /// <summary>Too many attempts or messages; try again later.</summary>
    RateLimited = 11,

    /// <summary>Sign-up for a user name that is taken.</summary>
    UserExists = 12,

    /// <summary>The user name does not meet the naming rules.</summary>
    InvalidUserName = 13,

    /// <summary>The session token has expired; sign in again.</summary>
    TokenExpired = 14,

    /// <summary>The session token is not valid (bad signature, wrong server or user).</summary>
    TokenInvalid = 15,

    /// <summary>The balancer has no live chat server to assign.</summary>
    NoServerAvailable = 16,

    /// <summary>No such user.</summary>
    UserNotFound = 20,

    /// <summary>No such group.</summary>
    GroupNotFound = 21,

    /// <summary>A group with that name exists.</summary>
    GroupExists = 22,

    /// <summary>Only the group's admin may do that.</summary>
    NotAdmin = 23,

    /// <summary>The group has reached its member limit.</summary>
    GroupFull = 24,

    /// <summary>The user is already a member of the group.</summary>
    AlreadyMember = 25,

    /// <summary>The user is not a member of the group.</summary>
    NotMember = 26,

    /// <summary>The file exceeds the size limit.</summary>
    FileTooLarge = 30,

    /// <summary>The receiver fell too far behind; its connection is closed and its pending messages kept.</summary>
    SlowConsumer = 40,

    /// <summary>The server is shutting down.</summary>
    ShuttingDown = 41,

    /// <summary>The server failed to handle the request.</summary>
    InternalError = 50,
}
