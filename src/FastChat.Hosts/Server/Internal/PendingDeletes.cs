using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// Deletes the stored items one session's client acknowledged, in batches: acks queue their ids here and return at
/// once; one <see cref="IChatStore.DeletePendingAsync(string, IReadOnlyList{MessageId}, CancellationToken)"/> per
/// session is in flight at a time, and the ids that arrive while it runs go together into the next one. A client
/// draining a long backlog thus acks at the pace of its reading, not at one store commit per item.
/// </summary>
/// <remarks>
/// <para>Delivery stays at least once. An acknowledged item is gone from the store only once its batch commits: if the
/// process dies first, or the delete fails or is cancelled because the server is stopping, the item stays pending and is
/// delivered again at the next sign-in, where the client drops it as a duplicate by id. The same holds for a new
/// session of the user that starts its drain while this one's last batch is still being deleted.</para>
/// <para>The queue outlives the session: a batch queued when the connection closes is still deleted, so nothing
/// acknowledged comes back after a clean drain.</para>
/// <para>Memory is bounded: once <see cref="MaxBatchSize"/> ids wait behind the batch in flight, <see cref="AddAsync"/>
/// returns a task that completes when that batch is done and the waiting ids have gone out, so a client acking faster
/// than the store deletes (or acking ids it made up) is slowed down at its read loop instead of growing the queue.</para>
/// <para>The bound assumes one producer, as a session's acks all come from its connection's read loop (several would
/// each add one id past it before waiting). The delete loop runs concurrently with it and shares only the queue, under
/// <c>_lock</c>.</para>
/// </remarks>
internal sealed class PendingDeletes
{
    /// <summary>
    /// The most ids one delete carries. A thousand 16-byte ids keep a PostgreSQL statement small (about 20 KB) and a
    /// SQLite write transaction short, while a backlog still costs one commit per thousand items.
    /// </summary>
    public const int MaxBatchSize = 1000;

    private readonly IChatStore _store;
    private readonly string _recipient;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly Lock _lock = new();

    // The ids waiting for the next delete, and the list of the batch in flight (reused; only the loop touches it
    // outside the lock). The loop swaps them when it takes a batch.
    private List<MessageId> _queued = [];
    private List<MessageId> _inFlight = [];
    private TaskCompletionSource? _room;
    private bool _running;

    /// <summary>Creates the queue of one recipient's deletes.</summary>
    /// <param name="store">The store to delete from.</param>
    /// <param name="recipient">The signed-in user whose pending items are deleted.</param>
    /// <param name="logger">Where store failures are logged.</param>
    /// <param name="stopping">Cancelled when the server stops; a delete cancelled by it leaves its items pending.</param>
    public PendingDeletes(IChatStore store, string recipient, ILogger logger, CancellationToken stopping)
    {
        _store = store;
        _recipient = recipient;
        _logger = logger;
        _stopping = stopping;
    }

    /// <summary>Queues the id of an acknowledged item for deletion.</summary>
    /// <param name="id">The message or file id.</param>
    /// <returns>A completed task, unless a full batch is already waiting: then a task that completes once there is room again.</returns>
    public ValueTask AddAsync(MessageId id)
    {
        bool start = false;
        Task? wait = null;
        lock (_lock)
        {
            _queued.Add(id);
            if (!_running)
            {
                _running = true;
                start = true;
            }
            else if (_queued.Count >= MaxBatchSize)
            {
                _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _room.Task;
            }
        }

        if (start)
        {
            // Runs until the queue is empty; it catches what the store throws, so nothing is left unobserved.
            _ = DeleteLoopAsync();
        }

        return wait is null ? default : new ValueTask(wait);
    }

    private async Task DeleteLoopAsync()
    {
        while (true)
        {
            List<MessageId> batch;
            TaskCompletionSource? room;
            lock (_lock)
            {
                if (_queued.Count == 0)
                {
                    // A later AddAsync sees _running false and starts a new loop.
                    _running = false;
                    return;
                }

                batch = _queued;
                _queued = _inFlight;
                _inFlight = batch;
                room = _room;
                _room = null;
            }

            // The waiting ids are on their way: a read loop held back by a full queue may go on.
            room?.TrySetResult();
            await DeleteAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task DeleteAsync(List<MessageId> batch)
    {
        try
        {
            await _store.DeletePendingAsync(_recipient, batch, _stopping).ConfigureAwait(false);
        }
        catch (ChatStoreException ex)
        {
            // The items stay pending and come again at the next sign-in; the client drops them as duplicates.
            ServerLog.StoreFailed(_logger, $"deleting {batch.Count} acknowledged items of {_recipient}", ex);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The server is stopping (or has closed its store): the items stay pending, as after a crash.
        }
    }
}
