using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Opens a session on a chat server; answered with <see cref="Resumed"/> or an <see cref="Error"/>.</summary>
/// <remarks>
/// <para>Opcode <c>0x15</c> (<see cref="Opcode.Resume"/>), 1 field. Wire form: <c>[0x15, requestId, sessionToken]</c>.</para>
/// </remarks>
public readonly record struct Resume : IMessage<Resume>
{
    private const int V1FieldCount = 1;

    /// <summary>The token from <see cref="Assigned"/>.</summary>
    /// <remarks>Array element 2: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> SessionToken { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Resume;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 1 field, or a field is malformed; the message names it.</exception>
    public static Resume Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Resume));
        var message = new Resume
        {
            SessionToken = FieldReader.ReadBinary(ref reader, "Resume.sessionToken"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Resume));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(SessionToken);
    }
}
