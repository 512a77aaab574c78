namespace FastChat.Hosts.Storage.Internal;

/// <summary>
/// Idle reader sessions of one <see cref="SqliteChatStore"/>, each with its prepared statements. A read rents one,
/// runs on the caller's thread and returns it. In WAL mode readers never wait for the writer, so reads need no queue.
/// </summary>
internal sealed class SqliteSessionPool : IDisposable
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutMilliseconds;
    private readonly int _maxIdle;
    private readonly Stack<SqliteSession> _idle;
    private bool _disposed;

    public SqliteSessionPool(string connectionString, int busyTimeoutMilliseconds, int maxIdle)
    {
        _connectionString = connectionString;
        _busyTimeoutMilliseconds = busyTimeoutMilliseconds;
        _maxIdle = maxIdle;
        _idle = new Stack<SqliteSession>(maxIdle);
    }

    /// <summary>Takes an idle session, or opens one when none is idle.</summary>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">A new connection cannot be opened.</exception>
    public SqliteSession Rent()
    {
        lock (_idle)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(SqliteChatStore));
            if (_idle.TryPop(out SqliteSession? session))
            {
                return session;
            }
        }

        return SqliteSession.Open(_connectionString, _busyTimeoutMilliseconds);
    }

    /// <summary>Gives a session back; past the idle limit, or after disposal, it is closed instead.</summary>
    public void Return(SqliteSession session)
    {
        lock (_idle)
        {
            if (!_disposed && _idle.Count < _maxIdle)
            {
                _idle.Push(session);
                return;
            }
        }

        session.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_idle)
        {
            _disposed = true;
            while (_idle.TryPop(out SqliteSession? session))
            {
                session.Dispose();
            }
        }
    }
}
