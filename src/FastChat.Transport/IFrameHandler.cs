using System.Buffers;
using System.Runtime.CompilerServices;
using FastChat.Protocol;

namespace FastChat.Transport;

/// <summary>Receives the frames a <see cref="FramedConnection"/> reads (see <see cref="FramedConnection.RunAsync"/>).</summary>
/// <remarks>
/// One handler may serve many connections: every call names its connection. Calls for one connection never
/// overlap; calls for different connections run concurrently.
/// </remarks>
public interface IFrameHandler
{
    /// <summary>Handles one frame.</summary>
    /// <param name="connection">The connection the frame arrived on.</param>
    /// <param name="payload">
    /// The frame's payload, without its length prefix: a slice of the connection's receive buffer, not a copy. It is
    /// valid only until the returned task completes; copy what must outlive it. Relaying it
    /// (<see cref="FramedConnection.TryWriteFrame(in ReadOnlySequence{byte})"/>) copies it once, into the recipient's output.
    /// </param>
    /// <param name="cancellationToken">The token passed to <see cref="FramedConnection.RunAsync"/>.</param>
    /// <returns>A task that completes when the payload is no longer needed.</returns>
    /// <exception cref="ProtocolViolationException">The payload is malformed: the connection is closed with <see cref="CloseReason.ProtocolViolation"/> (after <see cref="OnProtocolViolation"/>).</exception>
    ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken);

    /// <summary>
    /// Called after the frames of one read have been handled, before the next read: the place to flush every
    /// connection written to while handling them (one flush per batch instead of one per frame). The default does
    /// nothing.
    /// </summary>
    /// <param name="connection">The connection the frames arrived on.</param>
    /// <param name="cancellationToken">The token passed to <see cref="FramedConnection.RunAsync"/>.</param>
    /// <returns>A task that completes when the batch is done.</returns>
    ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken) => default;

    /// <summary>
    /// Called when the peer broke the protocol: a frame over the size limit (<see cref="FrameTooLargeException"/>), a
    /// frame cut off by the end of the stream, or a <see cref="ProtocolViolationException"/> thrown by
    /// <see cref="OnFrameAsync"/>. The connection closes right after (with <see cref="CloseReason.FrameTooLarge"/> or
    /// <see cref="CloseReason.ProtocolViolation"/>); a final error frame written here is flushed and sent before the FIN.
    /// The default does nothing.
    /// </summary>
    /// <param name="connection">The offending connection.</param>
    /// <param name="exception">What was wrong.</param>
    void OnProtocolViolation(FramedConnection connection, ProtocolViolationException exception)
    {
    }
}

/// <summary>An <see cref="IFrameHandler"/> that sends every frame straight back: for smoke tests, load tests and benchmarks of the transport.</summary>
public sealed class EchoFrameHandler : IFrameHandler
{
    /// <summary>The shared instance (the handler has no state).</summary>
    public static EchoFrameHandler Instance { get; } = new();

    /// <inheritdoc/>
    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.TryWriteFrame(payload);
        return default;
    }

    /// <inheritdoc/>
    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);

        // Wait for the peer to read its echoes: a client that only writes is slowed down instead of dropped.
        ValueTask<bool> flush = connection.FlushAsync(cancellationToken);
        return flush.IsCompletedSuccessfully ? default : AwaitFlushAsync(flush);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitFlushAsync(ValueTask<bool> flush) => await flush.ConfigureAwait(false);
}
