using System.Threading.Channels;

namespace FastChat.Client.Secure.Internal;

/// <summary>
/// The queue between the secure client's processing and <see cref="SecureChatClient.ReadEventsAsync"/>, and the count
/// of readers: received messages are processed (and acknowledged) only while the application reads, so a program that
/// never reads events leaves them pending on the server for the next sign-in instead of consuming them unseen.
/// </summary>
/// <remarks>
/// Bounded: message events wait for room (back-pressure up to the server). Notices (delivery receipts, group changes,
/// state changes) wait for room only while someone reads; with no reader and a full queue they are dropped, since
/// nobody would see them.
/// </remarks>
internal sealed class EventOutlet
{
    private readonly Channel<SecureChatEvent> _channel;
    private readonly Lock _lock = new();
    private int _readers;
    private TaskCompletionSource _readerArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EventOutlet(int capacity)
    {
        _channel = Channel.CreateBounded<SecureChatEvent>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,

            // Writers are the processing loops: a reader's continuation must not run on them.
            AllowSynchronousContinuations = false,
        });
    }

    public ChannelReader<SecureChatEvent> Reader => _channel.Reader;

    public bool HasReaders => Volatile.Read(ref _readers) > 0;

    public void AddReader()
    {
        lock (_lock)
        {
            if (++_readers == 1)
            {
                _readerArrived.TrySetResult();
            }
        }
    }

    public void RemoveReader()
    {
        lock (_lock)
        {
            if (--_readers == 0)
            {
                _readerArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Completes when at least one reader is reading.</summary>
    public Task WaitForReaderAsync(CancellationToken cancellationToken)
    {
        Task arrived;
        lock (_lock)
        {
            if (_readers > 0)
            {
                return Task.CompletedTask;
            }

            arrived = _readerArrived.Task;
        }

        return arrived.WaitAsync(cancellationToken);
    }

    /// <summary>Queues a message event, waiting for room.</summary>
    public async ValueTask WriteAsync(SecureChatEvent item, CancellationToken cancellationToken)
    {
        if (_channel.Writer.TryWrite(item))
        {
            return;
        }

        try
        {
            await _channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The client was disposed: nobody reads any more.
        }
    }

    /// <summary>Queues a notice: waits for room while someone reads, otherwise drops it when the queue is full.</summary>
    /// <returns><see langword="false"/> if the notice was dropped.</returns>
    public async ValueTask<bool> NotifyAsync(SecureChatEvent item, CancellationToken cancellationToken)
    {
        if (_channel.Writer.TryWrite(item))
        {
            return true;
        }

        if (!HasReaders)
        {
            return false;
        }

        await WriteAsync(item, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Queues a notice if there is room, without waiting.</summary>
    public bool TryNotify(SecureChatEvent item) => _channel.Writer.TryWrite(item);

    public void Complete() => _channel.Writer.TryComplete();
}
