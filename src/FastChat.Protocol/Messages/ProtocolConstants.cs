namespace FastChat.Protocol.Messages;

/// <summary>Numbers fixed by the FastChat protocol.</summary>
public static class ProtocolConstants
{
    /// <summary>The protocol version this library speaks, sent in <see cref="Hello.ProtocolVersion"/>.</summary>
    public const int ProtocolVersion = 1;

    /// <summary>The largest plaintext file chunk, in bytes (64 KiB); <see cref="FileChunk.Data"/> adds the AEAD overhead.</summary>
    public const int MaxFileChunkSize = 65536;

    /// <summary>
    /// The default maximum frame payload, in bytes (1 MiB): a full file chunk plus its envelope fits with room
    /// to spare, and a peer cannot make the receiver buffer more than this for one frame.
    /// </summary>
    public const int DefaultMaxFrameSize = 1_048_576;
}
