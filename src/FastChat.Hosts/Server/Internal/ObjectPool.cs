namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// A small thread-safe pool of reusable objects: one fast slot taken and returned with compare-and-swap, then a stack
/// under a spin lock. When empty, <see cref="Rent"/> returns <see langword="null"/> and the caller creates one; when
/// full, returned objects are left to the garbage collector. Never allocates after construction.
/// </summary>
/// <remarks>
/// A stack rather than an array of slots scanned for a free one: a burst of messages waiting for acks rents hundreds
/// of buffers and returns them together, and scanning made each rent and return cost in proportion to how many were
/// out (quadratic per burst). The lock guards two or three instructions and is never held while waiting.
/// </remarks>
internal sealed class ObjectPool<T>
    where T : class
{
    private readonly T?[] _items;
    private T? _fast;
    private int _count;
    private int _lock;

    public ObjectPool(int capacity) => _items = new T?[capacity - 1];

    public T? Rent()
    {
        T? item = _fast;
        if (item is not null && Interlocked.CompareExchange(ref _fast, null, item) == item)
        {
            return item;
        }

        if (Volatile.Read(ref _count) == 0)
        {
            return null;
        }

        Enter();
        int count = _count;
        if (count != 0)
        {
            count--;
            item = _items[count];
            _items[count] = null;
            _count = count;
        }
        else
        {
            item = null;
        }

        Exit();
        return item;
    }

    /// <summary>Returns <paramref name="item"/> to the pool; <see langword="false"/> when the pool is full and it was not kept.</summary>
    public bool Return(T item)
    {
        if (_fast is null && Interlocked.CompareExchange(ref _fast, item, null) is null)
        {
            return true;
        }

        Enter();
        int count = _count;
        bool kept = count < _items.Length;
        if (kept)
        {
            _items[count] = item;
            _count = count + 1;
        }

        Exit();
        return kept;
    }

    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _lock, 1, 0) == 0)
        {
            return;
        }

        var spinner = default(SpinWait);
        do
        {
            // Never sleeps: the holder is a few instructions from letting go.
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        while (Interlocked.CompareExchange(ref _lock, 1, 0) != 0);
    }

    private void Exit() => Volatile.Write(ref _lock, 0);
}
