namespace FastChat.Shared.Sqlite;

/// <summary>A queued write: runs inside the <see cref="SqliteWriteQueue{TSession}"/>'s transaction and completes its task after the commit.</summary>
/// <typeparam name="TSession">The component's session type.</typeparam>
internal interface ISqliteWrite<TSession>
    where TSession : SqliteSessionBase
{
    CancellationToken CancellationToken { get; }

    string Operation { get; }

    void Execute(TSession session);

    void Complete();

    void Fail(Exception exception);

    void Cancel();
}

/// <summary>A write with its state and result. It is its own completion source, so a write is one allocation besides its task.</summary>
internal sealed class SqliteWrite<TSession, TState, TResult> : TaskCompletionSource<TResult>, ISqliteWrite<TSession>
    where TSession : SqliteSessionBase
{
    private readonly Func<TSession, TState, TResult> _execute;
    private readonly TState _state;
    private TResult _result = default!;

    public SqliteWrite(Func<TSession, TState, TResult> execute, TState state, string operation, CancellationToken cancellationToken)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        // Continuations run elsewhere: the write loop must not run callers' code between its transactions.
        _execute = execute;
        _state = state;
        Operation = operation;
        CancellationToken = cancellationToken;
    }

    public CancellationToken CancellationToken { get; }

    public string Operation { get; }

    public void Execute(TSession session) => _result = _execute(session, _state);

    public void Complete() => TrySetResult(_result);

    public void Fail(Exception exception) => TrySetException(exception);

    public void Cancel() => TrySetCanceled(CancellationToken);
}
