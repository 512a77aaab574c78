using System.Buffers;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Internal;

/// <summary>
/// Assembles incoming files: a <c>FileOffer</c>, its <c>FileChunk</c>s, then <c>FileComplete</c> become one
/// <see cref="FileReceived"/>. Chunks are copied out of the receive buffer as they arrive.
/// </summary>
/// <remarks>
/// Bounded against a broken or hostile server: at most <see cref="MaxConcurrentFiles"/> files at once, at most
/// <see cref="MaxChunkCount"/> chunks and <see cref="MaxFileBytes"/> bytes each. A file that breaks a rule is dropped
/// unacknowledged, so the server keeps it pending. Frames of one session arrive in order, but a draining old session
/// and a new one may briefly overlap, hence the lock.
/// </remarks>
internal sealed class IncomingFiles
{
    public const int MaxConcurrentFiles = 64;

    // 16 MiB (the servers' default limit) in 64 KiB chunks is 256 chunks; allow generous room for a raised limit.
    public const int MaxChunkCount = 16_384;

    // Four times the servers' default 16 MiB limit: room for AEAD overhead and a raised limit, while a broken server
    // still cannot make the client buffer without bound.
    public const long MaxFileBytes = 64L * 1024 * 1024;

    private readonly Dictionary<MessageId, IncomingFile> _files = [];
    private readonly Lock _lock = new();

    /// <summary>Starts assembling a file; returns a reason when the offer is refused.</summary>
    public string? Begin(in FileOffer offer)
    {
        if (offer.ChunkCount < 1 || offer.ChunkCount > MaxChunkCount)
        {
            return $"its chunk count {offer.ChunkCount} is outside 1..{MaxChunkCount}.";
        }

        if (offer.TotalSize < 0 || offer.TotalSize > MaxFileBytes)
        {
            return $"its size {offer.TotalSize} B is outside 0..{MaxFileBytes} B.";
        }

        var file = new IncomingFile(offer);
        lock (_lock)
        {
            // A second offer for the same id restarts the file: the sender is sending it again after a reconnect.
            if (!_files.ContainsKey(offer.FileId) && _files.Count >= MaxConcurrentFiles)
            {
                return $"{MaxConcurrentFiles} files are already being received.";
            }

            _files[offer.FileId] = file;
        }

        return null;
    }

    /// <summary>Stores a chunk; returns a reason when the file has to be dropped.</summary>
    public string? AddChunk(in FileChunk chunk, out bool known)
    {
        lock (_lock)
        {
            known = _files.TryGetValue(chunk.FileId, out IncomingFile? file);
            if (!known)
            {
                return null;
            }

            string? problem = file!.Add(chunk);
            if (problem is not null)
            {
                _files.Remove(chunk.FileId);
            }

            return problem;
        }
    }

    /// <summary>Finishes a file: the event, or <see langword="null"/> with a reason (or with none when the file is unknown).</summary>
    public FileReceived? Complete(in FileComplete complete, out string? problem)
    {
        IncomingFile? file;
        lock (_lock)
        {
            if (!_files.Remove(complete.FileId, out file))
            {
                problem = null;
                return null;
            }
        }

        return file.Finish(complete.ChunkCount, out problem);
    }

    private sealed class IncomingFile
    {
        private readonly MessageId _id;
        private readonly string _from;
        private readonly string _recipient;
        private readonly string _group;
        private readonly int _keyEpoch;
        private readonly DateTime _sentAt;
        private readonly long _totalSize;
        private readonly byte[] _envelope;
        private readonly ReadOnlyMemory<byte>[] _chunks;
        private readonly bool[] _arrived;
        private int _received;
        private long _bytes;

        public IncomingFile(in FileOffer offer)
        {
            _id = offer.FileId;
            _from = offer.Sender;
            _recipient = offer.Recipient;
            _group = offer.Group;
            _keyEpoch = offer.KeyEpoch;
            _sentAt = offer.SentAt;
            _totalSize = offer.TotalSize;
            _envelope = offer.Envelope.ToArray();
            _chunks = new ReadOnlyMemory<byte>[offer.ChunkCount];
            _arrived = new bool[offer.ChunkCount];
        }

        public string? Add(in FileChunk chunk)
        {
            if ((uint)chunk.Index >= (uint)_chunks.Length)
            {
                return $"chunk {chunk.Index} is outside 0..{_chunks.Length - 1}.";
            }

            // A repeated chunk (the sender resending after a reconnect) replaces the first copy.
            _bytes += chunk.Data.Length - _chunks[chunk.Index].Length;
            if (_bytes > MaxFileBytes)
            {
                return $"its chunks pass {MaxFileBytes} B.";
            }

            if (!_arrived[chunk.Index])
            {
                _arrived[chunk.Index] = true;
                _received++;
            }

            // The one copy out of the receive buffer: the application owns the chunk from here on.
            _chunks[chunk.Index] = chunk.Data.ToArray();
            return null;
        }

        public FileReceived? Finish(int chunkCount, out string? problem)
        {
            if (chunkCount != _chunks.Length)
            {
                problem = $"FileComplete announced {chunkCount} chunks, the offer {_chunks.Length}.";
                return null;
            }

            if (_received != _chunks.Length)
            {
                problem = $"only {_received} of its {_chunks.Length} chunks arrived.";
                return null;
            }

            problem = null;
            return new FileReceived(_id, _from, _recipient, _group, _keyEpoch, _sentAt, _envelope, _totalSize, _chunks);
        }
    }
}
