using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace FastChat.Compare.Raw;

/// <summary>What a raw frame is.</summary>
internal enum RawFrameKind : byte
{
    /// <summary>Client to forwarder: send me every message published to the topic. Body: the topic.</summary>
    Subscribe = 1,

    /// <summary>Forwarder to client: the subscription is in place; publishes from now on reach it. Body: the topic.</summary>
    Subscribed = 2,

    /// <summary>Client to forwarder: forward the payload to the topic's subscribers. Body: the topic, then the payload.</summary>
    Publish = 3,

    /// <summary>Forwarder to client: a payload published to a topic it subscribed to. Body: the topic, then the payload.</summary>
    Message = 4,
}

/// <summary>One parsed frame; <see cref="Payload"/> borrows the receive buffer until the bytes are consumed.</summary>
internal readonly ref struct RawFrame
{
    /// <summary>A frame over <paramref name="payload"/>.</summary>
    public RawFrame(RawFrameKind kind, uint topic, ReadOnlySpan<byte> payload)
    {
        Kind = kind;
        Topic = topic;
        Payload = payload;
    }

    /// <summary>The frame's kind.</summary>
    public RawFrameKind Kind { get; }

    /// <summary>The topic.</summary>
    public uint Topic { get; }

    /// <summary>The payload (empty for subscriptions).</summary>
    public ReadOnlySpan<byte> Payload { get; }
}

/// <summary>A peer broke the raw wire format.</summary>
internal sealed class RawProtocolException : Exception
{
    /// <summary>An exception with <paramref name="message"/>.</summary>
    public RawProtocolException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// The raw forwarder's wire format: <c>[u32 length][u8 kind][u32 topic][payload]</c>, little-endian, the length
/// counting the bytes after itself. Nothing else: no acknowledgements, no storage, no names; the forwarder is the
/// floor of what a relay hop costs, so the format is as small as a topic relay can be.
/// </summary>
internal static class RawProtocol
{
    /// <summary>The bytes before a payload: length, kind and topic.</summary>
    public const int HeaderSize = 4 + 1 + 4;

    /// <summary>The default cap on a frame's length field: a little over the 1 MiB largest body the comparison sends.</summary>
    public const int DefaultMaxFrameLength = (1024 * 1024) + 1024;

    /// <summary>
    /// Reads one frame from the front of <paramref name="input"/>; <see langword="false"/> when it holds only part of one
    /// (<paramref name="consumed"/> is then 0).
    /// </summary>
    /// <exception cref="RawProtocolException">The length is out of range, the kind unknown, or a subscription carries a payload.</exception>
    public static bool TryRead(ReadOnlySpan<byte> input, int maxFrameLength, out RawFrame frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        if (input.Length < 4)
        {
            return false;
        }

        // Checked before anything else: a hostile length must not make the reader wait for (or buffer) gigabytes.
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(input);
        if (length < HeaderSize - 4 || length > (uint)maxFrameLength)
        {
            ThrowBadLength(length, maxFrameLength);
        }

        if (input.Length - 4 < length)
        {
            return false;
        }

        var kind = (RawFrameKind)input[4];
        uint topic = BinaryPrimitives.ReadUInt32LittleEndian(input[5..]);
        ReadOnlySpan<byte> payload = input.Slice(HeaderSize, (int)length - (HeaderSize - 4));
        switch (kind)
        {
            case RawFrameKind.Subscribe or RawFrameKind.Subscribed when !payload.IsEmpty:
                ThrowPayloadOnSubscription(kind, payload.Length);
                break;
            case RawFrameKind.Subscribe or RawFrameKind.Subscribed or RawFrameKind.Publish or RawFrameKind.Message:
                break;
            default:
                ThrowUnknownKind(input[4]);
                break;
        }

        frame = new RawFrame(kind, topic, payload);
        consumed = 4 + (int)length;
        return true;
    }

    /// <summary>Writes a frame into <paramref name="destination"/>, which must hold <see cref="HeaderSize"/> plus the payload; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, RawFrameKind kind, uint topic, ReadOnlySpan<byte> payload)
    {
        int length = HeaderSize + payload.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)(length - 4));
        destination[4] = (byte)kind;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[5..], topic);
        payload.CopyTo(destination[HeaderSize..]);
        return length;
    }

    /// <summary>Writes a frame through <paramref name="sender"/> as one piece of its batch.</summary>
    /// <exception cref="IOException">The sender can no longer send.</exception>
    public static void Write(BatchingSender sender, RawFrameKind kind, uint topic, ReadOnlySpan<byte> payload)
    {
        int length = HeaderSize + payload.Length;
        Span<byte> span = sender.Begin(length);
        int written = 0;
        try
        {
            written = Write(span, kind, topic, payload);
        }
        finally
        {
            sender.Commit(written);
        }
    }

    [DoesNotReturn]
    private static void ThrowBadLength(uint length, int max) =>
        throw new RawProtocolException($"A raw frame's length must be between {HeaderSize - 4} and {max}, not {length}.");

    [DoesNotReturn]
    private static void ThrowUnknownKind(byte kind) =>
        throw new RawProtocolException($"Unknown raw frame kind {kind}.");

    [DoesNotReturn]
    private static void ThrowPayloadOnSubscription(RawFrameKind kind, int length) =>
        throw new RawProtocolException($"A {kind} frame carries no payload, but this one has {length} bytes.");
}
