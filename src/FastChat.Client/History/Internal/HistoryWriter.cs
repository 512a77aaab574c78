using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace FastChat.Client.History.Internal;

/// <summary>
/// Runs every write of one <see cref="ChatHistory"/> on one connection, in the order submitted. Writes that queue up while
/// a transaction commits share the next one (group commit): the burst of stored messages delivered at sign-in costs one
/// sync per transaction, not one per message. A write's task completes only once its transaction is committed.
/// </summary>
/// <remarks>
/// Funnelling the process's writes through one loop means they never wait on each other's SQLite locks (and never block
/// thread-pool threads doing so); another process writing the same file is kept apart by SQLite's lock and the busy timeout.
/// </remarks>
internal sealed class HistoryWriter : IAsyncDisposable
{
    // Bounds how long one transaction holds the write lock, and so how long a reader in another process sees old data.
    private const int MaxWritesPerTransaction = 128;

    private readonly Channel<IHistoryWrite> _queue = Channel.CreateUnbounded<IHistoryWrite>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    private readonly string _connectionString;
    private readonly int _busyTimeoutMilliseconds;
    private readonly string _database;
    private readonly List<IHistoryWrite> _batch = new(MaxWritesPerTransaction);
    private readonly Task _loop;
    private HistorySession? _session;

    public HistoryWriter(HistorySession session, string connectionString, int busyTimeoutMilliseconds, string database)
    {
        _session = session;
        _connectionString = connectionString;
        _busyTimeoutMilliseconds = busyTimeoutMilliseconds;
        _database = database;
        _loop = WriteLoopAsync();
    }

    /// <summary>Queues a write; <paramref name="execute"/> runs on the writer's connection inside a transaction.</summary>
    /// <returns>The write's result, once committed; an <see cref="ObjectDisposedException"/> once the writer is stopping.</returns>
    public Task<TResult> Submit<TState, TResult>(
        Func<HistorySession, TState, TResult> execute, TState state, string operation, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        var write = new HistoryWrite<TState, TResult>(execute, state, operation, cancellationToken);
        if (!_queue.Writer.TryWrite(write))
        {
            return Task.FromException<TResult>(new ObjectDisposedException(nameof(ChatHistory), "The chat history was disposed."));
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

    private async Task WriteLoopAsync()
    {
        // Return to the constructor's caller at once; the loop runs on the thread pool.
        await Task.Yield();
        ChannelReader<IHistoryWrite> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_batch.Count < MaxWritesPerTransaction && reader.TryRead(out IHistoryWrite? write))
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

    private void ExecuteBatch(List<IHistoryWrite> batch)
    {
        // One transaction for the batch. When a write throws, roll back, fail that write alone and run the rest again
        // without it; each write works its result out from the database, so the rerun gives the right results.
        while (batch.Count > 0)
        {
            HistorySession session;
            try
            {
                session = _session ??= HistorySession.Open(_connectionString, _busyTimeoutMilliseconds);
                session.Begin();
            }
            catch (Exception e)
            {
                // No transaction: the lock was not granted within the busy timeout, or the file cannot be opened.
                // Retrying the writes one by one would only wait that long again for each.
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
                    // Whatever one write throws fails that write alone: the loop must keep serving the others.
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
            // The connection cannot roll back (after an I/O error, say): replace it. Closing it rolls back what was open.
            _session?.Dispose();
            _session = null;
        }
    }

    private void FailAll(List<IHistoryWrite> batch, Exception exception)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i].Fail(Wrap(batch[i], exception));
        }
    }

    // A ChatHistoryException already says what went wrong; anything else from the database (an error code, or a value of
    // the wrong type in a damaged file) is wrapped so that callers handle one exception type.
    private Exception Wrap(IHistoryWrite write, Exception exception) =>
        exception is ChatHistoryException or OperationCanceledException or ObjectDisposedException
            ? exception
            : HistoryErrors.Failed(_database, write.Operation, exception);
}

/// <summary>A queued write: runs inside the writer's transaction and completes its task after the commit.</summary>
internal interface IHistoryWrite
{
    CancellationToken CancellationToken { get; }

    string Operation { get; }

    void Execute(HistorySession session);

    void Complete();

    void Fail(Exception exception);

    void Cancel();
}

/// <summary>A write with its state and result; it is its own completion source, so a write costs one allocation besides its task.</summary>
internal sealed class HistoryWrite<TState, TResult> : TaskCompletionSource<TResult>, IHistoryWrite
{
    private readonly Func<HistorySession, TState, TResult> _execute;
    private readonly TState _state;
    private TResult _result = default!;

    public HistoryWrite(Func<HistorySession, TState, TResult> execute, TState state, string operation, CancellationToken cancellationToken)
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

    public void Execute(HistorySession session) => _result = _execute(session, _state);

    public void Complete() => TrySetResult(_result);

    public void Fail(Exception exception) => TrySetException(exception);

    public void Cancel() => TrySetCanceled(CancellationToken);
}
