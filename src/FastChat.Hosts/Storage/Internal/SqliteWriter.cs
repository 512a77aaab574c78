using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace FastChat.Hosts.Storage.Internal;

/// <summary>
/// Runs every write of one <see cref="SqliteChatStore"/> on one connection, in order, with group commit: the writes
/// queued while a transaction commits go into the next transaction together, so a burst of single enqueues costs one
/// WAL sync per transaction instead of one per item. Every write's task completes only after its transaction commits.
/// </summary>
/// <remarks>
/// SQLite admits one writer at a time anyway; funnelling this process's writes through one loop means they never
/// wait on each other's locks (and block thread-pool threads doing so). Other stores on the same file, and other
/// processes, are kept in order by SQLite's own lock and the connection's busy timeout.
/// </remarks>
internal sealed class SqliteWriter : IAsyncDisposable
{
    // Bounds how long one transaction holds the write lock and how late the last write of a burst completes.
    private const int MaxOperationsPerTransaction = 256;

    private readonly Channel<ISqliteWriteOperation> _queue = Channel.CreateUnbounded<ISqliteWriteOperation>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private readonly string _connectionString;
    private readonly int _busyTimeoutMilliseconds;
    private readonly string _database;
    private readonly List<ISqliteWriteOperation> _batch = new(MaxOperationsPerTransaction);
    private readonly Task _loop;
    private SqliteSession? _session;

    public SqliteWriter(SqliteSession session, string connectionString, int busyTimeoutMilliseconds, string database)
    {
        _session = session;
        _connectionString = connectionString;
        _busyTimeoutMilliseconds = busyTimeoutMilliseconds;
        _database = database;
        _loop = RunAsync();
    }

    /// <summary>Queues a write; <paramref name="execute"/> runs on the writer's connection inside a transaction.</summary>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    public Task<TResult> Submit<TState, TResult>(
        Func<SqliteSession, TState, TResult> execute, TState state, string operation, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        var write = new SqliteWriteOperation<TState, TResult>(execute, state, operation, cancellationToken);
        if (!_queue.Writer.TryWrite(write))
        {
            return Task.FromException<TResult>(new ObjectDisposedException(nameof(SqliteChatStore)));
        }

        return write.Task;
    }

    /// <summary>Stops taking writes, finishes the queued ones and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _session?.Dispose();
        _session = null;
    }

    private async Task RunAsync()
    {
        // Leave the caller (the store's InitializeAsync) at once; the loop continues on the thread pool.
        await Task.Yield();
        ChannelReader<ISqliteWriteOperation> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_batch.Count < MaxOperationsPerTransaction && reader.TryRead(out ISqliteWriteOperation? write))
            {
                if (write.CancellationToken.IsCancellationRequested)
                {
                    write.Cancel();
                    continue;
                }

                _batch.Add(write);
            }

            if (_batch.Count > 0)
            {
                ExecuteBatch(_batch);
                _batch.Clear();
            }
        }
    }

    private void ExecuteBatch(List<ISqliteWriteOperation> batch)
    {
        // Run the batch in one transaction. If one write throws, roll back, fail that write alone and run the others
        // again without it: each write recomputes its result from the database, so the retried results are right.
        while (batch.Count > 0)
        {
            SqliteSession session;
            try
            {
                session = _session ??= SqliteSession.Open(_connectionString, _busyTimeoutMilliseconds);
                session.Begin();
            }
            catch (Exception e)
            {
                // No transaction (the lock was not granted within the busy timeout, or the file cannot be opened):
                // retrying the writes one by one would only wait that long again for each.
                FailAll(batch, e);
                if (!IsBusy(e))
                {
                    // Anything but lock contention may have broken the connection: the next batch opens a new one.
                    _session?.Dispose();
                    _session = null;
                }

                return;
            }

            int failed = -1;
            Exception? failure = null;
            for (int i = 0; i < batch.Count; i++)
            {
                try
                {
                    batch[i].Execute(session);
                }
                catch (Exception e)
                {
                    // Whatever one write throws fails that write alone; the loop must keep serving the others.
                    failed = i;
                    failure = e;
                    break;
                }
            }

            if (failed < 0)
            {
                try
                {
                    session.Commit();
                }
                catch (Exception e)
                {
                    Rollback();
                    FailAll(batch, e);
                    return;
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i].Complete();
                }

                return;
            }

            Rollback();
            batch[failed].Fail(Wrap(batch[failed], failure!));
            batch.RemoveAt(failed);
        }
    }

    private static bool IsBusy(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED };

    private void Rollback()
    {
        try
        {
            _session?.RollbackIfActive();
        }
        catch (SqliteException)
        {
            // The connection is in a state it cannot roll back from (an I/O error, say): replace it. SQLite rolls back
            // whatever it had open when the connection closes.
            _session?.Dispose();
            _session = null;
        }
    }

    private void FailAll(List<ISqliteWriteOperation> batch, Exception exception)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].Fail(Wrap(batch[i], exception));
        }
    }

    // A ChatStoreException already says what went wrong; anything else the database threw (an error code, or a value
    // of the wrong type in a damaged file) is wrapped so callers see one exception type.
    private Exception Wrap(ISqliteWriteOperation write, Exception exception) =>
        exception is ChatStoreException or OperationCanceledException or ObjectDisposedException
            ? exception
            : StoreErrors.Failed("SQLite", _database, write.Operation, exception);
}

/// <summary>A queued write: runs inside the writer's transaction and completes its task after the commit.</summary>
internal interface ISqliteWriteOperation
{
    CancellationToken CancellationToken { get; }

    string Operation { get; }

    void Execute(SqliteSession session);

    void Complete();

    void Fail(Exception exception);

    void Cancel();
}

/// <summary>A write with its state and result. It is its own completion source, so a write is one allocation besides its task.</summary>
internal sealed class SqliteWriteOperation<TState, TResult> : TaskCompletionSource<TResult>, ISqliteWriteOperation
{
    private readonly Func<SqliteSession, TState, TResult> _execute;
    private readonly TState _state;
    private TResult _result = default!;

    public SqliteWriteOperation(Func<SqliteSession, TState, TResult> execute, TState state, string operation, CancellationToken cancellationToken)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        // Continuations run elsewhere: the writer loop must not run callers' code between its transactions.
        _execute = execute;
        _state = state;
        Operation = operation;
        CancellationToken = cancellationToken;
    }

    public CancellationToken CancellationToken { get; }

    public string Operation { get; }

    public void Execute(SqliteSession session) => _result = _execute(session, _state);

    public void Complete() => TrySetResult(_result);

    public void Fail(Exception exception) => TrySetException(exception);

    public void Cancel() => TrySetCanceled(CancellationToken);
}
