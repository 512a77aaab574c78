namespace FastChat.Client.History;

/// <summary>A direct conversation with one user, or a group, as <see cref="ChatHistory.GetConversationsAsync"/> lists them.</summary>
/// <param name="Name">The other user of a direct conversation, or the group.</param>
/// <param name="IsGroup">Whether <paramref name="Name"/> is a group.</param>
/// <param name="LastEntry">The conversation's newest entry.</param>
/// <param name="MessageCount">How many entries the conversation has.</param>
/// <param name="UnreadCount">
/// How many received entries arrived after the conversation was last marked read (<see cref="ChatHistory.MarkConversationReadAsync"/>,
/// <see cref="ChatHistory.MarkGroupReadAsync"/>); every received entry is unread until then.
/// </param>
public sealed record HistoryConversation(string Name, bool IsGroup, HistoryEntry LastEntry, int MessageCount, int UnreadCount)
{
    /// <summary>When the newest entry was recorded (UTC, this machine's clock).</summary>
    public DateTime LastMessageAt => LastEntry.RecordedAt;
}
