using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>
/// Writes and reads FastChat messages: the MessagePack array <c>[opcode, requestId, field1, field2, ...]</c>,
/// optionally framed with its 4-byte length prefix.
/// </summary>
/// <remarks>
/// <para>
/// Writing is one pass straight into the destination <see cref="IBufferWriter{T}"/>: no intermediate array.
/// Reading is split so that a dispatcher can look at the opcode first (<see cref="ReadHeader"/>) and then read the
/// body of the type it expects (<see cref="ReadBody{T}"/>). Binary fields of the messages read are slices of the
/// payload, valid only while the payload's buffer is.
/// </para>
/// <para>
/// The split also grades errors: an exception from <see cref="ReadHeader"/> means the payload is not a message at
/// all (a broken frame: send <see cref="Error"/> with request id 0 and close), while one from <see cref="ReadBody{T}"/>
/// means a bad message in an intact frame (reply <see cref="Error"/> with the header's request id; the connection
/// lives). An opcode the dispatcher does not know is neither: it skips the message.
/// </para>
/// <para>
/// Reading never lets anything but <see cref="ProtocolViolationException"/> (or its subclass
/// <see cref="MessagePackSerializationException"/>) escape, whatever the input.
/// </para>
/// </remarks>
public static class MessageSerializer
{
    // Opcode and requestId precede the message's own fields.
    private const int HeaderElementCount = 2;

