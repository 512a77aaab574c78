using System.Runtime.CompilerServices;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>Writes the field shapes that are more than one <see cref="MessagePackWriter"/> call.</summary>
internal static class FieldWriter
{
    /// <summary>Writes a <see cref="MessageId"/> as a bin of exactly 16 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteMessageId(ref MessagePackWriter writer, MessageId id)
    {
        Span<byte> bytes = stackalloc byte[MessageId.Size];
        id.TryWriteBytes(bytes);
        writer.Write(bytes);
    }

    /// <summary>Writes an array of str.</summary>
    public static void WriteNameArray(ref MessagePackWriter writer, IReadOnlyList<string> names)
    {
        writer.WriteArrayHeader(names.Count);
        for (int i = 0; i < names.Count; i++)
        {
            writer.Write(names[i]);
        }
    }

    /// <summary>Writes an array of <see cref="MessageId"/>s.</summary>
    public static void WriteMessageIdArray(ref MessagePackWriter writer, ReadOnlySpan<MessageId> ids)
    {
        writer.WriteArrayHeader(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            WriteMessageId(ref writer, ids[i]);
        }
    }

    /// <summary>Writes an array of <see cref="MessageId"/>s.</summary>
    public static void WriteMessageIdArray(ref MessagePackWriter writer, IReadOnlyList<MessageId> ids)
    {
        writer.WriteArrayHeader(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            WriteMessageId(ref writer, ids[i]);
        }
    }
}
