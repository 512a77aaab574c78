using BenchmarkDotNet.Attributes;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FastChat.Benchmarks.Storage;

/// <summary>
/// Offline delivery through the chat store: messages for offline users enqueued, then drained the way a server drains
/// them for a user who comes back (read a page of pending items, delete the page's acknowledged items). Each
/// invocation moves <see cref="MessagesPerInvoke"/> messages of <see cref="PayloadSize"/> bytes, so the operations per
/// second column reads as messages per second. Every write is durable when its task completes.
/// </summary>
/// <remarks>
/// Enqueue with a batch size of 1 has <see cref="MessagesPerInvoke"/> single <see cref="IChatStore.EnqueueAsync"/>
/// calls in flight at once (many sessions storing at the same time); larger sizes await one
/// <see cref="IChatStore.EnqueueBatchAsync"/> per batch (a group message for many offline members, a file's chunks).
/// Drain reads pages of the batch size and deletes each page with one
/// <see cref="IChatStore.DeletePendingAsync(string, IReadOnlyList{MessageId}, System.Threading.CancellationToken)"/>, as a
/// server's session batches the acknowledgements that arrive while its previous delete runs (batch size 1 is one delete
/// per message, the cost before deletes were batched). Every
/// iteration starts from an empty queue and runs one invocation; the messages are built before it starts, so the time
/// and the allocation are the store's. PostgreSQL runs only when <c>FASTCHAT_BENCH_POSTGRES</c> (or
/// <c>FASTCHAT_TEST_POSTGRES</c>) holds a connection string whose user may create databases: each case gets a fresh
/// database, dropped afterwards, and at most 16 connections.
/// Target: at least 50,000 messages/s enqueued on SQLite with batches.
/// </remarks>
[MemoryDiagnoser]
[OperationsPerSecond]
public class StorageBenchmarks
{
    /// <summary>Messages moved per benchmark invocation.</summary>
    public const int MessagesPerInvoke = 5000;

    /// <summary>The size of a stored message: a direct message frame with a small sealed body.</summary>
    public const int PayloadSize = 256;

    private const string PostgresVariable = "FASTCHAT_BENCH_POSTGRES";
    private const string PostgresTestVariable = "FASTCHAT_TEST_POSTGRES";

    // Offline messages spread over a few recipients, as a server stores them.
    private const int Recipients = 16;
    private const string DrainRecipient = "returning";

    // A handful of connections serve every concurrent call (Npgsql queues callers when all are busy), as a deployed
    // server would be configured; the default of 100 per process can exceed a shared server's max_connections.
    private const int PostgresPoolSize = 16;

    private static readonly DateTime EnqueuedAt = new(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc);

    private readonly byte[] _payload = new byte[PayloadSize];
    private readonly string[] _recipients = new string[Recipients];
    private readonly Task[] _inFlight = new Task[MessagesPerInvoke];
    private readonly PendingItem[] _items = new PendingItem[MessagesPerInvoke];
    private readonly List<MessageId> _acked = new(1000); // the largest BatchSize: no growth while timed
    private IChatStore _store = null!;
    private string? _sqliteDirectory;
    private string? _sqlitePath;
    private string? _postgresAdmin;
    private string? _postgresDatabase;
    private string? _postgresConnectionString;

    /// <summary>The store under test: <c>sqlite</c>, and <c>postgres</c> when a server is configured.</summary>
    [ParamsSource(nameof(Providers))]
    public string Provider { get; set; } = ChatStoreFactory.Sqlite;

    /// <summary>Items per <see cref="IChatStore.EnqueueBatchAsync"/> call and per drained page.</summary>
    [Params(1, 100, 1000)]
    public int BatchSize { get; set; }

    /// <summary>The providers to run: PostgreSQL only when its connection string is set.</summary>
    public static IEnumerable<string> Providers
    {
        get
        {
            yield return ChatStoreFactory.Sqlite;
            if (PostgresConnectionString is not null)
            {
                yield return ChatStoreFactory.Postgres;
            }
            else
            {
                Console.WriteLine($"// StorageBenchmarks: PostgreSQL cases skipped: neither {PostgresVariable} nor {PostgresTestVariable} is set.");
            }
        }
    }