    /// <summary>Writes one complete frame: length prefix, then <c>[opcode, requestId, fields...]</c>.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="output">
    /// The destination. It must keep written memory in place until it is flushed (a <c>PipeWriter</c> or a
    /// <see cref="SegmentedBufferWriter"/>, not an <see cref="ArrayBufferWriter{T}"/>): the prefix is backfilled.
    /// </param>
    /// <param name="requestId">The request id: the requester's choice, the request's in a reply, 0 for unsolicited messages.</param>
    /// <param name="message">The message.</param>
    /// <param name="maxFrameSize">The receiver's maximum frame size; a larger frame is refused here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is <see langword="null"/>.</exception>
    /// <exception cref="FrameTooLargeException">
    /// The payload is larger than <paramref name="maxFrameSize"/>. Part of the frame may already have been committed
    /// to <paramref name="output"/>, with an invalid prefix: discard the output (for a connection, close it).
    /// </exception>
    public static void WriteFrame<T>(IBufferWriter<byte> output, uint requestId, in T message, int maxFrameSize = int.MaxValue)
        where T : struct, IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new MessagePackWriter(output);
        FramePrefix prefix = FrameWriter.BeginFrame(ref writer);
        WriteMessage(ref writer, requestId, in message);
        FrameWriter.EndFrame(ref writer, prefix, maxFrameSize);
        writer.Flush();
    }

    /// <summary>
    /// Writes <c>[opcode, requestId, fields...]</c> without a length prefix: a payload to nest inside another
    /// message (<see cref="Relay.Frame"/>) or to frame later.
    /// </summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="output">The destination.</param>
    /// <param name="requestId">The request id.</param>
    /// <param name="message">The message.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is <see langword="null"/>.</exception>
    public static void WritePayload<T>(IBufferWriter<byte> output, uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new MessagePackWriter(output);
        WriteMessage(ref writer, requestId, in message);
        writer.Flush();
    }

    /// <summary>Writes <c>[opcode, requestId, fields...]</c> through a writer the caller owns (and flushes).</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="writer">The writer.</param>
    /// <param name="requestId">The request id.</param>
    /// <param name="message">The message.</param>
    public static void WriteMessage<T>(ref MessagePackWriter writer, uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        writer.WriteArrayHeader(HeaderElementCount + T.FieldCount);
        writer.Write((uint)T.Opcode);
        writer.Write(requestId);

        // Every message is a readonly struct, so calling through a mutable ref cannot change it; going through
        // Unsafe.AsRef avoids the defensive copy the compiler makes when an interface method is called on an
        // 'in' parameter of a generic type.
        Unsafe.AsRef(in message).Write(ref writer);
    }

    /// <summary>
    /// Reads the start of a message: the array header, the opcode and the request id.
    /// </summary>
    /// <param name="reader">A reader at the start of a payload; it is left at the first field.</param>
    /// <returns>The header. Its opcode may be one this library does not know: the dispatcher decides what to do.</returns>
    /// <exception cref="ProtocolViolationException">
    /// The payload is not an array of at least 2 elements, the opcode is not an integer from 0 to 255, or the request
    /// id is not an integer from 0 to 2^32-1. The message names the element.
    /// </exception>
    public static MessageHeader ReadHeader(ref MessagePackReader reader)
    {
        int count;
        try
        {
            count = reader.ReadArrayHeader();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowNotAnArray(ex);
            return default;
        }

        if (count < HeaderElementCount)
        {
            ThrowTooShort(count);
        }

        byte opcode = FieldReader.ReadByte(ref reader, "opcode", "UInt8");
        uint requestId = FieldReader.ReadUInt32(ref reader, "requestId");
        return new MessageHeader((Opcode)opcode, requestId, count - HeaderElementCount);
    }

    /// <summary>Reads the fields of a message whose header <see cref="ReadHeader"/> returned.</summary>
    /// <typeparam name="T">The message type the header's opcode stands for.</typeparam>
    /// <param name="reader">The reader, left where <see cref="ReadHeader"/> left it; it is left after the message.</param>
    /// <param name="header">The header.</param>
    /// <returns>The message; its binary fields are slices of the reader's sequence.</returns>
    /// <exception cref="ProtocolViolationException">
    /// The header's opcode is not <typeparamref name="T"/>'s, the payload has fewer fields than <typeparamref name="T"/>
    /// needs, or a field is malformed.
    /// </exception>
    public static T ReadBody<T>(ref MessagePackReader reader, in MessageHeader header)
        where T : struct, IMessage<T>
    {
        if (header.Opcode != T.Opcode)
        {
            ThrowWrongOpcode(header.Opcode, T.Opcode, typeof(T).Name);
        }

        return T.Read(ref reader, header.FieldCount);
    }

    /// <summary>Reads a whole payload (no length prefix) as one message of type <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The expected message type.</typeparam>
    /// <param name="payload">The payload, for example from <see cref="FrameReader.TryReadFrame"/>.</param>
    /// <param name="requestId">The message's request id.</param>
    /// <returns>The message; its binary fields are slices of <paramref name="payload"/>.</returns>
    /// <exception cref="ProtocolViolationException">
    /// The payload is malformed, is another message, or has bytes after the message array.
    /// </exception>
    public static T Deserialize<T>(in ReadOnlySequence<byte> payload, out uint requestId)
        where T : struct, IMessage<T>
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = ReadHeader(ref reader);
        T message = ReadBody<T>(ref reader, header);
        if (!reader.End)
        {
            ThrowTrailingBytes(payload.Length - reader.Consumed, typeof(T).Name);
        }

        requestId = header.RequestId;
        return message;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotAnArray(ProtocolViolationException inner) =>
        throw new ProtocolViolationException(
            $"A message is a MessagePack array [opcode, requestId, fields...]; reading its header failed: {inner.Message}", inner);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooShort(int count) =>
        throw new ProtocolViolationException(
            $"A message array has at least {HeaderElementCount} elements (opcode, requestId); got {count}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowWrongOpcode(Opcode actual, Opcode expected, string typeName) =>
        throw new ProtocolViolationException(
            $"Expected {typeName} (opcode 0x{(byte)expected:x2}) but the message's opcode is 0x{(byte)actual:x2}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTrailingBytes(long count, string typeName) =>
        throw new ProtocolViolationException($"{count} byte(s) follow the {typeName} message array in the payload.");
}
