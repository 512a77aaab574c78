using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A group's admin, current key epoch and members.</summary>
/// <remarks>
/// <para>Opcode <c>0x35</c> (<see cref="Opcode.GroupMembers"/>), 4 fields. Wire form: <c>[0x35, requestId, group, admin, keyEpoch, members]</c>.</para>
/// </remarks>
public readonly record struct GroupMembers : IMessage<GroupMembers>
{
    private const int V1FieldCount = 4;

    /// <summary>The group.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <summary>The group's admin.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Admin { get => field ?? string.Empty; init; }

    /// <summary>The current group key epoch.</summary>
    /// <remarks>Array element 4: int32.</remarks>
    public int KeyEpoch { get; init; }

    /// <summary>The members, the admin included.</summary>
    /// <remarks>Array element 5: array of str (nil reads as empty).</remarks>
    public IReadOnlyList<string> Members { get => field ?? []; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupMembers;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 4 fields, or a field is malformed; the message names it.</exception>
    public static GroupMembers Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupMembers));
        var message = new GroupMembers
        {
            Group = FieldReader.ReadName(ref reader, "GroupMembers.group"),
            Admin = FieldReader.ReadName(ref reader, "GroupMembers.admin"),
            KeyEpoch = FieldReader.ReadInt32(ref reader, "GroupMembers.keyEpoch"),
            Members = FieldReader.ReadNameArray(ref reader, "GroupMembers.members"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupMembers));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Group);
        writer.Write(Admin);
        writer.Write(KeyEpoch);
        FieldWriter.WriteNameArray(ref writer, Members);
    }
}
