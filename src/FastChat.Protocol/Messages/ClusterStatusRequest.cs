using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Asks the balancer for the cluster's state; answered with <see cref="ClusterStatus"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x74</c> (<see cref="Opcode.ClusterStatusRequest"/>), 0 fields. Wire form: <c>[0x74, requestId]</c>.</para>
/// </remarks>
public readonly record struct ClusterStatusRequest : IMessage<ClusterStatusRequest>
{
    private const int V1FieldCount = 0;

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.ClusterStatusRequest;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException"><paramref name="fieldCount"/> is negative, or a trailing field from a later version is malformed.</exception>
    public static ClusterStatusRequest Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(ClusterStatusRequest));
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(ClusterStatusRequest));
        return default;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
    }
}
