using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Marks the end of a file transfer.</summary>
/// <remarks>
/// <para>Opcode <c>0x52</c> (<see cref="Opcode.FileComplete"/>), 2 fields. Wire form: <c>[0x52, requestId, fileId, chunkCount]</c>.</para>
/// </remarks>
public readonly record struct FileComplete : IMessage<FileComplete>
{
    private const int V1FieldCount = 2;

    /// <summary>The file's id.</summary>
    /// <remarks>Array element 2: bin of exactly 16 bytes.</remarks>
    public MessageId FileId { get; init; }

    /// <summary>How many chunks were sent.</summary>
    /// <remarks>Array element 3: int32.</remarks>
    public int ChunkCount { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.FileComplete;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 2 fields, or a field is malformed; the message names it.</exception>
    public static FileComplete Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(FileComplete));
        var message = new FileComplete
        {
            FileId = FieldReader.ReadMessageId(ref reader, "FileComplete.fileId"),
            ChunkCount = FieldReader.ReadInt32(ref reader, "FileComplete.chunkCount"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(FileComplete));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        FieldWriter.WriteMessageId(ref writer, FileId);
        writer.Write(ChunkCount);
    }
}
