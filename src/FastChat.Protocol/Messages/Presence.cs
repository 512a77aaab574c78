using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A user came online or went offline.</summary>
/// <remarks>
/// <para>Opcode <c>0x60</c> (<see cref="Opcode.Presence"/>), 3 fields. Wire form: <c>[0x60, requestId, userName, online, serverId]</c>.</para>
/// </remarks>
public readonly record struct Presence : IMessage<Presence>
{
    private const int V1FieldCount = 3;

    /// <summary>The user.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <summary>Whether the user is online.</summary>
    /// <remarks>Array element 3: bool.</remarks>
    public bool Online { get; init; }

    /// <summary>The server the user is connected to; empty when offline.</summary>
    /// <remarks>Array element 4: str (nil reads as empty).</remarks>
    public string ServerId { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Presence;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 3 fields, or a field is malformed; the message names it.</exception>
    public static Presence Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Presence));
        var message = new Presence
        {
            UserName = FieldReader.ReadName(ref reader, "Presence.userName"),
            Online = FieldReader.ReadBoolean(ref reader, "Presence.online"),
            ServerId = FieldReader.ReadName(ref reader, "Presence.serverId"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Presence));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
        writer.Write(Online);
        writer.Write(ServerId);
    }
}
