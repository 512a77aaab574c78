using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The first frame each way on every connection: who the peer is and what it speaks.</summary>
/// <remarks>
/// <para>Opcode <c>0x01</c> (<see cref="Opcode.Hello"/>), 4 fields. Wire form: <c>[0x01, requestId, protocolVersion, role, features, agent]</c>.</para>
/// <para>A receiver that does not speak the sender's <see cref="ProtocolVersion"/> replies <see cref="Error"/> with <see cref="ErrorCode.UnsupportedVersion"/> and closes the connection.</para>
/// </remarks>
public readonly record struct Hello : IMessage<Hello>
{
    private const int V1FieldCount = 4;

    /// <summary>The sender's protocol version (<see cref="ProtocolConstants.ProtocolVersion"/>).</summary>
    /// <remarks>Array element 2: int32.</remarks>
    public int ProtocolVersion { get; init; }

    /// <summary>What the sender is.</summary>
    /// <remarks>Array element 3: integer 0-255 (<see cref="PeerRole"/>; unknown values are kept).</remarks>
    public PeerRole Role { get; init; }

    /// <summary>Optional features the sender supports, by name (<see cref="ProtocolFeatures"/>). Unknown names are ignored.</summary>
    /// <remarks>Array element 4: array of str (nil reads as empty).</remarks>
    public IReadOnlyList<string> Features { get => field ?? []; init; }

    /// <summary>The sender's software and version, for logs (for example <c>FastChat.Client/0.1.0</c>).</summary>
    /// <remarks>Array element 5: str (nil reads as empty).</remarks>
    public string Agent { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Hello;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 4 fields, or a field is malformed; the message names it.</exception>
    public static Hello Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Hello));
        var message = new Hello
        {
            ProtocolVersion = FieldReader.ReadInt32(ref reader, "Hello.protocolVersion"),
            Role = (PeerRole)FieldReader.ReadByte(ref reader, "Hello.role", "PeerRole"),
            Features = FieldReader.ReadNameArray(ref reader, "Hello.features"),
            Agent = FieldReader.ReadName(ref reader, "Hello.agent"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Hello));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(ProtocolVersion);
        writer.Write((int)Role);
        FieldWriter.WriteNameArray(ref writer, Features);
        writer.Write(Agent);
    }
}
