using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Authenticates a server-to-server link; the first message after <see cref="Hello"/> on it.</summary>
/// <remarks>
/// <para>Opcode <c>0x73</c> (<see cref="Opcode.PeerLink"/>), 3 fields. Wire form: <c>[0x73, requestId, serverId, issuedAt, proof]</c>.</para>
/// </remarks>
public readonly record struct PeerLink : IMessage<PeerLink>
{
    private const int V1FieldCount = 3;

    /// <summary>The connecting server's id.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string ServerId { get => field ?? string.Empty; init; }

    /// <summary>When the proof was made (UTC); stale proofs are refused.</summary>
    /// <remarks>Array element 3: timestamp (extension type -1).</remarks>
    public DateTime IssuedAt { get; init; }

    /// <summary>An HMAC with the cluster key over the other fields.</summary>
    /// <remarks>Array element 4: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Proof { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.PeerLink;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 3 fields, or a field is malformed; the message names it.</exception>
    public static PeerLink Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(PeerLink));
        var message = new PeerLink
        {
            ServerId = FieldReader.ReadName(ref reader, "PeerLink.serverId"),
            IssuedAt = FieldReader.ReadTimestamp(ref reader, "PeerLink.issuedAt"),
            Proof = FieldReader.ReadBinary(ref reader, "PeerLink.proof"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(PeerLink));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(ServerId);
        writer.Write(IssuedAt);
        writer.Write(Proof);
    }
}
