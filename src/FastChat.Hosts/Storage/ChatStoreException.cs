using FastChat.Protocol;

namespace FastChat.Hosts.Storage;

/// <summary>The store failed: the database cannot be reached, is locked past its timeout, or its schema cannot be migrated.</summary>
public sealed class ChatStoreException : FastChatException
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public ChatStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the database's exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The underlying exception.</param>
    public ChatStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
