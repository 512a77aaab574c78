using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>
/// A FastChat message type: a struct that knows its opcode and how to write and read its fields.
/// </summary>
/// <typeparam name="TSelf">The implementing message type.</typeparam>
/// <remarks>
/// <para>
/// A message on the wire is the MessagePack array <c>[opcode, requestId, field1, field2, ...]</c>.
/// <see cref="MessageSerializer"/> writes and reads the array header, opcode and request id; the message writes
/// and reads only its own fields, in their fixed order. Generic code calls the static members through
/// <typeparamref name="TSelf"/>, so dispatch is resolved at JIT time: no boxing, no virtual calls.
/// </para>
/// <para>
/// Forward compatibility: a later protocol version may append fields. <see cref="Read"/> reads the
/// <see cref="FieldCount"/> fields it knows and skips the rest; it rejects fewer.
/// </para>
/// </remarks>
public interface IMessage<TSelf>
    where TSelf : struct, IMessage<TSelf>
{
    /// <summary>The message's opcode.</summary>
    static abstract Opcode Opcode { get; }

    /// <summary>The number of fields the message has in protocol version 1 (not counting opcode and request id).</summary>
    static abstract int FieldCount { get; }

    /// <summary>
    /// Reads the message's fields, in order, from a reader positioned just after the request id.
    /// </summary>
    /// <param name="reader">The reader; it is left after the last field, including any skipped trailing fields.</param>
    /// <param name="fieldCount">The number of fields in the payload (the array length minus 2).</param>
    /// <returns>
    /// The message. Its binary fields are slices of the reader's sequence, valid only while the payload's buffer is.
    /// </returns>
    /// <exception cref="ProtocolViolationException">
    /// <paramref name="fieldCount"/> is smaller than <see cref="FieldCount"/>, or a field is missing, truncated,
    /// of the wrong MessagePack type or out of range. The message names the field.
    /// </exception>
    static abstract TSelf Read(ref MessagePackReader reader, int fieldCount);

    /// <summary>Writes exactly <see cref="FieldCount"/> values: the fields in order, no array header.</summary>
    /// <param name="writer">The writer; the caller flushes it.</param>
    void Write(ref MessagePackWriter writer);
}
