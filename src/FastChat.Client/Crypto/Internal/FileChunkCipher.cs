using System.Buffers.Binary;
using System.Security.Cryptography;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto.Internal;

/// <summary>
/// AES-256-GCM for the chunks of one file. Every chunk is bound to its file, its position and the file's chunk count:
/// <code>
/// chunk key = HKDF-SHA256(ikm = file key, salt = fileId, info = str("fastchat file v1"))
/// nonce(i)  = fileId[0..8] || i (uint32)
/// ad(i)     = version 0x01 || fileId (16) || i (uint32) || chunkCount (uint32) || isLast (1 byte: 1 for the last chunk)
/// chunk(i)  = ciphertext || tag (16)
/// </code>
/// A chunk moved to another position, taken from another file, or presented as the last one when it is not, fails
/// authentication. Nonces never repeat under one chunk key: the index differs in every chunk.
/// </summary>
internal sealed class FileChunkCipher : IDisposable
{
    public const byte Version = 1;
    public const int TagSize = 16;
    private const int NonceSize = 12;
    private const int AssociatedDataSize = 1 + MessageId.Size + sizeof(uint) + sizeof(uint) + 1;

    private readonly AesGcm _aes;
    private readonly byte[] _fileId = new byte[MessageId.Size];
    private readonly int _chunkCount;

    public FileChunkCipher(MessageId fileId, FileManifest manifest)
    {
        fileId.TryWriteBytes(_fileId);
        _chunkCount = manifest.ChunkCount;
        Span<byte> info = stackalloc byte[ByteWriter.LabelSize(Labels.FileChunk)];
        new ByteWriter(info).WriteLabel(Labels.FileChunk);
        Span<byte> key = stackalloc byte[FileManifest.KeySize];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, manifest.FileKey, key, _fileId, info);
            _aes = new AesGcm(key, TagSize);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public void Encrypt(int index, ReadOnlySpan<byte> plaintext, Span<byte> chunk)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        Span<byte> associatedData = stackalloc byte[AssociatedDataSize];
        Prepare(index, nonce, associatedData);
        _aes.Encrypt(nonce, plaintext, chunk[..plaintext.Length], chunk.Slice(plaintext.Length, TagSize), associatedData);
    }

    /// <exception cref="AuthenticationTagMismatchException">The chunk is not chunk <paramref name="index"/> of this file, or was modified.</exception>
    public void Decrypt(int index, ReadOnlySpan<byte> chunk, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        Span<byte> associatedData = stackalloc byte[AssociatedDataSize];
        Prepare(index, nonce, associatedData);
        _aes.Decrypt(nonce, chunk[..^TagSize], chunk[^TagSize..], plaintext, associatedData);
    }

    public void Dispose() => _aes.Dispose();

    private void Prepare(int index, Span<byte> nonce, Span<byte> associatedData)
    {
        _fileId.AsSpan(0, 8).CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], (uint)index);

        var writer = new ByteWriter(associatedData);
        writer.WriteByte(Version);
        writer.WriteBytes(_fileId);
        writer.WriteUInt32((uint)index);
        writer.WriteUInt32((uint)_chunkCount);
        writer.WriteByte(index == _chunkCount - 1 ? (byte)1 : (byte)0);
    }
}
