using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Creates a group with the sender as its admin.</summary>
/// <remarks>
/// <para>Opcode <c>0x30</c> (<see cref="Opcode.GroupCreate"/>), 1 field. Wire form: <c>[0x30, requestId, group]</c>.</para>
/// </remarks>
public readonly record struct GroupCreate : IMessage<GroupCreate>
{
    private const int V1FieldCount = 1;

    /// <summary>The new group's name.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupCreate;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static GroupCreate Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupCreate));
        var message = new GroupCreate
        {
            Group = FieldReader.ReadName(ref reader, "GroupCreate.group"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupCreate));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Group);
    }
}
