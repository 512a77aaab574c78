using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Asks for a group's members; answered with <see cref="GroupMembers"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x34</c> (<see cref="Opcode.GroupMembersRequest"/>), 1 field. Wire form: <c>[0x34, requestId, group]</c>.</para>
/// </remarks>
public readonly record struct GroupMembersRequest : IMessage<GroupMembersRequest>
{
    private const int V1FieldCount = 1;

    /// <summary>The group.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupMembersRequest;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static GroupMembersRequest Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupMembersRequest));
        var message = new GroupMembersRequest
        {
            Group = FieldReader.ReadName(ref reader, "GroupMembersRequest.group"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupMembersRequest));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Group);
    }
}
