using FastChat.Hosts.Storage;
using Npgsql;

namespace FastChat.Hosts.Tests.Storage;

/// <summary>
/// The store contract on PostgreSQL, on databases created through the server that <c>FASTCHAT_TEST_POSTGRES</c> names and
/// dropped afterwards; without that variable every test is skipped with the reason. The tests share one migrated
/// database that is emptied before each test (dropping a database forces a checkpoint, too slow to do per test); the
/// tests that need a database of their own create one.
/// </summary>
public sealed class PostgresChatStoreTests : ChatStoreContractTests, IClassFixture<PostgresTestDatabases>
{
    private readonly PostgresTestDatabases _databases;

    public PostgresChatStoreTests(PostgresTestDatabases databases)
    {
        _databases = databases;
    }

    /// <inheritdoc/>
    protected override string? SkipReason => PostgresTestDatabases.SkipReason;

    /// <summary>Guards that an unreachable server surfaces as a ChatStoreException naming the database, not a provider exception.</summary>
    [Fact]
    public async Task Initialize_UnreachableServer_ThrowsChatStoreExceptionNamingIt()
    {
        // Port 1 on loopback refuses at once; no PostgreSQL is needed for this test.
        await using var store = new PostgresChatStore("Host=127.0.0.1;Port=1;Database=fastchat;Username=fastchat;Timeout=5");

        ChatStoreException error = await Assert.ThrowsAsync<ChatStoreException>(() => store.InitializeAsync().WaitAsync(Timeout));

        Assert.Contains("127.0.0.1:1/fastchat", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<NpgsqlException>(error.InnerException);
    }

    [Fact]
    public void Constructor_MalformedConnectionString_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new PostgresChatStore("Host=localhost;Flavour=Strawberry"));
    }

    /// <inheritdoc/>
    protected override Task<string> CreateDatabaseAsync() => _databases.CreateAsync();

    /// <inheritdoc/>
    protected override async Task<string> GetEmptyDatabaseAsync()
    {
        string database = await _databases.GetSharedAsync();
        await PostgresTestDatabases.ExecuteAsync(
            database, "TRUNCATE accounts, groups, group_members, group_key_envelopes, pending, presence, servers RESTART IDENTITY");
        return database;
    }

    /// <inheritdoc/>
    protected override IChatStore CreateStore(string database) => new PostgresChatStore(database);

    /// <inheritdoc/>
    protected override Task SetSchemaVersionAsync(string database, int version) =>
        PostgresTestDatabases.ExecuteAsync(database, $"INSERT INTO schema_version (version) VALUES ({version})");

    /// <inheritdoc/>
    protected override Task DeleteDatabasesAsync() => Task.CompletedTask;
}

/// <summary>The PostgreSQL databases of one test class: one shared, migrated database and any fresh ones tests ask for, all dropped when the class is done.</summary>
public sealed class PostgresTestDatabases : IAsyncLifetime
{
    private static readonly string? s_server = Environment.GetEnvironmentVariable("FASTCHAT_TEST_POSTGRES");

    private readonly List<string> _names = [];
    private readonly SemaphoreSlim _sharedGate = new(1, 1);
    private string? _shared;

    /// <summary>Why PostgreSQL tests cannot run here, or <see langword="null"/> if they can.</summary>
    public static string? SkipReason =>
        string.IsNullOrWhiteSpace(s_server) ? "PostgreSQL not available: set FASTCHAT_TEST_POSTGRES" : null;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateAsync()
    {
        string name = "fastchat_test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(s_server!, $"CREATE DATABASE {name}");
        lock (_names)
        {
            _names.Add(name);
        }

        // A small pool keeps the parallel tests concurrent without taking a shared server's every connection.
        return new NpgsqlConnectionStringBuilder(s_server) { Database = name, MaxPoolSize = 8 }.ConnectionString;
    }

    /// <summary>The shared database, created and migrated on first use.</summary>
    public async Task<string> GetSharedAsync()
    {
        await _sharedGate.WaitAsync();
        try
        {
            if (_shared is null)
            {
                string database = await CreateAsync();
                await using var store = new PostgresChatStore(database);
                await store.InitializeAsync();
                _shared = database;
            }

            return _shared;
        }
        finally
        {
            _sharedGate.Release();
        }
    }

    /// <summary>Runs one statement on its own unpooled connection (a pooled idle connection would outlive the test).</summary>
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <inheritdoc/>
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        string[] names;
        lock (_names)
        {
            names = [.. _names];
        }

        foreach (string name in names)
        {
            await ExecuteAsync(s_server!, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)").WaitAsync(TimeSpan.FromSeconds(60));
        }

        _sharedGate.Dispose();
    }
}
