using System.Buffers;
using System.Net.Sockets;

namespace FastChat.Compare.Raw;

/// <summary>
/// Collects writes from any thread into one buffer and sends what has gathered as a single batch from a thread-pool
/// work item: while one batch is on its way, the writers fill the other buffer, so a busy connection makes one system
/// call for many frames and an idle one sends a frame as soon as it is written.
/// </summary>
/// <remarks>
/// Deliberately left out: backpressure beyond a hard cap (the comparison runs closed loops whose windows bound what
/// is buffered; going past <see cref="MaxBuffered"/> means the peer stopped reading, and the connection fails) and
/// any ordering between writers other than the lock's.
/// </remarks>
internal abstract class BatchingSender : IThreadPoolWorkItem
{
    /// <summary>The most bytes waiting to be sent before a write fails: a peer this far behind has stopped reading.</summary>
    public const int MaxBuffered = 64 * 1024 * 1024;

    private const int InitialCapacity = 16 * 1024;

    private readonly Lock _sync = new();
    private byte[] _filling = ArrayPool<byte>.Shared.Rent(InitialCapacity);
    private byte[] _sending = ArrayPool<byte>.Shared.Rent(InitialCapacity);
    private int _filled;
    private bool _scheduled;
    private bool _closed;
    private Exception? _failure;

    /// <summary>Why sending stopped, or <see langword="null"/> while it works.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>
    /// Takes the write lock and returns room for exactly <paramref name="size"/> bytes; the caller fills it and must call
    /// <see cref="Commit"/> (or <see cref="Abandon"/>) on the same thread, in a finally.
    /// </summary>
    /// <exception cref="IOException">Sending already failed, or the peer is more than <see cref="MaxBuffered"/> bytes behind.</exception>
    public Span<byte> Begin(int size)
    {
        _sync.Enter();
        try
        {
            if (_failure is not null || _closed)
            {
                throw new IOException("The connection can no longer send.", _failure);
            }

            if (_filling.Length - _filled < size)
            {
                Grow(size);
            }
        }
        catch
        {
            _sync.Exit();
            throw;
        }

        return _filling.AsSpan(_filled, size);
    }

    /// <summary>Adds the <paramref name="written"/> bytes written since <see cref="Begin"/> to the batch, releases the lock and makes sure a send is on its way.</summary>
    public void Commit(int written)
    {
        _filled += written;
        bool schedule = !_scheduled;
        _scheduled = true;
        _sync.Exit();
        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Releases the lock taken by <see cref="Begin"/> without adding anything.</summary>
    public void Abandon() => _sync.Exit();

    /// <summary>Writes <paramref name="bytes"/> as they are.</summary>
    /// <exception cref="IOException">Sending already failed, or the peer is too far behind.</exception>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Span<byte> span = Begin(bytes.Length);
        bytes.CopyTo(span);
        Commit(bytes.Length);
    }

    /// <summary>Stops sending: what is still buffered is dropped and later writes fail.</summary>
    public void Close()
    {
        using (_sync.EnterScope())
        {
            _closed = true;
        }
    }

    void IThreadPoolWorkItem.Execute() => _ = SendLoopAsync();

    /// <summary>Sends one batch, all of it.</summary>
    protected abstract ValueTask SendAsync(ReadOnlyMemory<byte> batch);

    /// <summary>Called once when sending fails (the peer went away, or the connection was closed under it).</summary>
    protected virtual void OnFailed(Exception failure)
    {
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                int count;
                using (_sync.EnterScope())
                {
                    if (_filled == 0 || _closed)
                    {
                        _scheduled = false;
                        return;
                    }

                    (_filling, _sending) = (_sending, _filling);
                    count = _filled;
                    _filled = 0;
                }

                await SendAsync(_sending.AsMemory(0, count)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // The peer went away or the connection was closed: record why, and let the owner tear the connection down.
            using (_sync.EnterScope())
            {
                _failure ??= ex;
                _scheduled = false;
            }

            OnFailed(ex);
        }
    }

    private void Grow(int size)
    {
        long needed = (long)_filled + size;
        if (needed > MaxBuffered)
        {
            throw new IOException($"The peer is more than {MaxBuffered} bytes behind; it has stopped reading.");
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Max(needed, Math.Min((long)_filling.Length * 2, MaxBuffered)));
        _filling.AsSpan(0, _filled).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_filling);
        _filling = larger;
    }
}

/// <summary>A <see cref="BatchingSender"/> over a connected socket.</summary>
internal sealed class SocketBatchingSender : BatchingSender
{
    private readonly Socket _socket;
    private readonly Action<Exception>? _failed;

    /// <summary>Sends on <paramref name="socket"/>; <paramref name="failed"/> hears once when that stops working.</summary>
    public SocketBatchingSender(Socket socket, Action<Exception>? failed = null)
    {
        _socket = socket;
        _failed = failed;
    }

    /// <inheritdoc/>
    protected override async ValueTask SendAsync(ReadOnlyMemory<byte> batch)
    {
        while (!batch.IsEmpty)
        {
            int sent = await _socket.SendAsync(batch, SocketFlags.None).ConfigureAwait(false);
            batch = batch[sent..];
        }
    }

    /// <inheritdoc/>
    protected override void OnFailed(Exception failure) => _failed?.Invoke(failure);
}
