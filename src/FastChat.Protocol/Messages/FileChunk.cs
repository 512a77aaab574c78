using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>One encrypted chunk of a file.</summary>
/// <remarks>
/// <para>Opcode <c>0x51</c> (<see cref="Opcode.FileChunk"/>), 3 fields. Wire form: <c>[0x51, requestId, fileId, index, data]</c>.</para>
/// </remarks>
public readonly record struct FileChunk : IMessage<FileChunk>
{
    private const int V1FieldCount = 3;

    /// <summary>The file's id, from <see cref="FileOffer.FileId"/>.</summary>
    /// <remarks>Array element 2: bin of exactly 16 bytes.</remarks>
    public MessageId FileId { get; init; }

    /// <summary>The chunk's index, from 0.</summary>
    /// <remarks>Array element 3: int32.</remarks>
    public int Index { get; init; }

    /// <summary>The chunk's ciphertext: at most <see cref="ProtocolConstants.MaxFileChunkSize"/> bytes of plaintext plus the AEAD overhead.</summary>
    /// <remarks>Array element 4: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Data { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.FileChunk;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 3 fields, or a field is malformed; the message names it.</exception>
    public static FileChunk Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(FileChunk));
        var message = new FileChunk
        {
            FileId = FieldReader.ReadMessageId(ref reader, "FileChunk.fileId"),
            Index = FieldReader.ReadInt32(ref reader, "FileChunk.index"),
            Data = FieldReader.ReadBinary(ref reader, "FileChunk.data"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(FileChunk));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        FieldWriter.WriteMessageId(ref writer, FileId);
        writer.Write(Index);
        writer.Write(Data);
    }
}
