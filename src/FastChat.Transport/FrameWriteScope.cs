using System.Buffers;

namespace FastChat.Transport;

/// <summary>
/// Exclusive access to a <see cref="FramedConnection"/>'s output for writing one frame whose size is not known in
/// advance (e.g. a message being encoded). Obtained from <see cref="FramedConnection.BeginWrite"/>; dispose it, on the
/// same thread and without awaiting in between, to let other writers in.
/// </summary>
/// <remarks>
/// <code>
/// using (FrameWriteScope scope = connection.BeginWrite())
/// {
///     if (scope.IsActive)
///     {
///         MessageSerializer.WriteFrame(scope.Writer, requestId, in message);
///     }
/// }
/// connection.TryFlush();
/// </code>
/// Write exactly one whole frame (length prefix included). If writing throws half-way, the output holds a torn
/// frame: abort the connection.
/// </remarks>
public ref struct FrameWriteScope
{
    private FramedConnection? _connection;

    internal FrameWriteScope(FramedConnection connection)
    {
        _connection = connection;
    }

    /// <summary><see langword="false"/> when the connection is closed (or was just aborted as a slow consumer): there is nothing to write to.</summary>
    public readonly bool IsActive => _connection is not null;

    /// <summary>Where to write the frame (prefix and payload); e.g. pass it to <c>FrameWriter</c> or <c>MessageSerializer.WriteFrame</c>.</summary>
    /// <exception cref="InvalidOperationException">The scope is not active.</exception>
    public readonly IBufferWriter<byte> Writer => _connection?.ScopeWriter ?? throw new InvalidOperationException("The connection is closed: check FrameWriteScope.IsActive before writing.");

    /// <summary>
    /// Ends the write: the frame counts toward <see cref="TransportOptions.MaxPendingSendBytes"/> (passing it aborts the
    /// connection with <see cref="CloseReason.SlowConsumer"/>) and other writers may proceed. It is not flushed yet.
    /// </summary>
    public void Dispose()
    {
        FramedConnection? connection = _connection;
        _connection = null;
        connection?.EndWrite();
    }
}
