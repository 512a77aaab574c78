using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto.Internal;

/// <summary>The context a message's envelope is bound to: <c>id (16) || sentAt as UTC ticks, int64 big-endian (8)</c>.</summary>
internal static class MessageContext
{
    public const int Size = MessageId.Size + sizeof(long);

    public static void Write(Span<byte> destination, MessageId id, DateTime sentAt)
    {
        var writer = new ByteWriter(destination);
        writer.WriteMessageId(id);
        writer.WriteInt64(ByteWriter.ToUtcTicks(sentAt));
    }
}
