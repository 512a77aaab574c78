using Npgsql;

namespace FastChat.Cli.Tests;

/// <summary>
/// A database of its own on the test PostgreSQL server (<c>FASTCHAT_TEST_POSTGRES</c>), created for one test and
/// dropped after it. Tests that need one skip with a reason when the variable is unset.
/// </summary>
internal sealed class PostgresDatabase : IAsyncDisposable
{
    public const string Variable = "FASTCHAT_TEST_POSTGRES";
    public const string SkipReason = "PostgreSQL not available: set FASTCHAT_TEST_POSTGRES";

    private readonly string _adminConnectionString;
    private readonly string _name;

    private PostgresDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        _name = name;
        ConnectionString = connectionString;
    }

    public static string? AdminConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    public string ConnectionString { get; }

    public static async Task<PostgresDatabase> CreateAsync()
    {
        string admin = AdminConnectionString ?? throw new InvalidOperationException(SkipReason);
        string name = "fastchat_test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync().WaitAsync(FastChatProcess.Timeout);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync().WaitAsync(FastChatProcess.Timeout);
        }

        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new PostgresDatabase(admin, name, builder.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync().WaitAsync(FastChatProcess.Timeout);
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync().WaitAsync(FastChatProcess.Timeout);
    }
}
