using System.Security.Cryptography;
using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Crypto;

public sealed class FileEncryptionTests
{
    private const int Chunk = FileManifest.MaxChunkSize;

    private readonly MessageId _fileId = MessageId.NewId();

    [Fact]
    public void EncryptFile_FiveMebibytes_RoundTrips()
    {
        byte[] content = Content(5 * 1024 * 1024 + 123);
        FileManifest manifest = FileManifest.Create("video.mp4", content);

        ReadOnlyMemory<byte>[] chunks = FileEncryptor.EncryptFile(_fileId, manifest, content);
        byte[] decrypted = FileDecryptor.DecryptFile(_fileId, manifest, chunks);

        Assert.Equal(81, manifest.ChunkCount);
        Assert.Equal(81, chunks.Length);
        Assert.Equal(content, decrypted);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(Chunk - 1, 1)]
    [InlineData(Chunk, 1)]
    [InlineData(Chunk + 1, 2)]
    [InlineData(3 * Chunk, 3)]
    public void EncryptFile_BoundarySizes_ChunkCountAndSizesFollowLength(int length, int chunkCount)
    {
        byte[] content = Content(length);
        FileManifest manifest = FileManifest.Create("file.bin", content);

        ReadOnlyMemory<byte>[] chunks = FileEncryptor.EncryptFile(_fileId, manifest, content);

        Assert.Equal(chunkCount, manifest.ChunkCount);
        Assert.Equal(chunkCount, chunks.Length);
        long total = 0;
        for (int i = 0; i < chunks.Length; i++)
        {
            int plaintext = i < chunks.Length - 1 ? Chunk : length - ((chunks.Length - 1) * Chunk);
            Assert.Equal(plaintext + FileEncryptor.ChunkOverhead, chunks[i].Length);
            total += plaintext;
        }

        Assert.Equal(length, total);
        Assert.Equal(content, FileDecryptor.DecryptFile(_fileId, manifest, chunks));
    }

