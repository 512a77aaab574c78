using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;
using Microsoft.Data.Sqlite;

namespace FastChat.Hosts.Tests.Storage;

/// <summary>The store contract on SQLite, each test in its own temporary folder, plus SQLite's durability and file-sharing guarantees.</summary>
public sealed class SqliteChatStoreTests : ChatStoreContractTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fastchat-tests", Guid.NewGuid().ToString("N"));

    /// <inheritdoc/>
    protected override string? SkipReason => null;

    /// <summary>
    /// Guards durability: once EnqueueAsync returned, the item is committed to the file — a second, independent store
    /// sees it while the first is still open (nothing waits in a buffer), and the files as they are on disk at that
    /// moment (what a kill -9 would leave) open into a database that holds it.
    /// </summary>
    [Fact]
    public async Task Enqueue_Returned_IsCommittedToTheFileBeforeTheStoreCloses()
    {
        MessageId id = MessageId.NewId();
        byte[] payload = RandomBytes(100);

        Assert.True(await Store.EnqueueAsync(Item("bob", id, payload: payload)).WaitAsync(Timeout));

        IChatStore other = await OpenStoreAsync(Database);
        PendingItem seen = Assert.Single(await other.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout));
        Assert.Equal(payload, seen.Payload);

        // Copy the database and its WAL as they are now, without closing anything, and recover the copy.
        string crashed = Path.Combine(_root, "crashed");
        Directory.CreateDirectory(crashed);
        string file = Path.Combine(Database, SqliteChatStore.DatabaseFileName);
        File.Copy(file, Path.Combine(crashed, SqliteChatStore.DatabaseFileName));
        if (File.Exists(file + "-wal"))
        {
            File.Copy(file + "-wal", Path.Combine(crashed, SqliteChatStore.DatabaseFileName + "-wal"));
        }

        IChatStore recovered = await OpenStoreAsync(crashed);
        PendingItem survived = Assert.Single(await recovered.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout));
        Assert.Equal(id, survived.Id);
        Assert.Equal(payload, survived.Payload);
    }

    /// <summary>Guards the durability settings of the connection every write commits through: WAL journaling and synchronous=FULL (2).</summary>
    [Fact]
    public async Task WriterConnection_Settings_AreWalWithFullSynchronousCommitsAndForeignKeys()
    {
        var store = (SqliteChatStore)Store;

        Assert.Equal("wal", await store.ReadWriterPragmaAsync("journal_mode").WaitAsync(Timeout), StringComparer.OrdinalIgnoreCase);
        Assert.Equal("2", await store.ReadWriterPragmaAsync("synchronous").WaitAsync(Timeout));
        Assert.Equal("1", await store.ReadWriterPragmaAsync("foreign_keys").WaitAsync(Timeout));
        Assert.NotEqual("0", await store.ReadWriterPragmaAsync("busy_timeout").WaitAsync(Timeout));
    }

    /// <summary>Guards sharing one file: two stores (as two servers in one process, or two processes) writing at once lose nothing.</summary>
    [Fact]
    public async Task Enqueue_TwoStoresOnOneFileInParallel_KeepEveryItem()
    {
        IChatStore other = await OpenStoreAsync(Database);
        MessageId[] ids = NewIds(200);

        Task<bool>[] writes = [.. ids.Select((id, i) => (i % 2 == 0 ? Store : other).EnqueueAsync(Item("bob", id)))];
        Task<int> batch = other.EnqueueBatchAsync([.. NewIds(100).Select(id => Item("bob", id))]);
        await Task.WhenAll(writes).WaitAsync(Timeout);
        await batch.WaitAsync(Timeout);

        Assert.Equal(300, await Store.CountPendingAsync("bob").WaitAsync(Timeout));
        Assert.Equal(300, (await other.GetPendingAsync("bob", 0, 1000).WaitAsync(Timeout)).Count);
    }

    [Fact]
    public async Task ForDataDirectory_MissingNestedFolder_CreatesItAndTheDatabase()
    {
        string folder = Path.Combine(_root, "a", "b", "data");

        IChatStore store = Track(SqliteChatStore.ForDataDirectory(folder));
        await store.InitializeAsync().WaitAsync(Timeout);

        Assert.True(File.Exists(Path.Combine(folder, SqliteChatStore.DatabaseFileName)));
        Assert.Equal(Path.Combine(folder, SqliteChatStore.DatabaseFileName), ((SqliteChatStore)store).DatabasePath);
    }

    [Fact]
    public async Task Initialize_FreshFile_RecordsTheSchemaVersion()
    {
        await using var connection = new SqliteConnection(ReadOnly(Database));
        await connection.OpenAsync().WaitAsync(Timeout);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(version) FROM schema_version";

        object? version = await command.ExecuteScalarAsync().WaitAsync(Timeout);

        Assert.Equal(1L, version);
    }

    [Fact]
    public async Task Operations_BeforeInitialize_ThrowInvalidOperationException()
    {
        IChatStore store = Track(SqliteChatStore.ForDataDirectory(Path.Combine(_root, "uninitialized")));

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.EnqueueAsync(Item("bob", MessageId.NewId())));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetPresenceAsync("bob"));

        Assert.Contains("InitializeAsync", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_AfterDispose_ThrowObjectDisposedException()
    {
        await Store.DisposeAsync().AsTask().WaitAsync(Timeout);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.EnqueueAsync(Item("bob", MessageId.NewId())));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.GetPresenceAsync("bob"));
        await Store.DisposeAsync().AsTask().WaitAsync(Timeout);
    }

    /// <summary>Guards that a database that cannot be opened surfaces as a ChatStoreException naming the file, not a provider exception.</summary>
    [Fact]
    public async Task Initialize_PathIsAFolder_ThrowsChatStoreExceptionNamingIt()
    {
        string folder = Path.Combine(_root, "not-a-file");
        Directory.CreateDirectory(folder);
        IChatStore store = Track(new SqliteChatStore($"Data Source={folder}"));

        ChatStoreException error = await Assert.ThrowsAsync<ChatStoreException>(() => store.InitializeAsync().WaitAsync(Timeout));

        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
        Assert.IsType<SqliteException>(error.InnerException);
    }

    [Theory]
    [InlineData("Mode=ReadWriteCreate")]
    [InlineData("Data Source=x.db;Flavour=Strawberry")]
    public void Constructor_ConnectionStringWithoutUsableFile_ThrowsArgumentException(string connectionString)
    {
        Assert.Throws<ArgumentException>(() => new SqliteChatStore(connectionString));
    }

    /// <inheritdoc/>
    protected override Task<string> CreateDatabaseAsync()
    {
        string folder = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        return Task.FromResult(folder);
    }

    /// <inheritdoc/>
    protected override IChatStore CreateStore(string database) => SqliteChatStore.ForDataDirectory(database);

    /// <inheritdoc/>
    protected override async Task SetSchemaVersionAsync(string database, int version)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = Path.Combine(database, SqliteChatStore.DatabaseFileName), Pooling = false };
        await using var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync();
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES ($version, 0)";
        command.Parameters.AddWithValue("$version", version);
        await command.ExecuteNonQueryAsync();
    }

    /// <inheritdoc/>
    protected override Task DeleteDatabasesAsync()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static string ReadOnly(string folder) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(folder, SqliteChatStore.DatabaseFileName),
        Mode = SqliteOpenMode.ReadOnly,
        Pooling = false,
    }.ToString();
}
