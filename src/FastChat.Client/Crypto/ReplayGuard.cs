using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto;

/// <summary>
/// Rejects replayed messages: remembers the (sender, id) pairs of the last <see cref="Capacity"/> messages accepted,
/// and refuses a pair it has seen.
/// </summary>
/// <remarks>
/// <para>
/// Envelopes bind the sender and the id into their signature, so a replay carries the same pair and is caught here;
/// the server, which can resend any stored ciphertext, cannot make a message appear twice.
/// </para>
/// <para>
/// Record a message only after it opened successfully: recording unverified pairs would let anyone block a genuine
/// message by sending garbage under its id first. The set is bounded (the oldest pair is forgotten first) and held
/// in memory; a client that must reject replays across restarts or beyond the window persists the pairs itself.
/// </para>
/// <para>Safe for concurrent use.</para>
/// </remarks>
public sealed class ReplayGuard
{
    /// <summary>The default number of pairs remembered.</summary>
    public const int DefaultCapacity = 65_536;

    private readonly HashSet<(string Sender, MessageId Id)> _seen;
    private readonly (string Sender, MessageId Id)[] _order;
    private readonly Lock _lock = new();
    private int _next;
    private int _count;

    /// <summary>Creates a guard that remembers <see cref="DefaultCapacity"/> pairs.</summary>
    public ReplayGuard()
        : this(DefaultCapacity)
    {
    }

    /// <summary>Creates a guard that remembers <paramref name="capacity"/> pairs.</summary>
    /// <param name="capacity">How many pairs to remember; the oldest is forgotten first.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not positive.</exception>
    public ReplayGuard(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _seen = new HashSet<(string, MessageId)>(Math.Min(capacity, 4096));
        _order = new (string, MessageId)[capacity];
    }

    /// <summary>How many pairs are remembered at most.</summary>
    public int Capacity { get; }

    /// <summary>How many pairs are remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Records a message if it is new.</summary>
    /// <param name="sender">The message's sender.</param>
    /// <param name="id">The message's id.</param>
    /// <returns><see langword="true"/> if the pair is new (and is now recorded); <see langword="false"/> if it is a replay.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> is <see langword="null"/>.</exception>
    public bool TryAccept(string sender, MessageId id)
    {
        ArgumentNullException.ThrowIfNull(sender);
        lock (_lock)
        {
            if (!_seen.Add((sender, id)))
            {
                return false;
            }

            if (_count == Capacity)
            {
                _seen.Remove(_order[_next]);
            }
            else
            {
                _count++;
            }

            _order[_next] = (sender, id);
            _next = (_next + 1) % Capacity;
            return true;
        }
    }

    /// <summary>Records a message, or throws if it is a replay.</summary>
    /// <param name="sender">The message's sender.</param>
    /// <param name="id">The message's id.</param>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> is <see langword="null"/>.</exception>
    /// <exception cref="EnvelopeException"><see cref="EnvelopeFailure.Replayed"/>: the pair was already accepted.</exception>
    public void Accept(string sender, MessageId id)
    {
        if (!TryAccept(sender, id))
        {
            throw new EnvelopeException(EnvelopeFailure.Replayed, $"Message {id} from '{sender}' was already received: this copy is a replay.");
        }
    }

    /// <summary>Whether a pair is remembered.</summary>
    /// <param name="sender">The message's sender.</param>
    /// <param name="id">The message's id.</param>
    /// <returns><see langword="true"/> if the pair was accepted and not yet forgotten.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> is <see langword="null"/>.</exception>
    public bool Contains(string sender, MessageId id)
    {
        ArgumentNullException.ThrowIfNull(sender);
        lock (_lock)
        {
            return _seen.Contains((sender, id));
        }
    }
}
