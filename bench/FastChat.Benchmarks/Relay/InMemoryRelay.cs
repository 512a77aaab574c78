using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Server.Internal;
using FastChat.Hosts.Storage;
using FastChat.Protocol;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;
using FastChat.Transport.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Benchmarks.Relay;

/// <summary>
/// A chat server's routing code without its listener: the same <see cref="ServerContext"/>, <see cref="ConnectionHandler"/>,
/// <see cref="ClientSession"/> and <see cref="MessageRouter"/> that <see cref="ChatServer"/> wires up per accepted
/// connection, over connections whose socket is a pair of in-memory pipes. The store is SQLite in a temp folder; it is
/// touched only while signing in.
/// </summary>
internal sealed class InMemoryRelay : IAsyncDisposable
{
    public const string ServerId = "bench";

    private readonly string _directory;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<RelayClient> _clients = [];

    private InMemoryRelay(string directory, SqliteChatStore store, ClusterKey key, ChatServerOptions options)
    {
        _directory = directory;
        Store = store;
        Key = key;
        Options = options;
        Metrics = new ServerMetrics(ServerId, meterFactory: null);
        Context = new ServerContext(options, store, key, NullLoggerFactory.Instance, TimeProvider.System, Metrics, _stopping.Token);
    }

    public SqliteChatStore Store { get; }

    public ClusterKey Key { get; }

    public ChatServerOptions Options { get; }

    public ServerMetrics Metrics { get; }

    public ServerContext Context { get; }

    public static async Task<InMemoryRelay> CreateAsync()
    {
        string directory = Path.Combine(Path.GetTempPath(), "fastchat-bench", Guid.NewGuid().ToString("n"));
        SqliteChatStore store = SqliteChatStore.ForDataDirectory(directory);
        await store.InitializeAsync().ConfigureAwait(false);
        var options = new ChatServerOptions
        {
            Id = ServerId,
            Host = "127.0.0.1",
            Port = 0,
            Balancer = "127.0.0.1:1",

            // Nothing sweeps here; the benchmark settles every delivery with an ack.
            DeliveryTimeout = TimeSpan.FromMinutes(10),
        };
        return new InMemoryRelay(directory, store, ClusterKey.Generate(), options);
    }

    /// <summary>The transport options <see cref="ChatServer"/> gives its listener.</summary>
    public TransportOptions TransportOptions => new()
    {
        MaxFrameSize = Options.MaxFrameSize,
        MaxPendingSendBytes = Math.Max(Options.MaxSendBufferBytes, 2L * (Options.MaxFrameSize + 4)),
        OutputPauseThreshold = Math.Min(1024 * 1024, Options.MaxSendBufferBytes / 2),
        IdleTimeout = Timeout.InfiniteTimeSpan,
    };

    public async Task CreateAccountAsync(string name)
    {
        var account = new Account(
            name,
            "pbkdf2-sha256",
            RandomNumberGenerator.GetBytes(16),
            100_000,
            RandomNumberGenerator.GetBytes(16),
            RandomNumberGenerator.GetBytes(32),
            RandomNumberGenerator.GetBytes(32),
            RandomNumberGenerator.GetBytes(32),
            RandomNumberGenerator.GetBytes(64),
            DateTime.UtcNow);
        await Store.CreateAccountAsync(account).ConfigureAwait(false);
    }

    /// <summary>Connects over in-memory pipes, says Hello, resumes <paramref name="user"/> and waits until the session takes live traffic.</summary>
    public async Task<RelayClient> SignInAsync(string user, IReadOnlyList<string>? features = null)
    {
        var client = new RelayClient(this);
        _clients.Add(client);
        client.Write(0, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Client, Features = features ?? [], Agent = "FastChat.Benchmarks" });
        byte[] token = SessionTokens.Issue(Key, user, ServerId, DateTime.UtcNow.AddDays(1));
        client.Write(1, new Resume { SessionToken = new ReadOnlySequence<byte>(token) });
        await client.FlushAsync().ConfigureAwait(false);
        await client.ExpectAsync(Opcode.Hello).ConfigureAwait(false);
        await client.ExpectAsync(Opcode.Resumed).ConfigureAwait(false);

        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (client.Handler.Client is not { CanDeliverLive: true })
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{user}'s session did not start taking live traffic.");
            }

            await Task.Delay(1).ConfigureAwait(false);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (RelayClient client in _clients)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Metrics.Dispose();
        await Store.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left to the system's temp cleanup.
        }
    }
}

