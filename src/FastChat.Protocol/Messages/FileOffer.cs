using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Announces an end-to-end encrypted file to a user or a group; <see cref="FileChunk"/>s and a <see cref="FileComplete"/> follow.</summary>
/// <remarks>
/// <para>Opcode <c>0x50</c> (<see cref="Opcode.FileOffer"/>), 9 fields. Wire form: <c>[0x50, requestId, fileId, sender, recipient, group, keyEpoch, totalSize, chunkCount, sentAt, envelope]</c>.</para>
/// </remarks>
public readonly record struct FileOffer : IMessage<FileOffer>
{
    private const int V1FieldCount = 9;

    /// <summary>The file's id, chosen by the sender.</summary>
    /// <remarks>Array element 2: bin of exactly 16 bytes.</remarks>
    public MessageId FileId { get; init; }

    /// <summary>The sending user: empty from the client, filled in by the server.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Sender { get => field ?? string.Empty; init; }

    /// <summary>The receiving user; empty for a group file.</summary>
    /// <remarks>Array element 4: str (nil reads as empty).</remarks>
    public string Recipient { get => field ?? string.Empty; init; }

    /// <summary>The receiving group; empty for a direct file.</summary>
    /// <remarks>Array element 5: str (nil reads as empty).</remarks>
    public string Group { get => field ?? string.Empty; init; }

    /// <summary>For a group file, the group key epoch of the envelope; 0 otherwise.</summary>
    /// <remarks>Array element 6: int32.</remarks>
    public int KeyEpoch { get; init; }

    /// <summary>The file's size in bytes (plaintext).</summary>
    /// <remarks>Array element 7: int64.</remarks>
    public long TotalSize { get; init; }

    /// <summary>How many chunks follow.</summary>
    /// <remarks>Array element 8: int32.</remarks>
    public int ChunkCount { get; init; }

    /// <summary>When the sender sent it (UTC, the sender's clock).</summary>
    /// <remarks>Array element 9: timestamp (extension type -1).</remarks>
    public DateTime SentAt { get; init; }

    /// <summary>The encrypted file name, hash and file key (opaque to the server).</summary>
    /// <remarks>Array element 10: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Envelope { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.FileOffer;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 9 fields, or a field is malformed; the message names it.</exception>
    public static FileOffer Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(FileOffer));
        var message = new FileOffer
        {
            FileId = FieldReader.ReadMessageId(ref reader, "FileOffer.fileId"),
            Sender = FieldReader.ReadName(ref reader, "FileOffer.sender"),
            Recipient = FieldReader.ReadName(ref reader, "FileOffer.recipient"),
            Group = FieldReader.ReadName(ref reader, "FileOffer.group"),
            KeyEpoch = FieldReader.ReadInt32(ref reader, "FileOffer.keyEpoch"),
            TotalSize = FieldReader.ReadInt64(ref reader, "FileOffer.totalSize"),
            ChunkCount = FieldReader.ReadInt32(ref reader, "FileOffer.chunkCount"),
            SentAt = FieldReader.ReadTimestamp(ref reader, "FileOffer.sentAt"),
            Envelope = FieldReader.ReadBinary(ref reader, "FileOffer.envelope"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(FileOffer));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        FieldWriter.WriteMessageId(ref writer, FileId);
        writer.Write(Sender);
        writer.Write(Recipient);
        writer.Write(Group);
        writer.Write(KeyEpoch);
        writer.Write(TotalSize);
        writer.Write(ChunkCount);
        writer.Write(SentAt);
        writer.Write(Envelope);
    }
}
