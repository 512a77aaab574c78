namespace FastChat.Client.History.Internal;

/// <summary>
/// Idle reader sessions of one <see cref="ChatHistory"/>. A read rents one, runs on the caller's thread and gives it
/// back. In WAL mode readers never wait for the writer, so the chat screen can read while the receive loop writes.
/// </summary>
internal sealed class HistorySessionPool : IDisposable
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutMilliseconds;
    private readonly int _maxIdle;
    private readonly Stack<HistorySession> _idle;
    private bool _disposed;

    public HistorySessionPool(string connectionString, int busyTimeoutMilliseconds, int maxIdle)
    {
        _connectionString = connectionString;
        _busyTimeoutMilliseconds = busyTimeoutMilliseconds;
        _maxIdle = maxIdle;
        _idle = new Stack<HistorySession>(maxIdle);
    }

    /// <summary>Takes an idle session, or opens one when none is idle.</summary>
    /// <exception cref="ObjectDisposedException">The history is disposed.</exception>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">A new connection cannot be opened.</exception>
    /// <exception cref="ChatHistoryException">A new connection cannot use WAL.</exception>
    public HistorySession Rent()
    {
        lock (_idle)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(ChatHistory));
            if (_idle.TryPop(out HistorySession? session))
            {
                return session;
            }
        }

        return HistorySession.Open(_connectionString, _busyTimeoutMilliseconds);
    }

    /// <summary>Gives a session back; past the idle limit, or once the history is disposed, it is closed instead.</summary>
    public void Return(HistorySession session)
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
            while (_idle.TryPop(out HistorySession? session))
            {
                session.Dispose();
            }
        }
    }
}
