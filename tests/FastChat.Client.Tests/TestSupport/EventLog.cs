using FastChat.Client;

namespace FastChat.Client.Tests.TestSupport;

/// <summary>
/// Reads a client's events in the background (acknowledging them when AutoAck is on, as an application would) and lets
/// a test wait, with a deadline, for the events it expects.
/// </summary>
internal sealed class EventLog : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly List<ChatEvent> _events = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EventLog(ChatClient client)
    {
        Client = client;
        _pump = PumpAsync(client, _stop.Token);
    }

    public ChatClient Client { get; }

    /// <summary>Every event read so far of type <typeparamref name="T"/>, in order.</summary>
    public IReadOnlyList<T> All<T>()
        where T : ChatEvent
    {
        lock (_lock)
        {
            return _events.OfType<T>().ToList();
        }
    }

    /// <summary>Waits for the first event of type <typeparamref name="T"/> that matches <paramref name="predicate"/>.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null)
        where T : ChatEvent
    {
        IReadOnlyList<T> found = await WaitForCountAsync(1, predicate, timeout);
        return found[0];
    }

    /// <summary>Waits until at least <paramref name="count"/> events of type <typeparamref name="T"/> match, and returns the matches.</summary>
    public async Task<IReadOnlyList<T>> WaitForCountAsync<T>(int count, Func<T, bool>? predicate = null, TimeSpan? timeout = null)
        where T : ChatEvent
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                var matches = new List<T>();
                foreach (ChatEvent e in _events)
                {
                    if (e is T typed && (predicate is null || predicate(typed)))
                    {
                        matches.Add(typed);
                    }
                }

                if (matches.Count >= count)
                {
                    return matches;
                }

                changed = _changed.Task;
            }

            TimeSpan remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{Client.UserName}: expected {count} {typeof(T).Name} event(s); saw: {Describe()}");
            }

            try
            {
                await changed.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{Client.UserName}: expected {count} {typeof(T).Name} event(s); saw: {Describe()}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private string Describe()
    {
        lock (_lock)
        {
            return _events.Count == 0 ? "(nothing)" : string.Join("; ", _events.Select(e => e.GetType().Name + (e is ConnectionStateChanged s ? $"({s.State}: {s.Reason})" : string.Empty)));
        }
    }

    private async Task PumpAsync(ChatClient client, CancellationToken cancellationToken)
    {
        await Task.Yield();
        await foreach (ChatEvent e in client.ReadEventsAsync(cancellationToken))
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                _events.Add(e);
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }
    }
}
