using System.Buffers;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>Builds payloads by hand, for shapes the message writers never produce (extra, missing or mistyped fields).</summary>
internal static class TestPayloads
{
    public delegate void Build(ref MessagePackWriter writer);

    public static byte[] Create(Build build)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(output);
        build(ref writer);
        writer.Flush();
        return output.WrittenSpan.ToArray();
    }

    public static string Hex(Build build) => Convert.ToHexStringLower(Create(build));

    /// <summary>The payload <see cref="MessageSerializer.WritePayload{T}"/> writes.</summary>
    public static byte[] Of<T>(uint requestId, T message)
        where T : struct, IMessage<T>
    {
        var output = new ArrayBufferWriter<byte>();
        MessageSerializer.WritePayload(output, requestId, message);
        return output.WrittenSpan.ToArray();
    }

    public static DirectMessage SampleDirectMessage(int bodyLength = 5) => new()
    {
        Id = new MessageId([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
        Sender = "alice",
        Recipient = "bob",
        SentAt = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc),
        Body = new ReadOnlySequence<byte>(new byte[bodyLength]),
    };
}
