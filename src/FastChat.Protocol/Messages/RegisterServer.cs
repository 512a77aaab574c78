using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A chat server registers with the balancer over its persistent link.</summary>
/// <remarks>
/// <para>Opcode <c>0x70</c> (<see cref="Opcode.RegisterServer"/>), 5 fields. Wire form: <c>[0x70, requestId, serverId, host, port, issuedAt, proof]</c>.</para>
/// </remarks>
public readonly record struct RegisterServer : IMessage<RegisterServer>
{
    private const int V1FieldCount = 5;

    /// <summary>The server's id.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string ServerId { get => field ?? string.Empty; init; }

    /// <summary>The host name or address clients should connect to.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Host { get => field ?? string.Empty; init; }

    /// <summary>The port clients should connect to.</summary>
    /// <remarks>Array element 4: int32.</remarks>
    public int Port { get; init; }

    /// <summary>When the proof was made (UTC); stale proofs are refused.</summary>
    /// <remarks>Array element 5: timestamp (extension type -1).</remarks>
    public DateTime IssuedAt { get; init; }

    /// <summary>An HMAC with the cluster key over the other fields, proving the server belongs to the cluster.</summary>
    /// <remarks>Array element 6: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Proof { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.RegisterServer;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 5 fields, or a field is malformed; the message names it.</exception>
    public static RegisterServer Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(RegisterServer));
        var message = new RegisterServer
        {
            ServerId = FieldReader.ReadName(ref reader, "RegisterServer.serverId"),
            Host = FieldReader.ReadName(ref reader, "RegisterServer.host"),
            Port = FieldReader.ReadInt32(ref reader, "RegisterServer.port"),
            IssuedAt = FieldReader.ReadTimestamp(ref reader, "RegisterServer.issuedAt"),
            Proof = FieldReader.ReadBinary(ref reader, "RegisterServer.proof"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(RegisterServer));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(ServerId);
        writer.Write(Host);
        writer.Write(Port);
        writer.Write(IssuedAt);
        writer.Write(Proof);
    }
}
