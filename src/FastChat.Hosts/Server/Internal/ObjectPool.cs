namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// A small lock-free pool of reusable objects: one fast slot plus a fixed array of slots, taken and returned with
/// compare-and-swap. When empty, <see cref="Rent"/> returns <see langword="null"/> and the caller creates one; when
/// full, returned objects are left to the garbage collector. Never allocates after construction.
/// </summary>
internal sealed class ObjectPool<T>
    where T : class
{
    private readonly T?[] _items;
    private T? _fast;

    public ObjectPool(int capacity) => _items = new T?[capacity - 1];

    public T? Rent()
    {
        T? item = _fast;
        if (item is not null && Interlocked.CompareExchange(ref _fast, null, item) == item)
        {
            return item;
        }

        T?[] items = _items;
        for (int i = 0; i < items.Length; i++)
        {
            item = items[i];
            if (item is not null && Interlocked.CompareExchange(ref items[i], null, item) == item)
            {
                return item;
            }
        }

        return null;
    }

    public void Return(T item)
    {
        if (_fast is null && Interlocked.CompareExchange(ref _fast, item, null) is null)
        {
            return;
        }

        T?[] items = _items;
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is null && Interlocked.CompareExchange(ref items[i], item, null) is null)
            {
                return;
            }
        }
    }
}
