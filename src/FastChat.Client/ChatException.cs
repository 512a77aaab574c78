using FastChat.Protocol;
using FastChat.Protocol.Messages;

namespace FastChat.Client;

/// <summary>The balancer or a chat server refused a request: its <c>Error</c> reply, with the code and the server's message.</summary>
/// <remarks>
/// Typical codes: <see cref="ErrorCode.AuthenticationFailed"/> (wrong user name or password), <see cref="ErrorCode.UserExists"/>,
/// <see cref="ErrorCode.UserNotFound"/>, <see cref="ErrorCode.NotAdmin"/>, <see cref="ErrorCode.GroupFull"/>,
/// <see cref="ErrorCode.AlreadyMember"/>, <see cref="ErrorCode.FileTooLarge"/>. Not sealed: the end-to-end layer's
/// <see cref="Secure.KeyChangedException"/> is a refusal of this kind too, made by the client itself.
/// </remarks>
public class ChatException : FastChatException
{
    /// <summary>Creates the exception for an error reply.</summary>
    /// <param name="errorCode">The reply's code.</param>
    /// <param name="message">The reply's message.</param>
    public ChatException(ErrorCode errorCode, string message)
        : base(string.IsNullOrEmpty(message) ? $"The server refused the request: {errorCode}." : message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>Why the server refused the request.</summary>
    public ErrorCode ErrorCode { get; }
}

/// <summary>
/// The connection to the balancer or the chat server closed, or could not be opened, before a request completed. A
/// request that was already sent may or may not have been carried out.
/// </summary>
public sealed class ChatConnectionException : FastChatException
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed.</param>
    public ChatConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error behind it.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The transport or protocol error.</param>
    public ChatConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
