using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The admin removes a member from a group (the admin then rotates the group key).</summary>
/// <remarks>
/// <para>Opcode <c>0x32</c> (<see cref="Opcode.GroupRemoveMember"/>), 2 fields. Wire form: <c>[0x32, requestId, group, member]</c>.</para>
/// </remarks>
public readonly record struct GroupRemoveMember : IMessage<GroupRemoveMember>
{
    private const int V1FieldCount = 2;

    /// <summary>The group.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <summary>The user to remove.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Member { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupRemoveMember;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 2 fields, or a field is malformed; the message names it.</exception>
    public static GroupRemoveMember Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupRemoveMember));
        var message = new GroupRemoveMember
        {
            Group = FieldReader.ReadName(ref reader, "GroupRemoveMember.group"),
            Member = FieldReader.ReadName(ref reader, "GroupRemoveMember.member"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupRemoveMember));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Group);
        writer.Write(Member);
    }
}
