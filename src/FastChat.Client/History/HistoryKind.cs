namespace FastChat.Client.History;

/// <summary>What a <see cref="HistoryEntry"/> holds.</summary>
/// <remarks>The numeric values are stored in the history file: never renumber them.</remarks>
public enum HistoryKind
{
    /// <summary>A text message; <see cref="HistoryEntry.Text"/> holds the decrypted text.</summary>
    Text = 0,

    /// <summary>A file or image; <see cref="HistoryEntry.FileName"/>, <see cref="HistoryEntry.FilePath"/> and <see cref="HistoryEntry.FileSize"/> describe it.</summary>
    File = 1,

    /// <summary>A notice shown in the conversation (a member joined or left, a key changed); <see cref="HistoryEntry.Text"/> says what happened.</summary>
    Notice = 2,
}
