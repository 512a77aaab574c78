namespace FastChat.Protocol;

/// <summary>The base of every exception FastChat's libraries throw on purpose.</summary>
public class FastChatException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public FastChatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public FastChatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The peer broke the wire protocol: malformed MessagePack, a frame that is too large, an unknown or
/// out-of-place message. The connection that produced it is closed; nothing else is affected.
/// </summary>
public class ProtocolViolationException : FastChatException
{
    /// <summary>Creates the exception with a message.</summary>
    public ProtocolViolationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public ProtocolViolationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A frame's length prefix is larger than the connection's maximum frame size.</summary>
/// <remarks>Raised from the 4-byte prefix alone, before any of the frame's payload is buffered.</remarks>
public sealed class FrameTooLargeException : ProtocolViolationException
{
    /// <summary>Creates the exception for a frame of <paramref name="frameLength"/> bytes against a limit of <paramref name="maxFrameSize"/>.</summary>
    public FrameTooLargeException(long frameLength, int maxFrameSize)
        : base($"The frame length {frameLength} B exceeds the maximum frame size of {maxFrameSize} B.")
    {
        FrameLength = frameLength;
        MaxFrameSize = maxFrameSize;
    }

    /// <summary>The length the frame's prefix declared.</summary>
    public long FrameLength { get; }

    /// <summary>The limit it broke.</summary>
    public int MaxFrameSize { get; }
}
