using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The admin adds a member to a group.</summary>
/// <remarks>
/// <para>Opcode <c>0x31</c> (<see cref="Opcode.GroupAddMember"/>), 2 fields. Wire form: <c>[0x31, requestId, group, member]</c>.</para>
/// </remarks>
public readonly record struct GroupAddMember : IMessage<GroupAddMember>
{
    private const int V1FieldCount = 2;

    /// <summary>The group.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <summary>The user to add.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Member { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupAddMember;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 2 fields, or a field is malformed; the message names it.</exception>
    public static GroupAddMember Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupAddMember));
        var message = new GroupAddMember
        {
            Group = FieldReader.ReadName(ref reader, "GroupAddMember.group"),
            Member = FieldReader.ReadName(ref reader, "GroupAddMember.member"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupAddMember));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Group);
        writer.Write(Member);
    }
}
