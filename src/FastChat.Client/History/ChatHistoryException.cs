using FastChat.Protocol;

namespace FastChat.Client.History;

/// <summary>
/// The history file could not be used: the database failed, the file belongs to another user, or it was written by a
/// newer FastChat with a schema this one does not know.
/// </summary>
public sealed class ChatHistoryException : FastChatException
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public ChatHistoryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error behind it.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The database error.</param>
    public ChatHistoryException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
