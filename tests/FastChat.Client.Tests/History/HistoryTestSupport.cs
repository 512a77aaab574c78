using FastChat.Client.History;
using FastChat.Protocol.Messages;
using Microsoft.Data.Sqlite;

namespace FastChat.Client.Tests.History;

/// <summary>A fresh folder under the system's temp folder, deleted with everything in it on dispose.</summary>
internal sealed class HistoryTestFolder : IDisposable
{
    public HistoryTestFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fastchat-history-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>
/// A test class's own history: a temp folder with alice's history open in it, closed and deleted after the test.
/// </summary>
public abstract class HistoryTestBase : IAsyncLifetime
{
    protected const string Owner = "alice";

    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ChatHistory? _history;

    private protected HistoryTestFolder Folder { get; } = new();

    protected ChatHistory History => _history ?? throw new InvalidOperationException("The history is not open.");

    protected string HistoryPath => Folder.Combine(ChatHistory.FileName);

    public async Task InitializeAsync() => _history = await ChatHistory.OpenAsync(HistoryPath, Owner).WaitAsync(Timeout);

    public async Task DisposeAsync()
    {
        if (_history is not null)
        {
            await _history.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        Folder.Dispose();
    }

    /// <summary>Closes the history and opens the same file again, as after a restart.</summary>
    protected async Task ReopenAsync()
    {
        await History.DisposeAsync().AsTask().WaitAsync(Timeout);
        _history = null;
        _history = await ChatHistory.OpenAsync(HistoryPath, Owner).WaitAsync(Timeout);
    }

    protected static HistoryEntry Text(string peer, string text, string? group = null) => new()
    {
        Id = MessageId.NewId(),
        Peer = peer,
        Group = group,
        Kind = HistoryKind.Text,
        Text = text,
    };

    protected async Task<HistoryEntry> SendAsync(string peer, string text, string? group = null)
    {
        HistoryEntry entry = Text(peer, text, group);
        Assert.True(await History.AddSentAsync(entry).WaitAsync(Timeout));
        return entry;
    }

    protected async Task<HistoryEntry> ReceiveAsync(string sender, string text, string? group = null)
    {
        HistoryEntry entry = Text(sender, text, group);
        Assert.True(await History.AddReceivedAsync(entry).WaitAsync(Timeout));
        return entry;
    }

    protected async Task<HistoryEntry> GetSentAsync(MessageId id)
    {
        HistoryEntry? entry = await History.GetSentAsync(id).WaitAsync(Timeout);
        Assert.NotNull(entry);
        return entry;
    }

    protected static string[] Texts(IReadOnlyList<HistoryEntry> entries)
    {
        var texts = new string[entries.Count];
        for (int i = 0; i < texts.Length; i++)
        {
            texts[i] = entries[i].Text ?? string.Empty;
        }

        return texts;
    }

    /// <summary>A connection of the test's own to a history file, outside the history's pool; closed for real on dispose.</summary>
    internal static SqliteConnection OpenRaw(string path, SqliteOpenMode mode = SqliteOpenMode.ReadWriteCreate)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    internal static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
