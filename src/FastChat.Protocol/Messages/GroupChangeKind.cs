namespace FastChat.Protocol.Messages;

/// <summary>What happened to a group (<see cref="GroupChanged.Kind"/>).</summary>
/// <remarks>Written as its integer value. Unknown values are read as-is (forward compatibility).</remarks>
public enum GroupChangeKind : byte
{
    /// <summary>The group was created; <see cref="GroupChanged.Actor"/> is its admin.</summary>
    Created = 1,

    /// <summary>The admin added <see cref="GroupChanged.Member"/>.</summary>
    MemberAdded = 2,

    /// <summary>The admin removed <see cref="GroupChanged.Member"/>; the group key is rotated.</summary>
    MemberRemoved = 3,

    /// <summary><see cref="GroupChanged.Member"/> left the group; the group key is rotated.</summary>
    MemberLeft = 4,

    /// <summary>The admin published a new group key; <see cref="GroupChanged.Epoch"/> is the new epoch.</summary>
    KeyRotated = 5,
}