    [Fact]
    public void DecryptChunk_InOrder_TracksProgressAndCompletes()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, byte[] content) = Encrypt(2 * Chunk + 7);
        using var decryptor = new FileDecryptor(_fileId, manifest);
        using var output = new MemoryStream();

        for (int i = 0; i < chunks.Length; i++)
        {
            Assert.Equal(i, decryptor.NextIndex);
            output.Write(decryptor.DecryptChunk(i, chunks[i].Span));
        }

        Assert.True(decryptor.HasAllChunks);
        Assert.Equal(content.Length, decryptor.BytesDecrypted);
        decryptor.Complete();
        Assert.Equal(content, output.ToArray());
    }

    /// <summary>Guards ordering: a chunk arriving before its turn is refused by index.</summary>
    [Fact]
    public void DecryptChunk_Reordered_ThrowsChunkOutOfOrder()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(3 * Chunk);
        using var decryptor = new FileDecryptor(_fileId, manifest);

        var ex = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(1, chunks[1].Span));

        Assert.Equal(EnvelopeFailure.ChunkOutOfOrder, ex.Failure);
        Assert.Equal(0, decryptor.NextIndex);
    }

    /// <summary>Guards the position binding: swapping two chunks' data while keeping the indices fails authentication.</summary>
    [Fact]
    public void DecryptChunk_SwappedData_ThrowsTampered()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(3 * Chunk);
        using var decryptor = new FileDecryptor(_fileId, manifest);

        var ex = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(0, chunks[1].Span));

        Assert.Equal(EnvelopeFailure.Tampered, ex.Failure);
    }

    /// <summary>Guards against dropped chunks: skipping one is refused by index, and relabelling the next chunk to fill the gap fails authentication.</summary>
    [Fact]
    public void DecryptChunk_Dropped_IsDetected()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(3 * Chunk);
        using var decryptor = new FileDecryptor(_fileId, manifest);
        decryptor.DecryptChunk(0, chunks[0].Span);

        var skipped = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(2, chunks[2].Span));
        var relabelled = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(1, chunks[2].Span));

        Assert.Equal(EnvelopeFailure.ChunkOutOfOrder, skipped.Failure);
        Assert.Contains("chunk 1 is missing", skipped.Message, StringComparison.Ordinal);
        Assert.Equal(EnvelopeFailure.Tampered, relabelled.Failure);
    }

    /// <summary>Guards against duplicates: a chunk delivered twice is refused, and the transfer carries on unharmed.</summary>
    [Fact]
    public void DecryptChunk_Duplicated_ThrowsAndLeavesStateUnchanged()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, byte[] content) = Encrypt(2 * Chunk + 1);
        using var decryptor = new FileDecryptor(_fileId, manifest);
        byte[] first = decryptor.DecryptChunk(0, chunks[0].Span);

        var ex = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(0, chunks[0].Span));
        byte[] second = decryptor.DecryptChunk(1, chunks[1].Span);
        byte[] third = decryptor.DecryptChunk(2, chunks[2].Span);
        decryptor.Complete();

        Assert.Equal(EnvelopeFailure.ChunkOutOfOrder, ex.Failure);
        Assert.Contains("duplicate", ex.Message, StringComparison.Ordinal);
        byte[] joined = [.. first, .. second, .. third];
        Assert.Equal(content, joined);
    }

    /// <summary>Guards against truncation: completing before the last chunk is refused, however the chunks were cut.</summary>
    [Fact]
    public void Complete_MissingChunks_ThrowsTruncated()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(3 * Chunk - 5);

        var ex = Assert.Throws<EnvelopeException>(() => FileDecryptor.DecryptFile(_fileId, manifest, chunks[..2]));

        Assert.Equal(EnvelopeFailure.Truncated, ex.Failure);
        Assert.Contains("2 of its 3 chunks", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards the last-chunk flag: a shortened last chunk is refused by size, and cannot be passed off as complete.</summary>
    [Fact]
    public void DecryptChunk_LastChunkCut_ThrowsLengthMismatch()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(Chunk + 100);
        using var decryptor = new FileDecryptor(_fileId, manifest);
        decryptor.DecryptChunk(0, chunks[0].Span);

        var ex = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(1, chunks[1].Span[..^10]));

        Assert.Equal(EnvelopeFailure.LengthMismatch, ex.Failure);
    }

    /// <summary>Guards the chunk count: a non-last chunk cannot end the file (isLast and the count are bound into every chunk).</summary>
    [Fact]
    public void DecryptChunk_FromLongerFileOfSameKey_ThrowsTampered()
    {
        byte[] content = Content(2 * Chunk);
        FileManifest twoChunks = FileManifest.Create("file.bin", content);
        ReadOnlyMemory<byte>[] chunks = FileEncryptor.EncryptFile(_fileId, twoChunks, content);
        var oneChunk = new FileManifest("file.bin", Chunk, SHA256.HashData(content.AsSpan(0, Chunk)), twoChunks.FileKey);
        using var decryptor = new FileDecryptor(_fileId, oneChunk);

        var ex = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(0, chunks[0].Span));

        Assert.Equal(EnvelopeFailure.Tampered, ex.Failure);
    }

    [Fact]
    public void DecryptChunk_ExtraChunkAfterLast_ThrowsChunkOutOfOrder()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(10);
        using var decryptor = new FileDecryptor(_fileId, manifest);
        decryptor.DecryptChunk(0, chunks[0].Span);

        var ex = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(1, chunks[0].Span));

        Assert.Equal(EnvelopeFailure.ChunkOutOfOrder, ex.Failure);
    }

    /// <summary>Guards the file binding: a chunk of another file (even under the same key) does not authenticate.</summary>
    [Fact]
    public void DecryptChunk_FromAnotherFile_ThrowsTampered()
    {
        byte[] content = Content(100);
        FileManifest manifest = FileManifest.Create("file.bin", content);
        ReadOnlyMemory<byte>[] otherFile = FileEncryptor.EncryptFile(MessageId.NewId(), manifest, content);
        using var decryptor = new FileDecryptor(_fileId, manifest);

        var ex = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(0, otherFile[0].Span));

        Assert.Equal(EnvelopeFailure.Tampered, ex.Failure);
    }

    /// <summary>Guards every byte of a chunk: a flipped bit anywhere fails authentication.</summary>
    [Fact]
    public void DecryptChunk_AnyByteFlipped_ThrowsTampered()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(40);
        byte[] chunk = chunks[0].ToArray();
        using var decryptor = new FileDecryptor(_fileId, manifest);

        for (int i = 0; i < chunk.Length; i++)
        {
            chunk[i] ^= 0x80;
            var ex = Assert.Throws<EnvelopeException>(() => decryptor.DecryptChunk(0, chunk));
            Assert.Equal(EnvelopeFailure.Tampered, ex.Failure);
            chunk[i] ^= 0x80;
        }

        Assert.Equal(0, decryptor.NextIndex);
    }

    /// <summary>Guards the end-to-end hash: chunks that authenticate under the file key but are not the file the sender signed are refused.</summary>
    [Fact]
    public void Complete_HashDiffersFromManifest_ThrowsHashMismatch()
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(Chunk + 50);
        byte[] wrongHash = manifest.Sha256.ToArray();
        wrongHash[31] ^= 1;
        var lying = new FileManifest(manifest.Name, manifest.Length, wrongHash, manifest.FileKey);

        var ex = Assert.Throws<EnvelopeException>(() => FileDecryptor.DecryptFile(_fileId, lying, chunks));

        Assert.Equal(EnvelopeFailure.HashMismatch, ex.Failure);
    }

    /// <summary>Guards the length: chunks that do not add up to the manifest's length are refused.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void DecryptFile_LengthDiffersFromManifest_ThrowsLengthMismatch(int difference)
    {
        (FileManifest manifest, ReadOnlyMemory<byte>[] chunks, _) = Encrypt(Chunk + 50);
        var lying = new FileManifest(manifest.Name, manifest.Length + difference, manifest.Sha256.Span, manifest.FileKey);

        var ex = Assert.Throws<EnvelopeException>(() => FileDecryptor.DecryptFile(_fileId, lying, chunks));

        Assert.Equal(EnvelopeFailure.LengthMismatch, ex.Failure);
    }

    [Fact]
    public void EncryptChunk_WrongPlaintextLength_ThrowsArgumentException()
    {
        FileManifest manifest = FileManifest.Create("file.bin", Content(Chunk + 1));
        using var encryptor = new FileEncryptor(_fileId, manifest);

        Assert.Throws<ArgumentException>(() => encryptor.EncryptChunk(0, new byte[Chunk - 1]));
        Assert.Throws<ArgumentException>(() => encryptor.EncryptChunk(1, new byte[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => encryptor.EncryptChunk(2, new byte[1]));
        Assert.Equal(1, encryptor.GetChunkLength(1));
    }

    [Fact]
    public void EncryptFile_ContentNotFromManifest_ThrowsArgumentException()
    {
        FileManifest manifest = FileManifest.Create("file.bin", Content(100));

        Assert.Throws<ArgumentException>(() => FileEncryptor.EncryptFile(_fileId, manifest, new byte[100]));
    }

    [Fact]
    public async Task CreateAsync_FromStream_MatchesInMemoryManifest()
    {
        byte[] content = Content(Chunk * 2 + 3);
        using var stream = new MemoryStream(content);

        FileManifest fromStream = await FileManifest.CreateAsync("file.bin", stream).WaitAsync(TimeSpan.FromSeconds(30));
        FileManifest inMemory = FileManifest.Create("file.bin", content);

        Assert.Equal(inMemory.Length, fromStream.Length);
        Assert.Equal(inMemory.ChunkCount, fromStream.ChunkCount);
        Assert.Equal(inMemory.Sha256.ToArray(), fromStream.Sha256.ToArray());
        Assert.False(inMemory.FileKey.SequenceEqual(fromStream.FileKey));
    }

    [Fact]
    public void Parse_ToBytes_RoundTrips()
    {
        FileManifest manifest = FileManifest.Create("résumé 📄.pdf", Content(12345));

        FileManifest parsed = FileManifest.Parse(manifest.ToBytes());

        Assert.Equal(manifest.Name, parsed.Name);
        Assert.Equal(manifest.Length, parsed.Length);
        Assert.Equal(manifest.ChunkCount, parsed.ChunkCount);
        Assert.Equal(manifest.Sha256.ToArray(), parsed.Sha256.ToArray());
        Assert.True(manifest.FileKey.SequenceEqual(parsed.FileKey));
        Assert.True(parsed.MatchesOffer(12345, 1));
        Assert.False(parsed.MatchesOffer(12346, 1));
        Assert.False(parsed.MatchesOffer(12345, 2));
    }

    /// <summary>Guards the manifest parser against hostile bytes: each defect is reported as malformed (or an unknown version), never a crash.</summary>
    [Theory]
    [InlineData("empty", EnvelopeFailure.Malformed)]
    [InlineData("truncated", EnvelopeFailure.Malformed)]
    [InlineData("trailing byte", EnvelopeFailure.Malformed)]
    [InlineData("version", EnvelopeFailure.UnsupportedVersion)]
    [InlineData("negative length", EnvelopeFailure.Malformed)]
    [InlineData("chunk count", EnvelopeFailure.Malformed)]
    [InlineData("empty name", EnvelopeFailure.Malformed)]
    [InlineData("invalid UTF-8", EnvelopeFailure.Malformed)]
    public void Parse_HostileBytes_Throws(string defect, EnvelopeFailure expected)
    {
        byte[] good = FileManifest.Create("ab", Content(10)).ToBytes();
        byte[] bad = defect switch
        {
            "empty" => [],
            "truncated" => good[..^1],
            "trailing byte" => [.. good, 0],
            "version" => [2, .. good[1..]],
            "negative length" => [good[0], 0xff, .. good[2..]],
            "chunk count" => [.. good[..12], 2, .. good[13..]],
            "empty name" => [.. good[..^4], 0, 0],
            "invalid UTF-8" => [.. good[..^2], 0xc3, 0x28],
            _ => throw new ArgumentOutOfRangeException(nameof(defect)),
        };

        var ex = Assert.Throws<EnvelopeException>(() => FileManifest.Parse(bad));

        Assert.True(expected == ex.Failure, $"The defect '{defect}' gave {ex.Failure}, not {expected}.");
    }

    [Fact]
    public void SealForUser_ThenOpenFromUser_ReturnsManifest()
    {
        using IdentityKeys alice = IdentityKeys.Generate();
        using IdentityKeys bob = IdentityKeys.Generate();
        FileManifest manifest = FileManifest.Create("photo.jpg", Content(1000));
        DateTime sentAt = DateTime.UtcNow;

        byte[] envelope = manifest.SealForUser(alice, "alice", bob.ToPublicIdentity("bob"), _fileId, sentAt);
        FileManifest opened = FileManifest.OpenFromUser(bob, "bob", alice.ToPublicIdentity("alice"), _fileId, sentAt, envelope);

        Assert.Equal(manifest.ToBytes(), opened.ToBytes());
    }

    /// <summary>Guards the file id binding of an offer: the server cannot attach the offer to another file's chunks.</summary>
    [Fact]
    public void OpenFromUser_OtherFileId_ThrowsBadSignature()
    {
        using IdentityKeys alice = IdentityKeys.Generate();
        using IdentityKeys bob = IdentityKeys.Generate();
        DateTime sentAt = DateTime.UtcNow;
        byte[] envelope = FileManifest.Create("photo.jpg", Content(10)).SealForUser(alice, "alice", bob.ToPublicIdentity("bob"), _fileId, sentAt);

        var ex = Assert.Throws<EnvelopeException>(() => FileManifest.OpenFromUser(bob, "bob", alice.ToPublicIdentity("alice"), MessageId.NewId(), sentAt, envelope));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    [Fact]
    public void SealForGroup_ThenOpenFromGroup_ReturnsManifestOnlyToKeyHolders()
    {
        using IdentityKeys alice = IdentityKeys.Generate();
        GroupKey key = GroupKey.Generate(4);
        var member = new GroupKeyRing("team");
        member.Add(key);
        var former = new GroupKeyRing("team");
        former.Add(GroupKey.Generate(3));
        FileManifest manifest = FileManifest.Create("slides.pdf", Content(70_000));
        DateTime sentAt = DateTime.UtcNow;

        byte[] envelope = manifest.SealForGroup(alice, "alice", "team", key, _fileId, sentAt);
        FileManifest opened = FileManifest.OpenFromGroup(member, alice.ToPublicIdentity("alice"), 4, _fileId, sentAt, envelope);
        var ex = Assert.Throws<EnvelopeException>(() => FileManifest.OpenFromGroup(former, alice.ToPublicIdentity("alice"), 4, _fileId, sentAt, envelope));

        Assert.Equal(manifest.ToBytes(), opened.ToBytes());
        Assert.Equal(EnvelopeFailure.UnknownEpoch, ex.Failure);
    }

    [Fact]
    public void Manifest_InvalidArguments_Throw()
    {
        byte[] hash = new byte[32];
        byte[] key = new byte[32];

        Assert.Throws<ArgumentException>(() => new FileManifest(string.Empty, 0, hash, key));
        Assert.Throws<ArgumentException>(() => new FileManifest(new string('x', FileManifest.MaxNameLength + 1), 0, hash, key));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FileManifest("a", -1, hash, key));
        Assert.Throws<ArgumentException>(() => new FileManifest("a", 0, hash.AsSpan(0, 31), key));
        Assert.Throws<ArgumentException>(() => new FileManifest("a", 0, hash, key.AsSpan(0, 16)));
        Assert.DoesNotContain(Convert.ToHexStringLower(FileManifest.Create("a", [1]).FileKey), FileManifest.Create("a", [1]).ToString(), StringComparison.Ordinal);
    }

    private static byte[] Content(int length)
    {
        byte[] content = new byte[length];
        new Random(length).NextBytes(content);
        return content;
    }

    private (FileManifest Manifest, ReadOnlyMemory<byte>[] Chunks, byte[] Content) Encrypt(int length)
    {
        byte[] content = Content(length);
        FileManifest manifest = FileManifest.Create("file.bin", content);
        return (manifest, FileEncryptor.EncryptFile(_fileId, manifest, content), content);
    }
}
