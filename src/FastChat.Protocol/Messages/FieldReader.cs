using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FastChat.Protocol.Internal;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>
/// Reads one message field at a time and turns any failure into a <see cref="ProtocolViolationException"/>
/// that names the field, like <c>Reading 'DirectMessage.recipient' as String failed: ...</c>.
/// </summary>
/// <remarks>
/// Field names are string literals supplied by the caller, so the success path allocates nothing; the message is
/// only formatted when something is wrong. <see cref="MessagePackReader"/> raises nothing but
/// <see cref="MessagePackSerializationException"/> for bad input, and <see cref="NameCache"/> nothing but
/// <see cref="ProtocolViolationException"/>, so catching <see cref="ProtocolViolationException"/> covers every
/// input-driven failure.
/// </remarks>
internal static class FieldReader
{
    // bin 8 header (c4 10) plus the 16 bytes: the smallest encoding of a MessageId.
    private const int EncodedMessageIdSize = 2 + MessageId.Size;

    /// <summary>Rejects a payload that has fewer fields than the message's v1 layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EnsureFieldCount(int fieldCount, int required, string message)
    {
        if (fieldCount < required)
        {
            ThrowTooFewFields(fieldCount, required, message);
        }
    }

    /// <summary>Skips the fields a newer protocol version appended (forward compatibility).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SkipExtraFields(ref MessagePackReader reader, int fieldCount, int known, string message)
    {
        if (fieldCount > known)
        {
            SkipExtraFieldsSlow(ref reader, fieldCount - known, message);
        }
    }

