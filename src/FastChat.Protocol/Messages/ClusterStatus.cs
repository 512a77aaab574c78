using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The cluster's state as the balancer sees it.</summary>
/// <remarks>
/// <para>Opcode <c>0x75</c> (<see cref="Opcode.ClusterStatus"/>), 1 field. Wire form: <c>[0x75, requestId, servers]</c>.</para>
/// </remarks>
public readonly record struct ClusterStatus : IMessage<ClusterStatus>
{
    private const int V1FieldCount = 1;

    /// <summary>The registered servers.</summary>
    /// <remarks>Array element 2: array of <see cref="ServerStatus"/>, each an array of 8 elements.</remarks>
    public IReadOnlyList<ServerStatus> Servers { get => field ?? []; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.ClusterStatus;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static ClusterStatus Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(ClusterStatus));
        var message = new ClusterStatus
        {
            Servers = ServerStatus.ReadArray(ref reader, "ClusterStatus.servers"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(ClusterStatus));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        ServerStatus.WriteArray(ref writer, Servers);
    }
}
