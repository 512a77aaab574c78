using Microsoft.Data.Sqlite;

namespace FastChat.Shared.Sqlite;

/// <summary>
/// Idle reader sessions of one database, each with its prepared statements. A read rents one, runs on the caller's
/// thread and returns it. In WAL mode readers never wait for the writer, so reads need no queue.
/// </summary>
/// <typeparam name="TSession">The component's session type.</typeparam>
internal sealed class SqliteSessionPool<TSession> : IDisposable
    where TSession : SqliteSessionBase, ISqliteSession<TSession>
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutMilliseconds;
    private readonly string _database;
    private readonly int _maxIdle;
    private readonly Stack<TSession> _idle;
    private bool _disposed;

    /// <summary>Creates an empty pool; sessions are opened as reads need them.</summary>
    /// <param name="connectionString">The connection string sessions open with.</param>
    /// <param name="busyTimeoutMilliseconds">The sessions' busy timeout.</param>
    /// <param name="database">The database, as failures name it.</param>
    /// <param name="maxIdle">How many idle sessions are kept open; more concurrent readers open extra ones and close them after.</param>
    public SqliteSessionPool(string connectionString, int busyTimeoutMilliseconds, string database, int maxIdle)
    {
        _connectionString = connectionString;
        _busyTimeoutMilliseconds = busyTimeoutMilliseconds;
        _database = database;
        _maxIdle = maxIdle;
        _idle = new Stack<TSession>(maxIdle);
    }

    /// <summary>Takes an idle session, or opens one when none is idle.</summary>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    /// <exception cref="SqliteException">A new connection cannot be opened.</exception>
    public TSession Rent()
    {
        lock (_idle)
        {
            ObjectDisposedException.ThrowIf(_disposed, TSession.Owner);
            if (_idle.TryPop(out TSession? session))
            {
                return session;
            }
        }

        return TSession.Open(_connectionString, _busyTimeoutMilliseconds);
    }

    /// <summary>Gives a session back; past the idle limit, or after disposal, it is closed instead.</summary>
    public void Return(TSession session)
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

    /// <summary>Runs a read on a rented session, on the caller's thread.</summary>
    /// <returns>The read's result, or its failure in the component's exception.</returns>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public Task<TResult> Read<TState, TResult>(
        Func<TSession, TState, TResult> read, TState state, string operation, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        TSession session;
        try
        {
            session = Rent();
        }
        catch (Exception e) when (e is SqliteException || TSession.IsOwnException(e))
        {
            return Task.FromException<TResult>(Report(operation, e));
        }

        TResult result;
        try
        {
            result = read(session, state);
        }
        catch (Exception e) when (e is SqliteException or InvalidCastException or FormatException or OverflowException || TSession.IsOwnException(e))
        {
            // A failed read may leave the connection in any state: close it rather than give it back. A value of the
            // wrong type (a damaged or foreign file) is a database failure like any other.
            session.Dispose();
            return Task.FromException<TResult>(Report(operation, e));
        }

        Return(session);
        return Task.FromResult(result);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_idle)
        {
            _disposed = true;
            while (_idle.TryPop(out TSession? session))
            {
                session.Dispose();
            }
        }
    }

    private Exception Report(string operation, Exception exception) =>
        TSession.IsOwnException(exception) ? exception : TSession.Failed(_database, operation, exception);
}
