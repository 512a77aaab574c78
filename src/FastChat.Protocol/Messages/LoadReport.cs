using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A chat server's periodic load report to the balancer (also its heartbeat).</summary>
/// <remarks>
/// <para>Opcode <c>0x71</c> (<see cref="Opcode.LoadReport"/>), 4 fields. Wire form: <c>[0x71, requestId, serverId, connections, cpu, memoryBytes]</c>.</para>
/// </remarks>
public readonly record struct LoadReport : IMessage<LoadReport>
{
    private const int V1FieldCount = 4;

    /// <summary>The reporting server.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string ServerId { get => field ?? string.Empty; init; }

    /// <summary>Its open client connections.</summary>
    /// <remarks>Array element 3: int32.</remarks>
    public int Connections { get; init; }

    /// <summary>Its CPU use, from 0 to 1.</summary>
    /// <remarks>Array element 4: float64 (any MessagePack number is accepted).</remarks>
    public double Cpu { get; init; }

    /// <summary>Its memory use, in bytes.</summary>
    /// <remarks>Array element 5: int64.</remarks>
    public long MemoryBytes { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.LoadReport;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 4 fields, or a field is malformed; the message names it.</exception>
    public static LoadReport Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(LoadReport));
        var message = new LoadReport
        {
            ServerId = FieldReader.ReadName(ref reader, "LoadReport.serverId"),
            Connections = FieldReader.ReadInt32(ref reader, "LoadReport.connections"),
            Cpu = FieldReader.ReadDouble(ref reader, "LoadReport.cpu"),
            MemoryBytes = FieldReader.ReadInt64(ref reader, "LoadReport.memoryBytes"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(LoadReport));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(ServerId);
        writer.Write(Connections);
        writer.Write(Cpu);
        writer.Write(MemoryBytes);
    }
}