    private static string? PostgresConnectionString
    {
        get
        {
            string? value = Environment.GetEnvironmentVariable(PostgresVariable);
            if (string.IsNullOrWhiteSpace(value))
            {
                value = Environment.GetEnvironmentVariable(PostgresTestVariable);
            }

            return string.IsNullOrWhiteSpace(value) ? null : value;
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_payload);
        for (int i = 0; i < Recipients; i++)
        {
            _recipients[i] = "user" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (Provider == ChatStoreFactory.Postgres)
        {
            _postgresAdmin = PostgresConnectionString
                ?? throw new InvalidOperationException($"Set {PostgresVariable} to run the PostgreSQL cases.");
            _postgresDatabase = "fastchat_bench_" + Guid.NewGuid().ToString("N");
            ExecuteAdmin($"CREATE DATABASE \"{_postgresDatabase}\"");
            var builder = new NpgsqlConnectionStringBuilder(_postgresAdmin) { Database = _postgresDatabase };
            builder.MaxPoolSize = Math.Min(builder.MaxPoolSize, PostgresPoolSize);
            _postgresConnectionString = builder.ConnectionString;
            _store = new PostgresChatStore(_postgresConnectionString);
        }
        else
        {
            _sqliteDirectory = Path.Combine(Path.GetTempPath(), "fastchat-bench-" + Guid.NewGuid().ToString("N"));
            var store = SqliteChatStore.ForDataDirectory(_sqliteDirectory);
            _sqlitePath = store.DatabasePath;
            _store = store;
        }

        _store.InitializeAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (_sqliteDirectory is not null)
        {
            Directory.Delete(_sqliteDirectory, recursive: true);
        }

        if (_postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            ExecuteAdmin($"DROP DATABASE IF EXISTS \"{_postgresDatabase}\" WITH (FORCE)");
        }
    }

    /// <summary>Empties the queue and prepares the messages to enqueue (not timed).</summary>
    [IterationSetup(Target = nameof(Enqueue))]
    public void PrepareEnqueue()
    {
        ClearPending();
        for (int i = 0; i < MessagesPerInvoke; i++)
        {
            _items[i] = NewItem(_recipients[i % Recipients]);
        }
    }

    /// <summary>Empties the queue, then stores the messages one recipient is about to drain (not timed).</summary>
    [IterationSetup(Target = nameof(Drain))]
    public void PrepareDrain()
    {
        ClearPending();
        for (int i = 0; i < MessagesPerInvoke; i++)
        {
            _items[i] = NewItem(DrainRecipient);
        }

        int stored = _store.EnqueueBatchAsync(_items).GetAwaiter().GetResult();
        if (stored != MessagesPerInvoke)
        {
            throw new InvalidOperationException($"Stored {stored} of {MessagesPerInvoke} messages to drain.");
        }
    }

    /// <summary>Enqueues <see cref="MessagesPerInvoke"/> messages, <see cref="BatchSize"/> per call.</summary>
    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public async Task<int> Enqueue()
    {
        if (BatchSize == 1)
        {
            for (int i = 0; i < MessagesPerInvoke; i++)
            {
                _inFlight[i] = _store.EnqueueAsync(_items[i]);
            }

            await Task.WhenAll(_inFlight).ConfigureAwait(false);
            return MessagesPerInvoke;
        }

        int stored = 0;
        for (int start = 0; start < MessagesPerInvoke; start += BatchSize)
        {
            var batch = new ArraySegment<PendingItem>(_items, start, Math.Min(BatchSize, MessagesPerInvoke - start));
            stored += await _store.EnqueueBatchAsync(batch).ConfigureAwait(false);
        }

        return stored;
    }

    /// <summary>Drains <see cref="MessagesPerInvoke"/> messages: pages of <see cref="BatchSize"/>, each page deleted in one batch.</summary>
    [Benchmark(OperationsPerInvoke = MessagesPerInvoke)]
    public async Task<int> Drain()
    {
        long cursor = 0;
        int drained = 0;
        while (true)
        {
            IReadOnlyList<PendingItem> page = await _store.GetPendingAsync(DrainRecipient, cursor, BatchSize).ConfigureAwait(false);
            if (page.Count == 0)
            {
                break;
            }

            _acked.Clear();
            for (int i = 0; i < page.Count; i++)
            {
                _acked.Add(page[i].Id);
            }

            drained += await _store.DeletePendingAsync(DrainRecipient, _acked).ConfigureAwait(false);
            cursor = page[^1].Sequence;
        }

        if (drained != MessagesPerInvoke)
        {
            throw new InvalidOperationException($"Drained {drained} messages; {MessagesPerInvoke} were stored.");
        }

        return drained;
    }

    private PendingItem NewItem(string recipient) =>
        new(0, recipient, MessageId.NewId(), PendingKind.Message, 0, _payload, EnqueuedAt);

    // Every iteration starts from an empty queue, as a server's queue is drained as users come back; a table grown
    // by every earlier iteration would make later iterations slower than the first. This goes around the store,
    // which deletes only by recipient and id, and is not timed.
    private void ClearPending()
    {
        if (_postgresDatabase is not null)
        {
            using var connection = new NpgsqlConnection(_postgresConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand("DELETE FROM pending", connection);
            command.ExecuteNonQuery();
        }
        else
        {
            var builder = new SqliteConnectionStringBuilder { DataSource = _sqlitePath, Pooling = false, DefaultTimeout = 30 };
            using var connection = new SqliteConnection(builder.ConnectionString);
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "DELETE FROM pending";
            command.ExecuteNonQuery();
        }
    }

    private void ExecuteAdmin(string sql)
    {
        using var connection = new NpgsqlConnection(_postgresAdmin);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
