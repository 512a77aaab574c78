using BenchmarkDotNet.Attributes;
using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Benchmarks.Crypto;

/// <summary>
/// The client's end-to-end encryption per message: a direct message sealed (ECDH P-256 + HKDF + AES-256-GCM, then an
/// ECDSA P-256 signature) and opened (verify, ECDH, decrypt); a group message sealed and opened under a group key
/// (HKDF + AES-256-GCM + signature); a 64 KiB file chunk encrypted and decrypted (AES-256-GCM, plus the running
/// SHA-256 of the file on the receiving side). Every method writes into buffers sized once, through the span
/// overloads, so what the memory diagnoser reports is the crypto code's own allocation. Operations per second =
/// 1 s / Mean.
/// </summary>
[MemoryDiagnoser]
[OperationsPerSecond]
public class CryptoBenchmarks
{
    private const string Alice = "alice";
    private const string Bob = "bob";
    private const string Group = "team";
    private const int FileChunkSize = 64 * 1024;

    // Decryption must follow chunk order, so one decryptor opens a run of chunks per invocation; creating it (HKDF,
    // one AesGcm and one SHA-256 state per file) is then spread over the run as it is over a real file.
    private const int ChunksPerFile = 32;

    private static readonly DateTime SentAt = new(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc);

    private readonly MessageId _id = MessageId.NewId();
    private IdentityKeys _aliceKeys = null!;
    private IdentityKeys _bobKeys = null!;
    private PublicIdentity _alice = null!;
    private PublicIdentity _bob = null!;
    private GroupKey _groupKey = null!;
    private GroupKeyRing _keyRing = null!;

    private byte[] _direct64 = null!;
    private byte[] _direct1K = null!;
    private byte[] _group256 = null!;
    private byte[] _sealed64 = null!;
    private byte[] _sealed1K = null!;
    private byte[] _sealedGroup256 = null!;
    private byte[] _envelope = null!;
    private byte[] _plaintext = null!;

    private MessageId _fileId;
    private FileManifest _manifest = null!;
    private FileEncryptor _encryptor = null!;
    private byte[] _chunk = null!;
    private byte[] _encryptedChunk = null!;
    private byte[][] _encryptedFile = null!;
    private byte[] _decryptedChunk = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _aliceKeys = IdentityKeys.Generate();
        _bobKeys = IdentityKeys.Generate();
        _alice = _aliceKeys.ToPublicIdentity(Alice);
        _bob = _bobKeys.ToPublicIdentity(Bob);
        _groupKey = GroupKey.Generate(1);
        _keyRing = new GroupKeyRing(Group);
        _keyRing.Add(_groupKey);

        _direct64 = RandomBytes(random, 64);
        _direct1K = RandomBytes(random, 1024);
        _group256 = RandomBytes(random, 256);
        _sealed64 = DirectEnvelope.Seal(_aliceKeys, Alice, _bob, _id, SentAt, _direct64);
        _sealed1K = DirectEnvelope.Seal(_aliceKeys, Alice, _bob, _id, SentAt, _direct1K);
        _sealedGroup256 = GroupEnvelope.Seal(_aliceKeys, Alice, Group, _groupKey, _id, SentAt, _group256);
        _envelope = new byte[DirectEnvelope.GetEnvelopeLength(1024)];
        _plaintext = new byte[1024];

        byte[] file = RandomBytes(random, ChunksPerFile * FileChunkSize);
        _fileId = MessageId.NewId();
        _manifest = FileManifest.Create("bench.bin", file);
        _encryptor = new FileEncryptor(_fileId, _manifest);
        _chunk = file.AsSpan(0, FileChunkSize).ToArray();
        _encryptedChunk = new byte[FileChunkSize + FileEncryptor.ChunkOverhead];
        _encryptedFile = new byte[ChunksPerFile][];
        for (int i = 0; i < ChunksPerFile; i++)
        {
            _encryptedFile[i] = _encryptor.EncryptChunk(i, file.AsSpan(i * FileChunkSize, FileChunkSize));
        }

        _decryptedChunk = new byte[FileChunkSize];

        // Every opening must succeed: a benchmark of a failing path would measure exceptions.
        _ = DirectOpen64();
        _ = DirectOpen1K();
        _ = GroupOpen256();
        _ = FileDecryptChunk64K();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encryptor.Dispose();
        _aliceKeys.Dispose();
        _bobKeys.Dispose();
    }

    /// <summary>Encrypts and signs a 64-byte direct message.</summary>
    [Benchmark]
    public int DirectSeal64() => DirectEnvelope.Seal(_aliceKeys, Alice, _bob, _id, SentAt, _direct64, _envelope);

    /// <summary>Verifies and decrypts a 64-byte direct message.</summary>
    [Benchmark]
    public int DirectOpen64() => DirectEnvelope.Open(_bobKeys, Bob, _alice, _id, SentAt, _sealed64, _plaintext);

    /// <summary>Encrypts and signs a 1 KiB direct message.</summary>
    [Benchmark]
    public int DirectSeal1K() => DirectEnvelope.Seal(_aliceKeys, Alice, _bob, _id, SentAt, _direct1K, _envelope);

    /// <summary>Verifies and decrypts a 1 KiB direct message.</summary>
    [Benchmark]
    public int DirectOpen1K() => DirectEnvelope.Open(_bobKeys, Bob, _alice, _id, SentAt, _sealed1K, _plaintext);

    /// <summary>Encrypts and signs a 256-byte group message.</summary>
    [Benchmark]
    public int GroupSeal256() => GroupEnvelope.Seal(_aliceKeys, Alice, Group, _groupKey, _id, SentAt, _group256, _envelope);

    /// <summary>Verifies and decrypts a 256-byte group message.</summary>
    [Benchmark]
    public int GroupOpen256() => GroupEnvelope.Open(_keyRing, _alice, _groupKey.Epoch, _id, SentAt, _sealedGroup256, _plaintext);

    /// <summary>Encrypts one 64 KiB file chunk.</summary>
    [Benchmark]
    public int FileEncryptChunk64K() => _encryptor.EncryptChunk(0, _chunk, _encryptedChunk);

    /// <summary>Decrypts 64 KiB file chunks in order (and hashes them); the time is per chunk.</summary>
    [Benchmark(OperationsPerInvoke = ChunksPerFile)]
    public int FileDecryptChunk64K()
    {
        using var decryptor = new FileDecryptor(_fileId, _manifest);
        int total = 0;
        for (int i = 0; i < ChunksPerFile; i++)
        {
            total += decryptor.DecryptChunk(i, _encryptedFile[i], _decryptedChunk);
        }

        decryptor.Complete();
        return total;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
