using FastChat.Protocol.Messages;

namespace FastChat.Client.Secure.Internal;

/// <summary>
/// Received messages that cannot be opened yet and are left unacknowledged (so the server keeps them): group messages
/// and files sealed under an epoch whose key has not arrived, and messages from a contact whose key changed. They are
/// processed again when the key arrives or the contact's new key is trusted; whatever this session cannot hold the
/// server delivers again at the next sign-in.
/// </summary>
/// <remarks>Bounded by count and bytes; safe for concurrent use.</remarks>
internal sealed class HeldMessages
{
    // Enough for a burst sent under a new epoch before its key envelope arrives; more waits on the server.
    public const int MaxCount = 1024;

    // Files are held whole (their chunks are in memory already); this caps what a flood of them can pin.
    public const long MaxBytes = 64L * 1024 * 1024;

    private readonly List<Held> _items = [];
    private readonly Lock _lock = new();
    private long _bytes;

    /// <summary>Holds a message until the key of (<paramref name="group"/>, <paramref name="epoch"/>) arrives.</summary>
    /// <returns><see langword="false"/> if the message was already held (it is replaced by this copy).</returns>
    public bool HoldForKey(IncomingMessage message, string group, int epoch, out bool kept) =>
        Hold(new Held(message, group, epoch, null, SizeOf(message)), out kept);

    /// <summary>Holds a message until the new key of <paramref name="sender"/> is trusted.</summary>
    /// <returns><see langword="false"/> if the message was already held (it is replaced by this copy).</returns>
    public bool HoldForTrust(IncomingMessage message, string sender, out bool kept) =>
        Hold(new Held(message, null, 0, sender, SizeOf(message)), out kept);

    /// <summary>Takes the messages waiting for the key of an epoch.</summary>
    public List<IncomingMessage> TakeForKey(string group, int epoch) =>
        Take(held => held.Group is not null && held.Epoch == epoch && string.Equals(held.Group, group, StringComparison.Ordinal));

    /// <summary>Takes the messages waiting for a contact's new key to be trusted.</summary>
    public List<IncomingMessage> TakeForTrust(string sender) =>
        Take(held => held.Sender is not null && string.Equals(held.Sender, sender, StringComparison.Ordinal));

    private static long SizeOf(IncomingMessage message)
    {
        switch (message)
        {
            case DirectMessageReceived direct:
                return direct.Body.Length;
            case GroupMessageReceived group:
                return group.Body.Length;
            case FileReceived file:
                long size = file.Envelope.Length;
                foreach (ReadOnlyMemory<byte> chunk in file.Chunks)
                {
                    size += chunk.Length;
                }

                return size;
            default:
                return 0;
        }
    }

    private bool Hold(Held item, out bool kept)
    {
        lock (_lock)
        {
            MessageId id = item.Message.Id;
            for (int i = 0; i < _items.Count; i++)
            {
                if (_items[i].Message.Id == id && string.Equals(_items[i].Message.From, item.Message.From, StringComparison.Ordinal))
                {
                    _bytes += item.Size - _items[i].Size;
                    _items[i] = item;
                    kept = true;
                    return false;
                }
            }

            kept = _items.Count < MaxCount && _bytes + item.Size <= MaxBytes;
            if (kept)
            {
                _items.Add(item);
                _bytes += item.Size;
            }

            return true;
        }
    }

    private List<IncomingMessage> Take(Predicate<Held> match)
    {
        var taken = new List<IncomingMessage>();
        lock (_lock)
        {
            for (int i = 0; i < _items.Count; i++)
            {
                if (match(_items[i]))
                {
                    taken.Add(_items[i].Message);
                    _bytes -= _items[i].Size;
                }
            }

            _items.RemoveAll(match);
        }

        return taken;
    }

    private sealed record Held(IncomingMessage Message, string? Group, int Epoch, string? Sender, long Size);
}