/// <summary>
/// One client of an <see cref="InMemoryRelay"/>: what it writes goes to the server's receive loop through one pipe; what
/// the server sends arrives in the other.
/// </summary>
internal sealed class RelayClient : IAsyncDisposable
{
    private static readonly PipeOptions s_pipeOptions = new(
        pauseWriterThreshold: 0,
        resumeWriterThreshold: 0,
        minimumSegmentSize: 16 * 1024,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        useSynchronizationContext: false);

    private readonly Pipe _toServer = new(s_pipeOptions);
    private readonly Pipe _fromServer = new(s_pipeOptions);
    private readonly Task _serving;
    private MessageId[] _ids = new MessageId[256];

    public RelayClient(InMemoryRelay relay)
    {
        FastChatConnection connection = InMemoryConnection.Start(relay.TransportOptions, _toServer.Reader, _fromServer.Writer);
        Connection = new FramedConnection(connection);
        Handler = new ConnectionHandler(relay.Context, Connection);
        _serving = Connection.RunAsync(Handler);
    }

    public FramedConnection Connection { get; }

    public ConnectionHandler Handler { get; }

    public void Write<T>(uint requestId, in T message)
        where T : struct, IMessage<T> =>
        MessageSerializer.WriteFrame(_toServer.Writer, requestId, in message);

