using System.Buffers.Binary;
using System.Diagnostics;

namespace FastChat.Compare.Workloads;

/// <summary>
/// The body every workload sends, whatever the target: the send time (a <see cref="Stopwatch"/> timestamp; senders and
/// receivers share this process), the sender's sequence number and the sender's index, then filler up to the size.
/// </summary>
internal static class MessageBody
{
    /// <summary>Timestamp, sequence and sender: the smallest body.</summary>
    public const int HeaderSize = 8 + 8 + 4;

    [ThreadStatic]
    private static byte[]? t_scratch;

    /// <summary>A buffer of <paramref name="size"/> bytes for this thread (reused: valid until the next call on the thread).</summary>
    public static Span<byte> Scratch(int size)
    {
        byte[]? scratch = t_scratch;
        if (scratch is null || scratch.Length < size)
        {
            // Filler bytes that are not all zero, so no layer can take a shortcut on them.
            scratch = new byte[Math.Max(size, 1024)];
            for (int i = 0; i < scratch.Length; i++)
            {
                scratch[i] = (byte)('a' + (i % 26));
            }

            t_scratch = scratch;
        }

        return scratch.AsSpan(0, size);
    }

    /// <summary>Writes the header into the front of <paramref name="body"/>.</summary>
    public static void WriteHeader(Span<byte> body, long timestamp, long sequence, int sender)
    {
        BinaryPrimitives.WriteInt64LittleEndian(body, timestamp);
        BinaryPrimitives.WriteInt64LittleEndian(body[8..], sequence);
        BinaryPrimitives.WriteInt32LittleEndian(body[16..], sender);
    }

    /// <summary>Reads the header; <see langword="false"/> when the body is too short to have one.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> body, out long timestamp, out long sequence, out int sender)
    {
        if (body.Length < HeaderSize)
        {
            timestamp = sequence = 0;
            sender = -1;
            return false;
        }

        timestamp = BinaryPrimitives.ReadInt64LittleEndian(body);
        sequence = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        sender = BinaryPrimitives.ReadInt32LittleEndian(body[16..]);
        return true;
    }
}
