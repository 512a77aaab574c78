using System.Security.Cryptography;
using FastChat.Client.Crypto.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto;

/// <summary>
/// Encrypts a file's chunks (<c>FileChunk.Data</c>) under the file key of its <see cref="FileManifest"/>: AES-256-GCM
/// per chunk, with the file id, the chunk's index, the chunk count and whether it is the last chunk bound into the
/// nonce and the associated data, so chunks cannot be reordered, dropped, duplicated or truncated unnoticed.
/// </summary>
/// <remarks>
/// <para>
/// Chunk <c>i</c> holds bytes <c>i * 64 KiB</c> onward of the file: <see cref="FileManifest.MaxChunkSize"/> bytes for
/// every chunk but the last, the rest in the last. A chunk's ciphertext is its plaintext plus <see cref="ChunkOverhead"/>
/// bytes. The chunk format is in docs/security.md.
/// </para>
/// <para>Encrypting is stateless per chunk, so chunks may be encrypted in any order and from several threads. Dispose to release the cipher.</para>
/// </remarks>
public sealed class FileEncryptor : IDisposable
{
    /// <summary>The bytes a chunk's ciphertext adds to its plaintext (the AES-GCM tag).</summary>
    public const int ChunkOverhead = FileChunkCipher.TagSize;

    private readonly FileChunkCipher _cipher;
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Creates an encryptor for one file.</summary>
    /// <param name="fileId">The file's id (<c>FileOffer.FileId</c>).</param>
    /// <param name="manifest">The file's manifest.</param>
    /// <exception cref="ArgumentNullException"><paramref name="manifest"/> is <see langword="null"/>.</exception>
    public FileEncryptor(MessageId fileId, FileManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        FileId = fileId;
        Manifest = manifest;
        _cipher = new FileChunkCipher(fileId, manifest);
    }

    /// <summary>The file's id.</summary>
    public MessageId FileId { get; }

    /// <summary>The file's manifest.</summary>
    public FileManifest Manifest { get; }

    /// <summary>Encrypts a whole file held in memory.</summary>
    /// <param name="fileId">The file's id.</param>
    /// <param name="manifest">The file's manifest, made from <paramref name="content"/>.</param>
    /// <param name="content">The file's content.</param>
    /// <returns>The <see cref="FileManifest.ChunkCount"/> encrypted chunks, in order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manifest"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="content"/> does not have the manifest's length and SHA-256.</exception>
    public static ReadOnlyMemory<byte>[] EncryptFile(MessageId fileId, FileManifest manifest, ReadOnlySpan<byte> content)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Span<byte> hash = stackalloc byte[FileManifest.HashSize];
        SHA256.HashData(content, hash);
        if (content.Length != manifest.Length || !hash.SequenceEqual(manifest.Sha256Span))
        {
            throw new ArgumentException("The content does not have the manifest's length and SHA-256: make the manifest from this content.", nameof(content));
        }

        using var encryptor = new FileEncryptor(fileId, manifest);
        var chunks = new ReadOnlyMemory<byte>[manifest.ChunkCount];
        int offset = 0;
        for (int i = 0; i < chunks.Length; i++)
        {
            int length = manifest.GetChunkLength(i);
            chunks[i] = encryptor.EncryptChunk(i, content.Slice(offset, length));
            offset += length;
        }

        return chunks;
    }

    /// <summary>The plaintext length chunk <paramref name="index"/> must have.</summary>
    /// <param name="index">The chunk's index.</param>
    /// <returns><see cref="FileManifest.MaxChunkSize"/>, or the remainder for the last chunk.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in 0 to <see cref="FileManifest.ChunkCount"/> - 1.</exception>
    public int GetChunkLength(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Manifest.ChunkCount);
        return Manifest.GetChunkLength(index);
    }

    /// <summary>Encrypts one chunk.</summary>
    /// <param name="index">The chunk's index.</param>
    /// <param name="plaintext">The chunk's plaintext: exactly <see cref="GetChunkLength"/> bytes.</param>
    /// <returns>The chunk's ciphertext, <see cref="ChunkOverhead"/> bytes longer than <paramref name="plaintext"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="plaintext"/> has the wrong length for chunk <paramref name="index"/>.</exception>
    /// <exception cref="ObjectDisposedException">The encryptor was disposed.</exception>
    public byte[] EncryptChunk(int index, ReadOnlySpan<byte> plaintext)
    {
        byte[] chunk = new byte[plaintext.Length + ChunkOverhead];
        EncryptChunk(index, plaintext, chunk);
        return chunk;
    }

    /// <summary>Encrypts one chunk into the caller's buffer.</summary>
    /// <param name="index">The chunk's index.</param>
    /// <param name="plaintext">The chunk's plaintext: exactly <see cref="GetChunkLength"/> bytes.</param>
    /// <param name="destination">Receives the ciphertext: at least <see cref="ChunkOverhead"/> bytes more than <paramref name="plaintext"/>, not overlapping it.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="plaintext"/> has the wrong length for chunk <paramref name="index"/>, or <paramref name="destination"/> is too small or overlaps it.</exception>
    /// <exception cref="ObjectDisposedException">The encryptor was disposed.</exception>
    public int EncryptChunk(int index, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        int expected = GetChunkLength(index);
        if (plaintext.Length != expected)
        {
            throw new ArgumentException($"Chunk {index} of {Manifest.ChunkCount} holds {expected} bytes of plaintext; got {plaintext.Length}.", nameof(plaintext));
        }

        int length = plaintext.Length + ChunkOverhead;
        if (destination.Length < length)
        {
            CryptoThrowHelper.ThrowDestinationTooSmall(nameof(destination), destination.Length, length);
        }

        if (plaintext.Overlaps(destination))
        {
            CryptoThrowHelper.ThrowOverlap(nameof(destination));
        }

        // AesGcm instances are not documented as safe for concurrent use; chunks are small, so a lock costs little.
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _cipher.Encrypt(index, plaintext, destination[..length]);
        }

        return length;
    }

    /// <summary>Releases the cipher.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _disposed = true;
                _cipher.Dispose();
            }
        }
    }
}
