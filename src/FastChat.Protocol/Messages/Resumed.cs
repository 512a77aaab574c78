using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The server accepted a <see cref="Resume"/>; pending messages follow.</summary>
/// <remarks>
/// <para>Opcode <c>0x16</c> (<see cref="Opcode.Resumed"/>), 3 fields. Wire form: <c>[0x16, requestId, userName, serverId, pendingCount]</c>.</para>
/// </remarks>
public readonly record struct Resumed : IMessage<Resumed>
{
    private const int V1FieldCount = 3;

    /// <summary>The user the session belongs to.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <summary>The server's id.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string ServerId { get => field ?? string.Empty; init; }

    /// <summary>How many stored messages the server is about to deliver.</summary>
    /// <remarks>Array element 4: int32.</remarks>
    public int PendingCount { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Resumed;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 3 fields, or a field is malformed; the message names it.</exception>
    public static Resumed Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Resumed));
        var message = new Resumed
        {
            UserName = FieldReader.ReadName(ref reader, "Resumed.userName"),
            ServerId = FieldReader.ReadName(ref reader, "Resumed.serverId"),
            PendingCount = FieldReader.ReadInt32(ref reader, "Resumed.pendingCount"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Resumed));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
        writer.Write(ServerId);
        writer.Write(PendingCount);
    }
}
