using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace FastChat.Shared.Sqlite;

/// <summary>
/// Runs every write of one database on one connection, in the order submitted, with group commit: the writes queued
/// while a transaction commits go into the next transaction together, so a burst of single writes costs one WAL sync
/// per transaction instead of one per write. Every write's task completes only after its transaction commits.
/// </summary>
/// <remarks>
/// SQLite admits one writer at a time anyway; funnelling this process's writes through one loop means they never wait on
/// each other's locks (and never block thread-pool threads doing so). Other connections to the same file, in this
/// process or in others, are kept in order by SQLite's own lock and the connection's busy timeout.
/// </remarks>
/// <typeparam name="TSession">The component's session type.</typeparam>
internal sealed class SqliteWriteQueue<TSession> : IAsyncDisposable
    where TSession : SqliteSessionBase, ISqliteSession<TSession>
{
    private readonly Channel<ISqliteWrite<TSession>> _queue = Channel.CreateUnbounded<ISqliteWrite<TSession>>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private readonly string _connectionString;
    private readonly int _busyTimeoutMilliseconds;
    private readonly string _database;
    private readonly int _maxWritesPerTransaction;
    private readonly List<ISqliteWrite<TSession>> _batch;
    private readonly Task _loop;
    private TSession? _session;

    /// <summary>Starts the write loop on an open session.</summary>
    /// <param name="session">The session to write on; the queue disposes it. A broken one is replaced by a new one.</param>
    /// <param name="connectionString">The connection string a replacement session opens with.</param>
    /// <param name="busyTimeoutMilliseconds">The busy timeout of a replacement session.</param>
    /// <param name="database">The database, as failures name it.</param>
    /// <param name="maxWritesPerTransaction">How many queued writes one transaction takes at most.</param>
    public SqliteWriteQueue(TSession session, string connectionString, int busyTimeoutMilliseconds, string database, int maxWritesPerTransaction)
    {
        _session = session;
        _connectionString = connectionString;
        _busyTimeoutMilliseconds = busyTimeoutMilliseconds;
        _database = database;
        _maxWritesPerTransaction = maxWritesPerTransaction;
        _batch = new List<ISqliteWrite<TSession>>(maxWritesPerTransaction);
        _loop = WriteLoopAsync();
    }

    /// <summary>Queues a write; <paramref name="execute"/> runs on the queue's connection inside a transaction.</summary>
    /// <returns>The write's result, once committed; an <see cref="ObjectDisposedException"/> once the queue is stopping.</returns>
    public Task<TResult> Submit<TState, TResult>(
        Func<TSession, TState, TResult> execute, TState state, string operation, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        var write = new SqliteWrite<TSession, TState, TResult>(execute, state, operation, cancellationToken);
        if (!_queue.Writer.TryWrite(write))
        {
            return Task.FromException<TResult>(new ObjectDisposedException(TSession.Owner.Name, TSession.DisposedMessage));
        }

        return write.Task;
    }

    /// <summary>Stops taking writes, commits the queued ones and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _session?.Dispose();
        _session = null;
    }

    private static bool IsBusy(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED };

    private async Task WriteLoopAsync()
    {
        // Return to the constructor's caller at once; the loop runs on the thread pool.
        await Task.Yield();
        ChannelReader<ISqliteWrite<TSession>> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_batch.Count < _maxWritesPerTransaction && reader.TryRead(out ISqliteWrite<TSession>? write))
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

    private void ExecuteBatch(List<ISqliteWrite<TSession>> batch)
    {
        // Run the batch in one transaction. If one write throws, roll back, fail that write alone and run the others
        // again without it: each write recomputes its result from the database, so the retried results are right.
        while (batch.Count > 0)
        {
            TSession session;
            try
            {
                session = _session ??= TSession.Open(_connectionString, _busyTimeoutMilliseconds);
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

    private void FailAll(List<ISqliteWrite<TSession>> batch, Exception exception)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].Fail(Wrap(batch[i], exception));
        }
    }

    // The component's own exception already says what went wrong; anything else the database threw (an error code, or a
    // value of the wrong type in a damaged file) is wrapped so callers see one exception type.
    private Exception Wrap(ISqliteWrite<TSession> write, Exception exception) =>
        exception is OperationCanceledException or ObjectDisposedException || TSession.IsOwnException(exception)
            ? exception
            : TSession.Failed(_database, write.Operation, exception);
}
