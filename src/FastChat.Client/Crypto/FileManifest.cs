using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FastChat.Client.Crypto.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto;

/// <summary>
/// What a recipient needs to receive an encrypted file: its name, length, SHA-256, chunk count and the random file key
/// the chunks are encrypted with. It travels sealed inside the file offer (<c>FileOffer.Envelope</c>), like a direct
/// message for a user (<see cref="SealForUser(IdentityKeys, string, PublicIdentity, MessageId, DateTime)"/>) or like a group message for a group (<see cref="SealForGroup(IdentityKeys, string, string, GroupKey, MessageId, DateTime)"/>).
/// </summary>
/// <remarks>
/// <para>Encoding (docs/security.md has it byte by byte):</para>
/// <code>
/// version 0x01 (1) | length (int64) | chunk count (int32) | SHA-256 of the plaintext (32) | file key (32) | str(name)
/// </code>
/// <para>
/// Chunks are <see cref="MaxChunkSize"/> bytes of plaintext each except the last, which holds the rest (an empty file
/// has one empty chunk), so the chunk count and every chunk's size follow from the length. The hash is checked by
/// <see cref="FileDecryptor.Complete"/>: it is signed by the sender with the offer, so it also protects the file
/// against other holders of the file key (the members of a group).
/// </para>
/// <para>
/// <see cref="Name"/> is chosen by the sender: sanitize it (for example with <see cref="Path.GetFileName(string)"/>)
/// before using it as a path. Immutable and safe to share between threads.
/// </para>
/// </remarks>
public sealed class FileManifest
{
    /// <summary>The encoding's version byte.</summary>
    public const byte Version = 1;

    /// <summary>The size of the file key in bytes (AES-256).</summary>
    public const int KeySize = 32;

    /// <summary>The size of the SHA-256 hash in bytes.</summary>
    public const int HashSize = 32;

    /// <summary>The largest plaintext per chunk: <see cref="ProtocolConstants.MaxFileChunkSize"/> (64 KiB).</summary>
    public const int MaxChunkSize = ProtocolConstants.MaxFileChunkSize;

    /// <summary>The longest file name, in UTF-8 bytes.</summary>
    public const int MaxNameLength = 1024;

    /// <summary>The largest file length: what <see cref="int.MaxValue"/> chunks hold.</summary>
    public const long MaxLength = (long)int.MaxValue * MaxChunkSize;

    private const int FixedSize = 1 + sizeof(long) + sizeof(int) + HashSize + KeySize;
    private const string DirectWhat = "file offer";
    private const string GroupWhat = "group file offer";

    private readonly byte[] _sha256;
    private readonly byte[] _fileKey;

    /// <summary>Creates a manifest from its parts; the chunk count follows from the length.</summary>
    /// <param name="name">The file's name (at most <see cref="MaxNameLength"/> UTF-8 bytes).</param>
    /// <param name="length">The file's length in bytes.</param>
    /// <param name="sha256">The SHA-256 of the file's content.</param>
    /// <param name="fileKey">The <see cref="KeySize"/>-byte file key.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, too long or not valid text, or <paramref name="sha256"/> or <paramref name="fileKey"/> has the wrong size.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or over <see cref="MaxLength"/>.</exception>
    public FileManifest(string name, long length, ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> fileKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (ByteWriter.StringSize(name, nameof(name)) - sizeof(ushort) > MaxNameLength)
        {
            throw new ArgumentException($"A file name is at most {MaxNameLength} UTF-8 bytes.", nameof(name));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxLength);
        if (sha256.Length != HashSize)
        {
            throw new ArgumentException($"A SHA-256 hash is {HashSize} bytes; got {sha256.Length}.", nameof(sha256));
        }

        if (fileKey.Length != KeySize)
        {
            throw new ArgumentException($"A file key is {KeySize} bytes; got {fileKey.Length}.", nameof(fileKey));
        }

        Name = name;
        Length = length;
        ChunkCount = GetChunkCount(length);
        _sha256 = sha256.ToArray();
        _fileKey = fileKey.ToArray();
    }

    /// <summary>The file's name, as the sender gave it.</summary>
    public string Name { get; }

    /// <summary>The file's length in bytes.</summary>
    public long Length { get; }

