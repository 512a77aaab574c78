using System.Diagnostics.CodeAnalysis;

namespace FastChat.Cli.Bench;

/// <summary>
/// A sender's messages in flight. A message holds its slot until every completion it was issued with has happened:
/// each recipient's first delivery and the server's acknowledgement of the send. Counting the acknowledgement keeps the
/// client's outbox (which holds a message until its ack) within the window, so a run whose acks lag its deliveries
/// slows down instead of overflowing the outbox, and FastChat's closed-loop numbers include its acks.
/// </summary>
/// <remarks>
/// The counts live in chunks that only the sender adds, before it publishes the sequence to the receivers, so a
/// receiver never sees a chunk array that lacks the chunk of a sequence it may accept.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim holds no unmanaged resource unless its AvailableWaitHandle is used, which this class never does.")]
internal sealed class InFlightWindow
{
    // 4096 counts (16 KiB) a chunk: few enough allocations for a long run, little waste for a short one.
    private const int ChunkBits = 12;
    private const int ChunkMask = (1 << ChunkBits) - 1;

    private readonly SemaphoreSlim _slots;
    private int[][] _remaining = new int[4][];

    /// <param name="size">How many messages may be in flight at once.</param>
    public InFlightWindow(int size)
    {
        _slots = new SemaphoreSlim(size, size);
    }

    /// <summary>How many slots are free right now.</summary>
    public int Available => _slots.CurrentCount;

    /// <summary>Waits for a free slot; the caller then issues a sequence into it.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task WaitAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

    /// <summary>
    /// Starts tracking <paramref name="sequence"/>, which then needs <paramref name="completions"/> calls to
    /// <see cref="Complete"/> to free its slot. Only the sender calls it, in sequence order, before the sequence can
    /// reach a receiver.
    /// </summary>
    public void Issue(long sequence, int completions)
    {
        long chunk = sequence >> ChunkBits;
        int[][] chunks = _remaining;
        if (chunk >= chunks.Length)
        {
            // Published whole: a receiver reads either the old array or this one, and both hold every chunk it needs.
            var bigger = new int[Math.Max(chunks.Length * 2, (int)chunk + 1)][];
            Array.Copy(chunks, bigger, chunks.Length);
            chunks = bigger;
            Volatile.Write(ref _remaining, chunks);
        }

        chunks[chunk] ??= new int[1 << ChunkBits];
        Volatile.Write(ref chunks[chunk][sequence & ChunkMask], completions);
    }

    /// <summary>One of the message's completions happened; the last frees its slot.</summary>
    public void Complete(long sequence)
    {
        if (Interlocked.Decrement(ref Count(sequence)) == 0)
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// The send failed: the message will not complete, so its slot is freed now (once, whatever else arrives for it
    /// later).
    /// </summary>
    public void Abandon(long sequence)
    {
        if (Interlocked.Exchange(ref Count(sequence), 0) > 0)
        {
            _slots.Release();
        }
    }

    private ref int Count(long sequence) => ref Volatile.Read(ref _remaining)[sequence >> ChunkBits][sequence & ChunkMask];
}
