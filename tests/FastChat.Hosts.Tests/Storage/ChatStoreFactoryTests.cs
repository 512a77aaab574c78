using FastChat.Hosts.Storage;

namespace FastChat.Hosts.Tests.Storage;

public sealed class ChatStoreFactoryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fastchat-tests", Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("sqlite")]
    [InlineData("SQLite")]
    [InlineData(" Sqlite ")]
    public async Task Create_Sqlite_UsesFastchatDbInTheDataFolder(string provider)
    {
        string folder = Path.Combine(_root, "data");

        IChatStore store = ChatStoreFactory.Create(new StorageOptions { Provider = provider, DataDirectory = folder });
        await using (store)
        {
            SqliteChatStore sqlite = Assert.IsType<SqliteChatStore>(store);
            Assert.Equal(Path.Combine(folder, SqliteChatStore.DatabaseFileName), sqlite.DatabasePath);
            Assert.True(Directory.Exists(folder));
        }
    }

    [Fact]
    public async Task Create_SqliteWithConnectionString_UsesItInsteadOfTheDataFolder()
    {
        Directory.CreateDirectory(_root);
        string file = Path.Combine(_root, "custom.db");

        IChatStore store = ChatStoreFactory.Create(new StorageOptions { DataDirectory = Path.Combine(_root, "unused"), ConnectionString = $"Data Source={file}" });
        await using (store)
        {
            await store.InitializeAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(file, Assert.IsType<SqliteChatStore>(store).DatabasePath);
            Assert.True(File.Exists(file));
            Assert.False(Directory.Exists(Path.Combine(_root, "unused")));
        }
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("Postgres")]
    [InlineData("postgresql")]
    public async Task Create_Postgres_ReturnsAPostgresStoreWithoutConnecting(string provider)
    {
        IChatStore store = ChatStoreFactory.Create(new StorageOptions { Provider = provider, ConnectionString = "Host=127.0.0.1;Port=1;Database=fastchat" });
        await using (store)
        {
            Assert.IsType<PostgresChatStore>(store);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Create_PostgresWithoutConnectionString_ThrowsNamingTheSetting(string? connectionString)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(
            () => ChatStoreFactory.Create(new StorageOptions { Provider = "postgres", ConnectionString = connectionString }));

        Assert.Contains("FastChat:Storage:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mysql")]
    [InlineData("")]
    public void Create_UnknownProvider_ThrowsNamingTheSettingAndTheChoices(string provider)
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => ChatStoreFactory.Create(new StorageOptions { Provider = provider }));

        Assert.Contains("FastChat:Storage:Provider", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{provider}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'sqlite'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'postgres'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_SqliteWithoutDataFolder_ThrowsNamingTheSetting()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => ChatStoreFactory.Create(new StorageOptions { DataDirectory = " " }));

        Assert.Contains("FastChat:Storage:DataDirectory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NullOptions_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => ChatStoreFactory.Create(null!));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
