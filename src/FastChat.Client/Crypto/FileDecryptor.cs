using System.Security.Cryptography;
using FastChat.Client.Crypto.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto;

/// <summary>
/// Decrypts a file's chunks in order and, at the end, checks the whole file against its signed
/// <see cref="FileManifest"/>: every chunk present, the total length, and the SHA-256.
/// </summary>
/// <remarks>
/// <para>
/// Write the decrypted chunks somewhere temporary and keep the file only once <see cref="Complete"/> returns: a chunk
/// authenticates its position, but only the manifest's hash (signed by the sender) proves the whole file is the one
/// the sender sent, also against other holders of the file key.
/// </para>
/// <para>
/// A rejected chunk changes nothing: the decryptor still expects the same index, so a duplicate redelivered by the
/// network can be dropped and the transfer continued. Not safe for concurrent use (chunks are sequential by nature).
/// </para>
/// </remarks>
public sealed class FileDecryptor : IDisposable
{
    private readonly FileChunkCipher _cipher;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _completed;
    private bool _disposed;

    /// <summary>Creates a decryptor for one file.</summary>
    /// <param name="fileId">The file's id (<c>FileOffer.FileId</c>).</param>
    /// <param name="manifest">The file's manifest, opened from the offer.</param>
    /// <exception cref="ArgumentNullException"><paramref name="manifest"/> is <see langword="null"/>.</exception>
    public FileDecryptor(MessageId fileId, FileManifest manifest)
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

    /// <summary>The index of the next chunk expected.</summary>
    public int NextIndex { get; private set; }

    /// <summary>How many plaintext bytes were decrypted so far.</summary>
    public long BytesDecrypted { get; private set; }

    /// <summary>Whether every chunk was decrypted (<see cref="Complete"/> still checks the whole file).</summary>
    public bool HasAllChunks => NextIndex == Manifest.ChunkCount;

    /// <summary>Decrypts and checks a whole file held in memory.</summary>
    /// <param name="fileId">The file's id.</param>
    /// <param name="manifest">The file's manifest.</param>
    /// <param name="chunks">The encrypted chunks, in order.</param>
    /// <returns>The file's content.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="manifest"/> or <paramref name="chunks"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The file is too large to be held in one array.</exception>
    /// <exception cref="EnvelopeException">As <see cref="DecryptChunk(int, ReadOnlySpan{byte}, Span{byte})"/> (more chunks than announced are <see cref="EnvelopeFailure.ChunkOutOfOrder"/>) and <see cref="Complete"/>.</exception>
    public static byte[] DecryptFile(MessageId fileId, FileManifest manifest, IReadOnlyList<ReadOnlyMemory<byte>> chunks)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(chunks);
        if (manifest.Length > Array.MaxLength)
        {
            throw new ArgumentException($"A file of {manifest.Length} bytes does not fit in one array: decrypt it chunk by chunk.", nameof(manifest));
        }

        byte[] content = new byte[manifest.Length];
        using var decryptor = new FileDecryptor(fileId, manifest);
        int offset = 0;
        for (int i = 0; i < chunks.Count; i++)
        {
            offset += decryptor.DecryptChunk(i, chunks[i].Span, content.AsSpan(offset));
        }

        decryptor.Complete();
        return content;
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

    /// <summary>Decrypts the next chunk.</summary>
    /// <param name="index">The chunk's index, as its <c>FileChunk</c> carries it.</param>
    /// <param name="chunk">The chunk's ciphertext.</param>
    /// <returns>The chunk's plaintext.</returns>
    /// <exception cref="ObjectDisposedException">The decryptor was disposed.</exception>
    /// <exception cref="EnvelopeException">As <see cref="DecryptChunk(int, ReadOnlySpan{byte}, Span{byte})"/>.</exception>
    public byte[] DecryptChunk(int index, ReadOnlySpan<byte> chunk)
    {
        CheckChunk(index, chunk);
        byte[] plaintext = new byte[chunk.Length - FileEncryptor.ChunkOverhead];
        DecryptCore(index, chunk, plaintext);
        return plaintext;
    }