    /// <summary>Writes raw frames (prefix included) and hands them to the server's receive loop.</summary>
    public ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> frames) => _toServer.Writer.WriteAsync(frames);

    public ValueTask<FlushResult> FlushAsync() => _toServer.Writer.FlushAsync();

    /// <summary>Reads exactly <paramref name="count"/> frames from the server and drops them.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DrainAsync(int count)
    {
        PipeReader reader = _fromServer.Reader;
        int seen = 0;
        while (seen < count)
        {
            ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (seen < count && FrameReader.TryReadFrame(ref buffer, int.MaxValue, out _))
            {
                seen++;
            }

            reader.AdvanceTo(buffer.Start, seen < count ? buffer.End : buffer.Start);
            if (result.IsCompleted && seen < count)
            {
                throw new InvalidOperationException($"The server closed the connection after {seen} of {count} frames ({Connection.CloseReason}).");
            }
        }
    }

    /// <summary>
    /// Reads exactly <paramref name="count"/> <c>DirectMessage</c> frames and acknowledges each read batch of them with one
    /// <c>AckBatch</c>, as a client that negotiated <c>ack-batch</c> does; the acks are flushed once, after the last read
    /// (as <see cref="WriteAsync"/> hands over a whole batch of single acks at once).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DrainAndAckBatchesAsync(int count)
    {
        PipeReader reader = _fromServer.Reader;
        int seen = 0;
        while (seen < count)
        {
            ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            seen += CollectAndAck(ref buffer, count - seen);
            reader.AdvanceTo(buffer.Start, seen < count ? buffer.End : buffer.Start);
            if (result.IsCompleted && seen < count)
            {
                throw new InvalidOperationException($"The server closed the connection after {seen} of {count} frames ({Connection.CloseReason}).");
            }
        }

        await _toServer.Writer.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Reads <c>AckBatch</c> and <c>DeliveredBatch</c> frames until they have named <paramref name="count"/> ids in all.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DrainBatchedIdsAsync(int count)
    {
        PipeReader reader = _fromServer.Reader;
        int seen = 0;
        while (seen < count)
        {
            ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            seen += CountBatchedIds(ref buffer);
            reader.AdvanceTo(buffer.Start, seen < count ? buffer.End : buffer.Start);
            if (result.IsCompleted && seen < count)
            {
                throw new InvalidOperationException($"The server closed the connection after {seen} of {count} ids ({Connection.CloseReason}).");
            }
        }
    }

    // One AckBatch for the DirectMessages of one read (written, not flushed).
    private int CollectAndAck(ref ReadOnlySequence<byte> buffer, int limit)
    {
        MessageId[] ids = _ids;
        int count = 0;
        while (count < limit && FrameReader.TryReadFrame(ref buffer, int.MaxValue, out ReadOnlySequence<byte> payload))
        {
            var reader = new MessagePackReader(payload);
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            if (header.Opcode != Opcode.DirectMessage)
            {
                throw new InvalidOperationException($"Expected DirectMessage from the server, got {header.Opcode}.");
            }

            if (count == ids.Length)
            {
                Array.Resize(ref _ids, ids.Length * 2);
                ids = _ids;
            }

            // The id is the first field: a client acking reads no further (it has the rest of the frame in hand).
            ids[count++] = ReadFirstId(ref reader);
        }

        if (count != 0)
        {
            AckBatch.WriteFrame(_toServer.Writer, 0, ids.AsSpan(0, count));
        }

        return count;
    }

    private static MessageId ReadFirstId(ref MessagePackReader reader)
    {
        ReadOnlySequence<byte> bytes = reader.ReadBytes() ?? throw new InvalidOperationException("A DirectMessage without an id.");
        if (bytes.IsSingleSegment)
        {
            return new MessageId(bytes.FirstSpan);
        }

        Span<byte> scratch = stackalloc byte[MessageId.Size];
        bytes.CopyTo(scratch);
        return new MessageId(scratch);
    }

    private static int CountBatchedIds(ref ReadOnlySequence<byte> buffer)
    {
        int ids = 0;
        while (FrameReader.TryReadFrame(ref buffer, int.MaxValue, out ReadOnlySequence<byte> payload))
        {
            var reader = new MessagePackReader(payload);
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            switch (header.Opcode)
            {
                case Opcode.AckBatch:
                    ids += reader.ReadArrayHeader();
                    break;
                case Opcode.DeliveredBatch:
                    reader.Skip();
                    ids += reader.ReadArrayHeader();
                    break;
                default:
                    throw new InvalidOperationException($"Expected AckBatch or DeliveredBatch from the server, got {header.Opcode}.");
            }
        }

        return ids;
    }

    /// <summary>Reads frames until one with <paramref name="opcode"/>, which it returns as bytes (prefix excluded); fails on anything else but the listed skips.</summary>
    public async Task<byte[]> ExpectAsync(Opcode opcode, Opcode skip = Opcode.Error)
    {
        PipeReader reader = _fromServer.Reader;
        while (true)
        {
            ReadResult result = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (FrameReader.TryReadFrame(ref buffer, int.MaxValue, out ReadOnlySequence<byte> payload))
            {
                byte[] bytes = payload.ToArray();
                reader.AdvanceTo(buffer.Start);
                var messageReader = new MessagePackReader(new ReadOnlySequence<byte>(bytes));
                MessageHeader header = MessageSerializer.ReadHeader(ref messageReader);
                Opcode actual = header.Opcode;
                if (actual == opcode)
                {
                    return bytes;
                }

                if (actual == Opcode.Error)
                {
                    Error error = MessageSerializer.ReadBody<Error>(ref messageReader, header);
                    throw new InvalidOperationException($"Expected {opcode} from the server, got Error {error.Code}: {error.Message}");
                }

                if (actual != skip || skip == Opcode.Error)
                {
                    throw new InvalidOperationException($"Expected {opcode} from the server, got {actual}.");
                }

                continue;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new InvalidOperationException($"The server closed the connection while {opcode} was expected ({Connection.CloseReason}).");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
        await _serving.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        await _fromServer.Reader.CompleteAsync().ConfigureAwait(false);
    }
}
