using System.Globalization;
using FastChat.Protocol.Messages;
using Microsoft.Data.Sqlite;

namespace FastChat.Shared.Sqlite;

/// <summary>
/// One open SQLite connection and the statements prepared on it: the plumbing every FastChat database session shares
/// (opening in WAL mode, the statement cache, the write transaction). A derived session adds its own statements and SQL.
/// </summary>
/// <remarks>
/// A session is used by one caller at a time: a <see cref="SqliteWriteQueue{TSession}"/> owns one, and readers rent
/// theirs from a <see cref="SqliteSessionPool{TSession}"/>. Each statement is prepared once per connection, on first use,
/// and re-executed with new parameter values after that.
/// </remarks>
internal abstract class SqliteSessionBase : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand?[] _commands;

    // Message ids are read into this buffer rather than into a new array per row.
    private readonly byte[] _idBuffer = new byte[MessageId.Size];

    private SqliteCommand? _begin;
    private SqliteCommand? _commit;
    private SqliteCommand? _rollback;

    /// <summary>Takes over an open connection (see <see cref="OpenConnection"/>).</summary>
    /// <param name="connection">The connection; the session disposes it.</param>
    /// <param name="statementCount">How many statements the derived session defines (see <see cref="Define"/>).</param>
    protected SqliteSessionBase(SqliteConnection connection, int statementCount)
    {
        _connection = connection;
        _commands = new SqliteCommand?[statementCount];
    }

    /// <summary>The database file, for messages.</summary>
    public string DataSource => _connection.DataSource;

    /// <summary>Whether a transaction is open on the connection.</summary>
    public bool InTransaction => SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0;

    /// <summary>Runs a script (several statements) that returns nothing.</summary>
    public void ExecuteScript(string sql)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Runs a query that returns one integer (0 for no row or NULL).</summary>
    public long ExecuteInt64(string sql)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        object? value = command.ExecuteScalar();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Reads a PRAGMA's value as text.</summary>
    public string ReadPragma(string name)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = "PRAGMA " + name + ";";
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? string.Empty;
    }

    /// <summary>Starts a write transaction, taking the write lock now (BEGIN IMMEDIATE) so the transaction never has to upgrade a read lock, which SQLite cannot do while another connection writes.</summary>
    public void Begin() => (_begin ??= Prepare("BEGIN IMMEDIATE", [])).ExecuteNonQuery();

    /// <summary>Commits the open transaction.</summary>
    public void Commit() => (_commit ??= Prepare("COMMIT", [])).ExecuteNonQuery();

    /// <summary>Rolls the open transaction back, if SQLite has not already done so after an error.</summary>
    public void RollbackIfActive()
    {
        if (InTransaction)
        {
            (_rollback ??= Prepare("ROLLBACK", [])).ExecuteNonQuery();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        for (int i = 0; i < _commands.Length; i++)
        {
            _commands[i]?.Dispose();
            _commands[i] = null;
        }

        _begin?.Dispose();
        _commit?.Dispose();
        _rollback?.Dispose();
        _begin = _commit = _rollback = null;
        _connection.Dispose();
    }

    /// <summary>Opens a connection and sets it up: busy timeout, WAL, then the session's own settings.</summary>
    /// <param name="connectionString">The connection string.</param>
    /// <param name="busyTimeoutMilliseconds">How long a statement waits for another connection's lock.</param>
    /// <param name="settings">The PRAGMAs to run after WAL is on (synchronous mode, foreign keys, ...).</param>
    /// <param name="cannotUseWal">Builds the component's exception for a database that cannot use WAL, from its data source and the journal mode it reported.</param>
    /// <returns>The open connection.</returns>
    /// <exception cref="SqliteException">The database cannot be opened.</exception>
    protected static SqliteConnection OpenConnection(
        string connectionString, int busyTimeoutMilliseconds, string settings, Func<string, string?, Exception> cannotUseWal)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();

            // The busy timeout goes first: switching to WAL, and everything after it, may have to wait for another
            // connection (in this process or another) that holds the lock, instead of failing at once.
            command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {busyTimeoutMilliseconds};");
            command.ExecuteNonQuery();

            // WAL lets readers run while one writer commits. The mode is stored in the file; asking again on an existing
            // WAL database is a no-op.
            command.CommandText = "PRAGMA journal_mode = WAL;";
            string? mode = Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw cannotUseWal(connection.DataSource, mode);
            }

            command.CommandText = settings;
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Reads a time stored as UTC ticks.</summary>
    protected static DateTime ReadTime(SqliteDataReader reader, int ordinal) => new(reader.GetInt64(ordinal), DateTimeKind.Utc);

    /// <summary>The prepared command of one of the derived session's statements, preparing it on first use.</summary>
    /// <param name="statement">The statement's number, 0 to the count given to the constructor.</param>
    protected SqliteCommand Prepared(int statement)
    {
        SqliteCommand? command = _commands[statement];
        if (command is null)
        {
            (string sql, string[] parameters) = Define(statement);
            command = Prepare(sql, parameters);
            _commands[statement] = command;
        }

        return command;
    }

    /// <summary>The SQL of one of the derived session's statements and the names of its parameters, in the order they are set.</summary>
    protected abstract (string Sql, string[] Parameters) Define(int statement);

    /// <summary>Reads a message id without allocating for its bytes.</summary>
    /// <returns><see langword="false"/> if the stored value is not <see cref="MessageId.Size"/> bytes (a damaged file).</returns>
    protected bool TryReadId(SqliteDataReader reader, int ordinal, out MessageId id)
    {
        // With no buffer, GetBytes returns the stored length.
        if (reader.GetBytes(ordinal, 0, null, 0, 0) != MessageId.Size
            || reader.GetBytes(ordinal, 0, _idBuffer, 0, MessageId.Size) != MessageId.Size)
        {
            id = default;
            return false;
        }

        id = new MessageId(_idBuffer);
        return true;
    }

    private SqliteCommand Prepare(string sql, string[] parameters)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (string parameter in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = parameter });
        }

        command.Prepare();
        return command;
    }
}
