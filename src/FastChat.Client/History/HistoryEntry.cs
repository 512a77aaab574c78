using FastChat.Protocol.Messages;

namespace FastChat.Client.History;

/// <summary>One message in a user's <see cref="ChatHistory"/>: a text, a file or a notice, sent or received, to a user or a group.</summary>
/// <remarks>
/// <para>
/// Build one with an object initializer and record it with <see cref="ChatHistory.AddSentAsync"/> or
/// <see cref="ChatHistory.AddReceivedAsync"/>; those set <see cref="Direction"/>, <see cref="State"/>, <see cref="Error"/>
/// and <see cref="DeliveredCount"/> themselves. Entries read back from the history carry every property as stored,
/// with times in UTC.
/// </para>
/// <para>
/// <see cref="Peer"/> is the other user of a direct message. For a group message it is the sender: the sender for a
/// received one, this user (the history's owner) for a sent one.
/// </para>
/// </remarks>
public sealed record HistoryEntry
{
    /// <summary>The message id the sender chose. A sent id is recorded once; a received id is recorded once per sender.</summary>
    public required MessageId Id { get; init; }

    /// <summary>Whether this user sent or received it.</summary>
    public HistoryDirection Direction { get; init; }

    /// <summary>The other user of a direct message; the sender of a group message (this user for a sent one).</summary>
    public string Peer { get; init; } = string.Empty;

    /// <summary>The group of a group message; <see langword="null"/> for a direct message.</summary>
    public string? Group { get; init; }

    /// <summary>When the sender sent it, by the sender's clock (UTC). Left at its default, it is recorded as <see cref="RecordedAt"/>.</summary>
    public DateTime SentAt { get; init; }

    /// <summary>When this history recorded it, by this machine's clock (UTC). Left at its default, it is the time it was added.</summary>
    public DateTime RecordedAt { get; init; }

    /// <summary>What it holds.</summary>
    public HistoryKind Kind { get; init; }

    /// <summary>The decrypted text of a text message or notice; for a file, an optional caption.</summary>
    public string? Text { get; init; }

    /// <summary>Where the file is on this machine: the file sent, or where the received file was saved.</summary>
    public string? FilePath { get; init; }

    /// <summary>The file's name as the sender gave it.</summary>
    public string? FileName { get; init; }

    /// <summary>The file's size in bytes.</summary>
    public long? FileSize { get; init; }

    /// <summary>Where the message stands; see <see cref="DeliveryState"/> for the transitions.</summary>
    public DeliveryState State { get; init; }

    /// <summary>Why a <see cref="DeliveryState.Failed"/> message failed; <see langword="null"/> otherwise.</summary>
    public string? Error { get; init; }

    /// <summary>How many recipients acknowledged a sent message: 0 or 1 for a direct message, one per member for a group message.</summary>
    public int DeliveredCount { get; init; }

    /// <summary>Whether it is a group message.</summary>
    public bool IsGroup => Group is not null;
}
