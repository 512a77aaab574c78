using System.Collections.Concurrent;

namespace FastChat.Hosts.Balancer.Internal;

/// <summary>
/// Counts failures per key (a user name or a remote address) over a sliding window and says when a key has had too
/// many. Thread-safe, and bounded: it tracks at most <c>capacity</c> keys, forgetting keys whose failures have all left
/// the window.
/// </summary>
/// <remarks>
/// Each key keeps the times of its last <c>limit</c> failures in a ring, so a key is limited exactly while its
/// <c>limit</c>-th most recent failure is younger than the window: no fixed-window edge lets a burst of twice the
/// limit through. When the table is full even after forgetting expired keys, new keys are not tracked until room
/// appears; the keys already tracked (the ones under attack) keep their counts, and the per-address counter still
/// bounds a single source.
/// </remarks>
internal sealed class FailureCounter<TKey>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries;
    private readonly int _limit;
    private readonly long _windowTicks;
    private readonly int _capacity;
    private readonly Lock _sweepLock = new();
    private long _lastSweepTicks;

    public FailureCounter(int limit, TimeSpan window, int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _limit = limit;
        _windowTicks = window.Ticks;
        _capacity = capacity;
        _entries = new ConcurrentDictionary<TKey, Entry>(comparer);
    }

    /// <summary>The number of keys tracked now.</summary>
    public int Count => _entries.Count;

    /// <summary>Whether the key has had <c>limit</c> failures within the window before <paramref name="nowTicks"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="nowTicks">The current time, in UTC ticks.</param>
    /// <param name="retryAfter">When limited, how long until the oldest counted failure leaves the window.</param>
    /// <returns><see langword="true"/> if further attempts should be refused.</returns>
    public bool IsLimited(TKey key, long nowTicks, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        return _entries.TryGetValue(key, out Entry? entry) && entry.IsLimited(_limit, _windowTicks, nowTicks, out retryAfter);
    }

    /// <summary>Records one failure for the key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="nowTicks">The current time, in UTC ticks.</param>
    /// <returns><see langword="true"/> if this failure made the key limited (it was not before): the moment worth logging.</returns>
    public bool RecordFailure(TKey key, long nowTicks)
    {
        // Keys that stopped failing are forgotten about once per window, so the table holds roughly the keys that
        // failed recently rather than growing to its capacity over a long run.
        if (nowTicks - Volatile.Read(ref _lastSweepTicks) >= _windowTicks)
        {
            Sweep(nowTicks);
        }

        while (true)
        {
            if (!_entries.TryGetValue(key, out Entry? entry))
            {
                if (_entries.Count >= _capacity)
                {
                    Sweep(nowTicks);
                    if (_entries.Count >= _capacity)
                    {
                        return false;
                    }
                }

                entry = _entries.GetOrAdd(key, static (_, limit) => new Entry(limit), _limit);
            }

            // False when a sweep retired the entry between the lookup and now: look it up (or add it) again.
            if (entry.TryRecord(_limit, _windowTicks, nowTicks, out bool becameLimited))
            {
                return becameLimited;
            }
        }
    }

    /// <summary>Forgets the key's failures (a successful sign-in).</summary>
    /// <param name="key">The key.</param>
    public void Reset(TKey key)
    {
        if (_entries.TryGetValue(key, out Entry? entry))
        {
            entry.Reset();
        }
    }

    /// <summary>Forgets every key whose failures have all left the window.</summary>
    /// <param name="nowTicks">The current time, in UTC ticks.</param>
    /// <returns>How many keys were forgotten.</returns>
    public int Sweep(long nowTicks)
    {
        using (_sweepLock.EnterScope())
        {
            // A full table under attack would otherwise be scanned on every new key: once per tenth of a window is
            // enough, since nothing expires faster than that matters for a limit counted over the whole window.
            if (nowTicks - _lastSweepTicks < _windowTicks / 10)
            {
                return 0;
            }

            Volatile.Write(ref _lastSweepTicks, nowTicks);
            int removed = 0;
            foreach (KeyValuePair<TKey, Entry> pair in _entries)
            {
                if (pair.Value.TryRetire(_windowTicks, nowTicks))
                {
                    _entries.TryRemove(pair);
                    removed++;
                }
            }

            return removed;
        }
    }

    private sealed class Entry
    {
        private readonly long[] _failures;
        private readonly Lock _lock = new();
        private int _count;
        private int _next;
        private bool _retired;

        public Entry(int limit) => _failures = new long[limit];

        public bool IsLimited(int limit, long windowTicks, long nowTicks, out TimeSpan retryAfter)
        {
            using (_lock.EnterScope())
            {
                return IsLimitedUnsynchronized(limit, windowTicks, nowTicks, out retryAfter);
            }
        }

        public bool TryRecord(int limit, long windowTicks, long nowTicks, out bool becameLimited)
        {
            using (_lock.EnterScope())
            {
                becameLimited = false;
                if (_retired)
                {
                    return false;
                }

                bool wasLimited = IsLimitedUnsynchronized(limit, windowTicks, nowTicks, out _);

                _failures[_next] = nowTicks;
                _next = (_next + 1) % _failures.Length;
                if (_count < _failures.Length)
                {
                    _count++;
                }

                becameLimited = !wasLimited && IsLimitedUnsynchronized(limit, windowTicks, nowTicks, out _);
                return true;
            }
        }

        // The caller holds the lock.
        private bool IsLimitedUnsynchronized(int limit, long windowTicks, long nowTicks, out TimeSpan retryAfter)
        {
            retryAfter = TimeSpan.Zero;
            if (_count < limit)
            {
                return false;
            }

            // The ring is full: the slot written next holds the oldest of the last 'limit' failures.
            long oldest = _failures[_next];
            long age = nowTicks - oldest;
            if (age >= windowTicks)
            {
                return false;
            }

            retryAfter = TimeSpan.FromTicks(windowTicks - age);
            return true;
        }

        public void Reset()
        {
            using (_lock.EnterScope())
            {
                _count = 0;
                _next = 0;
            }
        }

        public bool TryRetire(long windowTicks, long nowTicks)
        {
            using (_lock.EnterScope())
            {
                if (_count > 0)
                {
                    int newest = (_next - 1 + _failures.Length) % _failures.Length;
                    if (nowTicks - _failures[newest] < windowTicks)
                    {
                        return false;
                    }
                }

                _retired = true;
                return true;
            }
        }
    }
}