    /// <summary>Reads a name (user, group, server id, host): cached when short, so known names allocate nothing. nil reads as "".</summary>
    public static string ReadName(ref MessagePackReader reader, string field)
    {
        try
        {
            if (reader.TryReadStringSpan(out ReadOnlySpan<byte> utf8))
            {
                return NameCache.Shared.GetOrAdd(utf8);
            }

            return ReadNameSlow(ref reader);
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "String", ex);
            return null;
        }
    }

    /// <summary>Reads free text (error messages, reasons): always a new string, never cached. nil reads as "".</summary>
    public static string ReadText(ref MessagePackReader reader, string field)
    {
        try
        {
            if (reader.TryReadNil())
            {
                return string.Empty;
            }

            if (reader.TryReadStringSpan(out ReadOnlySpan<byte> utf8))
            {
                return NameCache.Decode(utf8);
            }

            ReadOnlySequence<byte>? sequence = reader.ReadStringSequence();
            return sequence is { } value ? NameCache.Decode(value) : string.Empty;
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "String", ex);
            return null;
        }
    }

    /// <summary>Reads a bin as a zero-copy slice of the payload; nil reads as empty.</summary>
    public static ReadOnlySequence<byte> ReadBinary(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadBytes() ?? default;
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Binary", ex);
            return default;
        }
    }

    /// <summary>Reads a <see cref="MessageId"/>: a bin of exactly 16 bytes.</summary>
    public static MessageId ReadMessageId(ref MessagePackReader reader, string field)
    {
        ReadOnlySequence<byte>? value;
        try
        {
            value = reader.ReadBytes();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "MessageId", ex);
            return default;
        }

        if (value is not { } bytes)
        {
            ThrowField(field, "MessageId", "found nil; a message id is a bin of 16 bytes.");
            return default;
        }

        if (bytes.Length != MessageId.Size)
        {
            ThrowMessageIdLength(field, bytes.Length);
        }

        if (bytes.IsSingleSegment)
        {
            return new MessageId(bytes.FirstSpan);
        }

        Span<byte> scratch = stackalloc byte[MessageId.Size];
        bytes.CopyTo(scratch);
        return new MessageId(scratch);
    }

    /// <summary>Reads a timestamp (extension type -1) as a UTC <see cref="DateTime"/>.</summary>
    public static DateTime ReadTimestamp(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadDateTime();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Timestamp", ex);
            return default;
        }
    }

    /// <summary>Reads an integer that must fit a signed 32-bit value.</summary>
    public static int ReadInt32(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadInt32();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Int32", ex);
            return 0;
        }
    }

    /// <summary>Reads an integer that must fit an unsigned 32-bit value.</summary>
    public static uint ReadUInt32(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadUInt32();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "UInt32", ex);
            return 0;
        }
    }

    /// <summary>Reads an integer that must fit a signed 64-bit value.</summary>
    public static long ReadInt64(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadInt64();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Int64", ex);
            return 0;
        }
    }

    /// <summary>Reads an integer that must fit an unsigned byte (opcodes and byte-sized enums).</summary>
    public static byte ReadByte(ref MessagePackReader reader, string field, string typeName)
    {
        try
        {
            return reader.ReadByte();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, typeName, ex);
            return 0;
        }
    }

    /// <summary>Reads a float (or an integer, widened) as a <see cref="double"/>.</summary>
    public static double ReadDouble(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadDouble();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Double", ex);
            return 0;
        }
    }

    /// <summary>Reads a boolean.</summary>
    public static bool ReadBoolean(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadBoolean();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Boolean", ex);
            return false;
        }
    }

    /// <summary>Reads an array header; nil is not accepted.</summary>
    public static int ReadArrayHeader(ref MessagePackReader reader, string field)
    {
        try
        {
            return reader.ReadArrayHeader();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Array", ex);
            return 0;
        }
    }

    /// <summary>
    /// Reads the header of an array of <see cref="MessageId"/>s; nil reads as 0. The count is checked against the bytes
    /// left (each id takes 18), so a hostile count is refused before anything is sized by it.
    /// </summary>
    public static int ReadMessageIdArrayHeader(ref MessagePackReader reader, string field)
    {
        int count;
        try
        {
            if (reader.TryReadNil())
            {
                return 0;
            }

            count = reader.ReadArrayHeader();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Array", ex);
            return 0;
        }

        if ((long)count * EncodedMessageIdSize > reader.Remaining)
        {
            ThrowIdCount(field, count, reader.Remaining);
        }

        return count;
    }

    /// <summary>Reads an array of <see cref="MessageId"/>s; nil reads as an empty array.</summary>
    public static MessageId[] ReadMessageIdArray(ref MessagePackReader reader, string field)
    {
        int count = ReadMessageIdArrayHeader(ref reader, field);
        if (count == 0)
        {
            return [];
        }

        var ids = new MessageId[count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = ReadMessageId(ref reader, field);
        }

        return ids;
    }

    /// <summary>Reads an array of <see cref="MessageId"/>s into <paramref name="destination"/>; nil reads as empty.</summary>
    public static void ReadMessageIdArray(ref MessagePackReader reader, string field, ICollection<MessageId> destination)
    {
        int count = ReadMessageIdArrayHeader(ref reader, field);
        for (int i = 0; i < count; i++)
        {
            destination.Add(ReadMessageId(ref reader, field));
        }
    }

    /// <summary>Reads an array of names; nil reads as an empty array.</summary>
    public static string[] ReadNameArray(ref MessagePackReader reader, string field)
    {
        int count;
        try
        {
            if (reader.TryReadNil())
            {
                return [];
            }

            // The reader checks the count against the bytes left, so a hostile count cannot make us allocate
            // more than the frame could hold.
            count = reader.ReadArrayHeader();
        }
        catch (ProtocolViolationException ex)
        {
            ThrowField(field, "Array", ex);
            return null;
        }

        if (count == 0)
        {
            return [];
        }

        string[] names = new string[count];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = ReadName(ref reader, field);
        }

        return names;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string ReadNameSlow(ref MessagePackReader reader)
    {
        // Not a contiguous string: nil, a string straddling segments, or the wrong type (ReadStringSequence throws).
        if (reader.TryReadNil())
        {
            return string.Empty;
        }

        ReadOnlySequence<byte>? sequence = reader.ReadStringSequence();
        return sequence is { } value ? NameCache.Shared.GetOrAdd(value) : string.Empty;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SkipExtraFieldsSlow(ref MessagePackReader reader, int extra, string message)
    {
        try
        {
            for (int i = 0; i < extra; i++)
            {
                reader.Skip();
            }
        }
        catch (ProtocolViolationException ex)
        {
            ThrowHelper.ThrowProtocolViolation($"Skipping the {extra} unknown trailing field(s) of {message} failed: {ex.Message}", ex);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooFewFields(int fieldCount, int required, string message) =>
        throw new ProtocolViolationException(
            $"{message} has {fieldCount} field(s); protocol version {ProtocolConstants.ProtocolVersion} requires {required}.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowField(string field, string typeName, ProtocolViolationException inner) =>
        throw new ProtocolViolationException($"Reading '{field}' as {typeName} failed: {inner.Message}", inner);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowField(string field, string typeName, string reason) =>
        throw new ProtocolViolationException($"Reading '{field}' as {typeName} failed: {reason}");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowIdCount(string field, int count, long remaining) =>
        throw new ProtocolViolationException(
            $"Reading '{field}' as Array failed: {count} message id(s) need at least {(long)count * EncodedMessageIdSize} bytes; {remaining} are left.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMessageIdLength(string field, long length) =>
        throw new ProtocolViolationException(
            $"Reading '{field}' as MessageId failed: a message id is a bin of {MessageId.Size} bytes; got {length}.");
}
