namespace FastChat.Protocol.Messages;

/// <summary>The start of every message: <c>[opcode, requestId, ...]</c>, as read by <see cref="MessageSerializer.ReadHeader"/>.</summary>
public readonly struct MessageHeader
{
    /// <summary>Creates a header.</summary>
    /// <param name="opcode">The message's opcode.</param>
    /// <param name="requestId">The request id.</param>
    /// <param name="fieldCount">The number of fields after the request id.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fieldCount"/> is negative.</exception>
    public MessageHeader(Opcode opcode, uint requestId, int fieldCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fieldCount);
        Opcode = opcode;
        RequestId = requestId;
        FieldCount = fieldCount;
    }

    /// <summary>Array element 0: the opcode. It may be a value this library does not know; the dispatcher decides.</summary>
    public Opcode Opcode { get; }

    /// <summary>Array element 1: the request id, echoed by the reply; 0 for unsolicited messages.</summary>
    public uint RequestId { get; }

    /// <summary>The number of fields that follow the request id (the array length minus 2).</summary>
    public int FieldCount { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Opcode} (0x{(byte)Opcode:x2}) #{RequestId}, {FieldCount} fields";
}
