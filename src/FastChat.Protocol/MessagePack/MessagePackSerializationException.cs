namespace FastChat.Protocol.MessagePack;

/// <summary>
/// MessagePack input is truncated, malformed, of the wrong type, out of range for the requested type or nested
/// deeper than allowed. It is the only exception <see cref="MessagePackReader"/> raises because of its input.
/// </summary>
public class MessagePackSerializationException : ProtocolViolationException
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was expected and what was found.</param>
    public MessagePackSerializationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What was expected and what was found.</param>
    /// <param name="innerException">The underlying failure.</param>
    public MessagePackSerializationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
