using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Tells members that a group changed.</summary>
/// <remarks>
/// <para>Opcode <c>0x37</c> (<see cref="Opcode.GroupChanged"/>), 5 fields. Wire form: <c>[0x37, requestId, group, kind, member, actor, epoch]</c>.</para>
/// </remarks>
public readonly record struct GroupChanged : IMessage<GroupChanged>
{
    private const int V1FieldCount = 5;

    /// <summary>The group.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <summary>What happened.</summary>
    /// <remarks>Array element 3: integer 0-255 (<see cref="GroupChangeKind"/>; unknown values are kept).</remarks>
    public GroupChangeKind Kind { get; init; }

    /// <summary>The member concerned; empty when none.</summary>
    /// <remarks>Array element 4: str (nil reads as empty).</remarks>
    public string Member { get => field ?? string.Empty; init; }

    /// <summary>The user who made the change.</summary>
    /// <remarks>Array element 5: str (nil reads as empty).</remarks>
    public string Actor { get => field ?? string.Empty; init; }

    /// <summary>The group key epoch after the change.</summary>
    /// <remarks>Array element 6: int32.</remarks>
    public int Epoch { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupChanged;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 5 fields, or a field is malformed; the message names it.</exception>
    public static GroupChanged Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupChanged));
        var message = new GroupChanged
        {
            Group = FieldReader.ReadName(ref reader, "GroupChanged.group"),
            Kind = (GroupChangeKind)FieldReader.ReadByte(ref reader, "GroupChanged.kind", "GroupChangeKind"),
            Member = FieldReader.ReadName(ref reader, "GroupChanged.member"),
            Actor = FieldReader.ReadName(ref reader, "GroupChanged.actor"),
            Epoch = FieldReader.ReadInt32(ref reader, "GroupChanged.epoch"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupChanged));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Group);
        writer.Write((int)Kind);
        writer.Write(Member);
        writer.Write(Actor);
        writer.Write(Epoch);
    }
}
