using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A group key wrapped for one member by the admin; the server stores and forwards it.</summary>
/// <remarks>
/// <para>Opcode <c>0x36</c> (<see cref="Opcode.GroupKeyEnvelope"/>), 5 fields. Wire form: <c>[0x36, requestId, group, member, epoch, sender, envelope]</c>.</para>
/// </remarks>
public readonly record struct GroupKeyEnvelope : IMessage<GroupKeyEnvelope>
{
    private const int V1FieldCount = 5;

    /// <summary>The group.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <summary>The member it is wrapped for (the recipient).</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Member { get => field ?? string.Empty; init; }

    /// <summary>The key's epoch.</summary>
    /// <remarks>Array element 4: int32.</remarks>
    public int Epoch { get; init; }

    /// <summary>The admin who wrapped it: empty from the client, filled in by the server.</summary>
    /// <remarks>Array element 5: str (nil reads as empty).</remarks>
    public string Sender { get => field ?? string.Empty; init; }

    /// <summary>The wrapped key (opaque to the server).</summary>
    /// <remarks>Array element 6: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Envelope { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.GroupKeyEnvelope;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 5 fields, or a field is malformed; the message names it.</exception>
    public static GroupKeyEnvelope Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(GroupKeyEnvelope));
        var message = new GroupKeyEnvelope
        {
            Group = FieldReader.ReadName(ref reader, "GroupKeyEnvelope.group"),
            Member = FieldReader.ReadName(ref reader, "GroupKeyEnvelope.member"),
            Epoch = FieldReader.ReadInt32(ref reader, "GroupKeyEnvelope.epoch"),
            Sender = FieldReader.ReadName(ref reader, "GroupKeyEnvelope.sender"),
            Envelope = FieldReader.ReadBinary(ref reader, "GroupKeyEnvelope.envelope"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(GroupKeyEnvelope));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(Group);
        writer.Write(Member);
        writer.Write(Epoch);
        writer.Write(Sender);
        writer.Write(Envelope);
    }
}