    /// <summary>How many chunks the file is sent in.</summary>
    public int ChunkCount { get; }

    /// <summary>The SHA-256 of the file's content.</summary>
    public ReadOnlyMemory<byte> Sha256 => _sha256;

    /// <summary>The file key the chunks are encrypted with.</summary>
    public ReadOnlySpan<byte> FileKey => _fileKey;

    /// <summary>How many chunks a file of <paramref name="length"/> bytes is sent in: at least one.</summary>
    /// <param name="length">The file's length.</param>
    /// <returns>The chunk count.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or over <see cref="MaxLength"/>.</exception>
    public static int GetChunkCount(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxLength);
        return length == 0 ? 1 : (int)((length + MaxChunkSize - 1) / MaxChunkSize);
    }

    /// <summary>Creates the manifest of a file held in memory, with a new random file key.</summary>
    /// <param name="name">The file's name.</param>
    /// <param name="content">The file's content.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, too long or not valid text.</exception>
    public static FileManifest Create(string name, ReadOnlySpan<byte> content) => Create(name, content, CryptoRandom.Default);

    /// <summary>
    /// Creates the manifest of a file read from a stream (to its end), with a new random file key. The stream is read
    /// once to hash it; rewind it (or open the file again) to encrypt it.
    /// </summary>
    /// <param name="name">The file's name.</param>
    /// <param name="content">The file's content.</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="content"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, too long or not valid text.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The stream holds more than <see cref="MaxLength"/> bytes.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="IOException">Reading the stream failed.</exception>
    public static async Task<FileManifest> CreateAsync(string name, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[MaxChunkSize];
        long length = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
        }

        byte[] key = RandomNumberGenerator.GetBytes(KeySize);
        try
        {
            return new FileManifest(name, length, hash.GetHashAndReset(), key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Decodes a manifest encoded by <see cref="ToBytes"/>.</summary>
    /// <param name="encoded">The encoded manifest.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="EnvelopeException"><see cref="EnvelopeFailure.Malformed"/> or <see cref="EnvelopeFailure.UnsupportedVersion"/>.</exception>
    public static FileManifest Parse(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < FixedSize + sizeof(ushort))
        {
            CryptoThrowHelper.ThrowMalformed($"A file manifest has at least {FixedSize + sizeof(ushort)} bytes; got {encoded.Length}.");
        }

        if (encoded[0] != Version)
        {
            CryptoThrowHelper.ThrowUnsupportedVersion("the file manifest", encoded[0]);
        }

        long length = BinaryPrimitives.ReadInt64BigEndian(encoded[1..]);
        int chunkCount = BinaryPrimitives.ReadInt32BigEndian(encoded[9..]);
        ReadOnlySpan<byte> sha256 = encoded.Slice(13, HashSize);
        ReadOnlySpan<byte> fileKey = encoded.Slice(13 + HashSize, KeySize);
        ReadOnlySpan<byte> name = encoded[FixedSize..];
        int nameLength = BinaryPrimitives.ReadUInt16BigEndian(name);
        if (length is < 0 or > MaxLength || chunkCount != GetChunkCount(length))
        {
            CryptoThrowHelper.ThrowMalformed($"The file manifest announces {length} bytes in {chunkCount} chunks; the chunk count must be {(length is >= 0 and <= MaxLength ? GetChunkCount(length) : 0)}.");
        }

        if (nameLength is 0 or > MaxNameLength || name.Length != sizeof(ushort) + nameLength)
        {
            CryptoThrowHelper.ThrowMalformed($"The file manifest's name field is invalid: {nameLength} bytes declared, {name.Length - sizeof(ushort)} present, 1 to {MaxNameLength} allowed.");
        }

        string fileName;
        try
        {
            fileName = ByteWriter.StrictUtf8.GetString(name[sizeof(ushort)..]);
        }
        catch (DecoderFallbackException ex)
        {
            throw new EnvelopeException(EnvelopeFailure.Malformed, "The file manifest's name is not valid UTF-8.", ex);
        }

        return new FileManifest(fileName, length, sha256, fileKey);
    }

    /// <summary>Opens a file offer sent to this user (<c>FileOffer.Envelope</c> with a recipient).</summary>
    /// <param name="recipient">The recipient's keys.</param>
    /// <param name="recipientName">The user the offer is addressed to (its <c>recipient</c> field), normally this user.</param>
    /// <param name="sender">The public identity of the user the offer claims to be from (its <c>sender</c> field).</param>
    /// <param name="fileId">The offer's file id.</param>
    /// <param name="sentAt">The offer's send time.</param>
    /// <param name="envelope">The offer's envelope.</param>
    /// <returns>The manifest; check it against the offer with <see cref="MatchesOffer"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="recipient"/> or <paramref name="sender"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="recipientName"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="recipient"/> was disposed.</exception>
    /// <exception cref="EnvelopeException">As <see cref="DirectEnvelope.Open(IdentityKeys, string, PublicIdentity, MessageId, DateTime, ReadOnlySpan{byte})"/>, or a malformed manifest inside.</exception>
    public static FileManifest OpenFromUser(IdentityKeys recipient, string recipientName, PublicIdentity sender, MessageId fileId, DateTime sentAt, ReadOnlySpan<byte> envelope)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentException.ThrowIfNullOrEmpty(recipientName);
        int length = SealedBox.CheckFormat(DirectWhat, envelope);
        Span<byte> context = stackalloc byte[MessageContext.Size];
        MessageContext.Write(context, fileId, sentAt);
        using var plaintext = new ScratchBuffer(length, stackalloc byte[256]);
        SealedBox.Open(Labels.DirectFileOffer, DirectWhat, recipient, recipientName, sender, context, context[..MessageId.Size], envelope, plaintext.Span);
        return Parse(plaintext.Span);
    }

    /// <summary>Opens a file offer sent to a group (<c>FileOffer.Envelope</c> with a group).</summary>
    /// <param name="keyRing">The member's key ring for the offer's group.</param>
    /// <param name="sender">The public identity of the member the offer claims to be from (its <c>sender</c> field).</param>
    /// <param name="epoch">The offer's <c>keyEpoch</c>.</param>
    /// <param name="fileId">The offer's file id.</param>
    /// <param name="sentAt">The offer's send time.</param>
    /// <param name="envelope">The offer's envelope.</param>
    /// <returns>The manifest; check it against the offer with <see cref="MatchesOffer"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="keyRing"/> or <paramref name="sender"/> is <see langword="null"/>.</exception>
    /// <exception cref="EnvelopeException">As <see cref="GroupEnvelope.Open(GroupKeyRing, PublicIdentity, int, MessageId, DateTime, ReadOnlySpan{byte})"/>, or a malformed manifest inside.</exception>
    public static FileManifest OpenFromGroup(GroupKeyRing keyRing, PublicIdentity sender, int epoch, MessageId fileId, DateTime sentAt, ReadOnlySpan<byte> envelope)
    {
        ArgumentNullException.ThrowIfNull(keyRing);
        ArgumentNullException.ThrowIfNull(sender);
        int length = GroupBox.CheckFormat(GroupWhat, envelope);
        using var plaintext = new ScratchBuffer(length, stackalloc byte[256]);
        GroupBox.Open(Labels.GroupFileOffer, GroupWhat, keyRing, sender, epoch, fileId, sentAt, envelope, plaintext.Span);
        return Parse(plaintext.Span);
    }

    /// <summary>
    /// Whether the offer's clear-text fields (which the server sees and could change) agree with this manifest, which
    /// the sender signed. Reject the offer if not.
    /// </summary>
    /// <param name="totalSize">The offer's <c>totalSize</c>.</param>
    /// <param name="chunkCount">The offer's <c>chunkCount</c>.</param>
    /// <returns><see langword="true"/> if both match.</returns>
    public bool MatchesOffer(long totalSize, int chunkCount) => totalSize == Length && chunkCount == ChunkCount;

    /// <summary>Encodes the manifest (it contains the file key: seal it, never send it in the clear).</summary>
    /// <returns>The encoded manifest.</returns>
    public byte[] ToBytes()
    {
        int nameSize = ByteWriter.StringSize(Name, nameof(Name));
        byte[] encoded = new byte[FixedSize + nameSize];
        WriteTo(encoded);
        return encoded;
    }

    /// <summary>Seals the manifest for one recipient, as the envelope of a <c>FileOffer</c> to a user.</summary>
    /// <param name="sender">The sender's keys (signs the envelope).</param>
    /// <param name="senderName">The sender's user name.</param>
    /// <param name="recipient">The recipient's public identity.</param>
    /// <param name="fileId">The offer's file id.</param>
    /// <param name="sentAt">The offer's send time.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> or <paramref name="recipient"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="senderName"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="sender"/> was disposed.</exception>
    public byte[] SealForUser(IdentityKeys sender, string senderName, PublicIdentity recipient, MessageId fileId, DateTime sentAt) =>
        SealForUser(sender, senderName, recipient, fileId, sentAt, CryptoRandom.Default);

    /// <summary>Seals the manifest for a group, as the envelope of a <c>FileOffer</c> to a group (its <c>keyEpoch</c> is <see cref="GroupKey.Epoch"/>).</summary>
    /// <param name="sender">The sender's keys (signs the envelope).</param>
    /// <param name="senderName">The sender's user name.</param>
    /// <param name="group">The group.</param>
    /// <param name="groupKey">The group key to seal under.</param>
    /// <param name="fileId">The offer's file id.</param>
    /// <param name="sentAt">The offer's send time.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> or <paramref name="groupKey"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="senderName"/> or <paramref name="group"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="sender"/> was disposed.</exception>
    public byte[] SealForGroup(IdentityKeys sender, string senderName, string group, GroupKey groupKey, MessageId fileId, DateTime sentAt) =>
        SealForGroup(sender, senderName, group, groupKey, fileId, sentAt, CryptoRandom.Default);

    /// <summary>Returns the name, length and chunk count: never the key.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Name} ({Length} bytes, {ChunkCount} chunk(s))";

    internal static FileManifest Create(string name, ReadOnlySpan<byte> content, CryptoRandom random)
    {
        Span<byte> hash = stackalloc byte[HashSize];
        SHA256.HashData(content, hash);
        Span<byte> key = stackalloc byte[KeySize];
        random.Fill(key);
        try
        {
            return new FileManifest(name, content.Length, hash, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    internal byte[] SealForUser(IdentityKeys sender, string senderName, PublicIdentity recipient, MessageId fileId, DateTime sentAt, CryptoRandom random)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentException.ThrowIfNullOrEmpty(senderName);
        Span<byte> context = stackalloc byte[MessageContext.Size];
        MessageContext.Write(context, fileId, sentAt);
        using var plaintext = new ScratchBuffer(FixedSize + ByteWriter.StringSize(Name, nameof(Name)), stackalloc byte[256]);
        WriteTo(plaintext.Span);
        byte[] envelope = new byte[plaintext.Span.Length + SealedBox.Overhead];
        SealedBox.Seal(Labels.DirectFileOffer, sender, senderName, recipient, context, context[..MessageId.Size], plaintext.Span, envelope, random);
        return envelope;
    }

    internal byte[] SealForGroup(IdentityKeys sender, string senderName, string group, GroupKey groupKey, MessageId fileId, DateTime sentAt, CryptoRandom random)
    {
        using var plaintext = new ScratchBuffer(FixedSize + ByteWriter.StringSize(Name, nameof(Name)), stackalloc byte[256]);
        WriteTo(plaintext.Span);
        return GroupEnvelope.Seal(Labels.GroupFileOffer, sender, senderName, group, groupKey, fileId, sentAt, plaintext.Span, random);
    }

    internal ReadOnlySpan<byte> Sha256Span => _sha256;

    /// <summary>The plaintext length of chunk <paramref name="index"/> (the caller checked the range).</summary>
    internal int GetChunkLength(int index) =>
        index < ChunkCount - 1 ? MaxChunkSize : (int)(Length - ((long)(ChunkCount - 1) * MaxChunkSize));

    private void WriteTo(Span<byte> destination)
    {
        var writer = new ByteWriter(destination);
        writer.WriteByte(Version);
        writer.WriteInt64(Length);
        writer.WriteInt32(ChunkCount);
        writer.WriteBytes(_sha256);
        writer.WriteBytes(_fileKey);
        writer.WriteString(Name);
    }
}
