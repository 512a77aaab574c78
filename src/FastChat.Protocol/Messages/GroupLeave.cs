using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The sender leaves a group.</summary>
/// <remarks>
/// <para>Opcode <c>0x33</c> (<see cref="Opcode.GroupLeave"/>), 1 field. Wire form: <c>[0x33, requestId, group]</c>.</para>
/// </remarks>
public readonly record struct GroupLeave : IMessage<GroupLeave>
{
    private const int V1FieldCount = 1;

    /// <summary>The group.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupLeave;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static GroupLeave Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupLeave));
        var message = new GroupLeave
        {
            Group = FieldReader.ReadName(ref reader, "GroupLeave.group"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupLeave));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Group);
    }
}