    /// <summary>Decrypts the next chunk into the caller's buffer.</summary>
    /// <param name="index">The chunk's index, as its <c>FileChunk</c> carries it.</param>
    /// <param name="chunk">The chunk's ciphertext.</param>
    /// <param name="destination">Receives the plaintext: at least <see cref="GetChunkLength"/> bytes.</param>
    /// <returns>The number of plaintext bytes written.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    /// <exception cref="ObjectDisposedException">The decryptor was disposed.</exception>
    /// <exception cref="EnvelopeException">
    /// <see cref="EnvelopeFailure.ChunkOutOfOrder"/> (<paramref name="index"/> is not <see cref="NextIndex"/>: a chunk
    /// was reordered, dropped or duplicated), <see cref="EnvelopeFailure.LengthMismatch"/> (the chunk's size is not the
    /// one the manifest implies) or <see cref="EnvelopeFailure.Tampered"/> (the chunk is not chunk
    /// <paramref name="index"/> of this file, or was modified).
    /// </exception>
    public int DecryptChunk(int index, ReadOnlySpan<byte> chunk, Span<byte> destination)
    {
        CheckChunk(index, chunk);
        int length = chunk.Length - FileEncryptor.ChunkOverhead;
        if (destination.Length < length)
        {
            CryptoThrowHelper.ThrowDestinationTooSmall(nameof(destination), destination.Length, length);
        }

        DecryptCore(index, chunk, destination[..length]);
        return length;
    }

    /// <summary>Checks the whole file: call it after the last chunk, and keep the file only if it returns.</summary>
    /// <exception cref="ObjectDisposedException">The decryptor was disposed.</exception>
    /// <exception cref="EnvelopeException">
    /// <see cref="EnvelopeFailure.Truncated"/> (chunks are missing), <see cref="EnvelopeFailure.LengthMismatch"/> or
    /// <see cref="EnvelopeFailure.HashMismatch"/> (the file is not the one its manifest describes).
    /// </exception>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            return;
        }

        if (!HasAllChunks)
        {
            throw new EnvelopeException(
                EnvelopeFailure.Truncated,
                $"The file '{Manifest.Name}' is truncated: {NextIndex} of its {Manifest.ChunkCount} chunks arrived.");
        }

        if (BytesDecrypted != Manifest.Length)
        {
            throw new EnvelopeException(
                EnvelopeFailure.LengthMismatch,
                $"The file '{Manifest.Name}' is {BytesDecrypted} bytes; its manifest announces {Manifest.Length}.");
        }

        Span<byte> hash = stackalloc byte[FileManifest.HashSize];
        _hash.GetCurrentHash(hash);
        if (!hash.SequenceEqual(Manifest.Sha256Span))
        {
            throw new EnvelopeException(
                EnvelopeFailure.HashMismatch,
                $"The file '{Manifest.Name}' does not match the SHA-256 its sender signed: its content was replaced. Discard it.");
        }

        _completed = true;
    }

    /// <summary>Releases the cipher and the hash.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _cipher.Dispose();
            _hash.Dispose();
        }
    }

    private void CheckChunk(int index, ReadOnlySpan<byte> chunk)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (index != NextIndex || HasAllChunks)
        {
            ThrowOutOfOrder(index);
        }

        int expected = Manifest.GetChunkLength(index) + FileEncryptor.ChunkOverhead;
        if (chunk.Length != expected)
        {
            throw new EnvelopeException(
                EnvelopeFailure.LengthMismatch,
                $"Chunk {index} of the file '{Manifest.Name}' is {chunk.Length} bytes; its manifest ({Manifest.Length} bytes in {Manifest.ChunkCount} chunks) makes it {expected}.");
        }
    }

    private void DecryptCore(int index, ReadOnlySpan<byte> chunk, Span<byte> plaintext)
    {
        try
        {
            _cipher.Decrypt(index, chunk, plaintext);
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new EnvelopeException(
                EnvelopeFailure.Tampered,
                $"Chunk {index} of the file '{Manifest.Name}' does not authenticate: it was modified, moved from another position, or belongs to another file.",
                ex);
        }

        _hash.AppendData(plaintext);
        BytesDecrypted += plaintext.Length;
        NextIndex++;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowOutOfOrder(int index)
    {
        string why = index < NextIndex
            ? "it was already received (a duplicate)"
            : NextIndex == Manifest.ChunkCount
                ? "all chunks already arrived"
                : $"chunk {NextIndex} is missing (dropped or reordered)";
        throw new EnvelopeException(
            EnvelopeFailure.ChunkOutOfOrder,
            $"Chunk {index} of the file '{Manifest.Name}' arrived when chunk {NextIndex} of {Manifest.ChunkCount} was expected: {why}.");
    }
}
