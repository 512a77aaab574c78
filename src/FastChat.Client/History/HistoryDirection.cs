namespace FastChat.Client.History;

/// <summary>Which way a <see cref="HistoryEntry"/> went.</summary>
/// <remarks>The numeric values are stored in the history file: never renumber them.</remarks>
public enum HistoryDirection
{
    /// <summary>This user sent it.</summary>
    Sent = 0,

    /// <summary>This user received it.</summary>
    Received = 1,
}
