namespace FastChat.Shared.Sqlite;

/// <summary>
/// What <see cref="SqliteWriteQueue{TSession}"/> and <see cref="SqliteSessionPool{TSession}"/> need from a component's
/// session type: how to open one, and how the component reports failures in its own exception type and words.
/// </summary>
/// <typeparam name="TSelf">The session type itself.</typeparam>
internal interface ISqliteSession<TSelf>
    where TSelf : SqliteSessionBase, ISqliteSession<TSelf>
{
    /// <summary>The public type whose sessions these are; an <see cref="ObjectDisposedException"/> names it.</summary>
    static abstract Type Owner { get; }

    /// <summary>The message of the <see cref="ObjectDisposedException"/> a write submitted after disposal fails with; <see langword="null"/> for the runtime's default.</summary>
    static abstract string? DisposedMessage { get; }

    /// <summary>Opens a connection and sets it up for the component.</summary>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">The database cannot be opened.</exception>
    static abstract TSelf Open(string connectionString, int busyTimeoutMilliseconds);

    /// <summary>Whether an exception is already the component's own, which says what went wrong and is passed on as it is.</summary>
    static abstract bool IsOwnException(Exception exception);

    /// <summary>Wraps anything else the database threw in the component's exception, naming the database and the operation.</summary>
    static abstract Exception Failed(string database, string operation, Exception exception);
}
