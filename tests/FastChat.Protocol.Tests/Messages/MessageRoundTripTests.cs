using System.Buffers;
using System.IO.Pipelines;
using System.Reflection;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Protocol.Tests.Framing;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>
/// Every message type, with every field set, through a real frame: written by <see cref="MessageSerializer.WriteFrame{T}"/>,
/// parsed by <see cref="FrameReader"/>, <see cref="MessageSerializer.ReadHeader"/> and <see cref="MessageSerializer.ReadBody{T}"/>.
/// </summary>
public class MessageRoundTripTests
{
    private const uint RequestId = 0xdead_beef;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string> MessageTypeNames
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (Type type in MessageCatalog.MessageTypes)
            {
                data.Add(type.Name);
            }

            return data;
        }
    }

    [Fact]
    public void MessageTypeNames_CoverTheWholeCatalogue()
    {
        Assert.Equal(40, MessageCatalog.MessageTypes.Count);
    }

    [Theory]
    [MemberData(nameof(MessageTypeNames))]
    public Task RoundTrip_ThroughPipe_PreservesEveryField(string typeName) =>
        (Task)Invoke(nameof(RoundTripThroughPipeAsync), typeName)!;

    [Theory]
    [MemberData(nameof(MessageTypeNames))]
    public void RoundTrip_ThroughSegmentedBufferWriter_PreservesEveryField(string typeName) =>
        Invoke(nameof(RoundTripThroughSegmentedBufferWriter), typeName);

    /// <summary>Guards every reader slow path: each token of each message type straddles a segment boundary.</summary>
    [Theory]
    [MemberData(nameof(MessageTypeNames))]
    public void RoundTrip_OneBytePerSegment_PreservesEveryField(string typeName) =>
        Invoke(nameof(RoundTripOneBytePerSegment), typeName);

    [Theory]
    [MemberData(nameof(MessageTypeNames))]
    public void Deserialize_WrittenPayload_PreservesEveryFieldAndRequestId(string typeName) =>
        Invoke(nameof(RoundTripThroughDeserialize), typeName);

    [Theory]
    [MemberData(nameof(MessageTypeNames))]
    public void Sample_EveryField_IsSetSoTheRoundTripMeansSomething(string typeName) =>
        MessageCatalog.AssertNoDefaultFields(MessageCatalog.CreateSample(MessageCatalog.GetType(typeName)));

    /// <summary>Guards that a default-constructed message (null strings, empty sequences) writes and reads back as empty values.</summary>
    [Theory]
    [MemberData(nameof(MessageTypeNames))]
    public void RoundTrip_DefaultMessage_ReadsBackEmptyValues(string typeName) =>
        Invoke(nameof(RoundTripDefault), typeName);

    private static object? Invoke(string method, string typeName)
    {
        Type type = MessageCatalog.GetType(typeName);
        MethodInfo generic = typeof(MessageRoundTripTests)
            .GetMethod(method, BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(type);
        try
        {
            return generic.Invoke(null, [MessageCatalog.CreateSample(type)]);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            // Surface the assertion itself rather than the reflection wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    private static async Task RoundTripThroughPipeAsync<T>(T message)
        where T : struct, IMessage<T>
    {
        var pipe = new Pipe();
        MessageSerializer.WriteFrame(pipe.Writer, RequestId, message, ProtocolConstants.DefaultMaxFrameSize);
        await pipe.Writer.FlushAsync().AsTask().WaitAsync(Timeout);
        await pipe.Writer.CompleteAsync().AsTask().WaitAsync(Timeout);

        ReadResult result = await pipe.Reader.ReadAtLeastAsync(int.MaxValue).AsTask().WaitAsync(Timeout);
        ReadOnlySequence<byte> buffer = result.Buffer;
        ReadAndCompare(ref buffer, message);

        // The message read borrows the pipe's memory: compare before advancing.
        pipe.Reader.AdvanceTo(buffer.End);
        await pipe.Reader.CompleteAsync().AsTask().WaitAsync(Timeout);
    }

    private static void RoundTripThroughSegmentedBufferWriter<T>(T message)
        where T : struct, IMessage<T>
    {
        // Small segments so that the frame spans several of them.
        using var output = new SegmentedBufferWriter(minimumSegmentSize: 8);
        MessageSerializer.WriteFrame(output, RequestId, message);
        ReadOnlySequence<byte> buffer = output.AsReadOnlySequence();
        ReadAndCompare(ref buffer, message);
    }

    private static void RoundTripOneBytePerSegment<T>(T message)
        where T : struct, IMessage<T>
    {
        using var output = new SegmentedBufferWriter();
        MessageSerializer.WriteFrame(output, RequestId, message);
        ReadOnlySequence<byte> buffer = TestSequences.OneBytePerSegment(output.ToArray());
        ReadAndCompare(ref buffer, message);
    }

    private static void RoundTripThroughDeserialize<T>(T message)
        where T : struct, IMessage<T>
    {
        using var output = new SegmentedBufferWriter();
        MessageSerializer.WritePayload(output, uint.MaxValue, message);

        T read = MessageSerializer.Deserialize<T>(output.AsReadOnlySequence(), out uint requestId);

        Assert.Equal(uint.MaxValue, requestId);
        MessageCatalog.AssertFieldsEqual(message, read);
    }

    private static void RoundTripDefault<T>(T sample)
        where T : struct, IMessage<T>
    {
        _ = sample;
        using var output = new SegmentedBufferWriter();
        MessageSerializer.WriteFrame(output, 0, default(T));
        ReadOnlySequence<byte> buffer = output.AsReadOnlySequence();

        Assert.True(FrameReader.TryReadFrame(ref buffer, int.MaxValue, out ReadOnlySequence<byte> payload));
        T read = MessageSerializer.Deserialize<T>(payload, out uint requestId);

        Assert.Equal(0u, requestId);
        MessageCatalog.AssertFieldsEqual(default(T), read);
        foreach (PropertyInfo field in MessageCatalog.GetFields(typeof(T)))
        {
            if (field.PropertyType == typeof(string))
            {
                Assert.Equal(string.Empty, field.GetValue(read));
            }
        }
    }

    private static void ReadAndCompare<T>(ref ReadOnlySequence<byte> buffer, T expected)
        where T : struct, IMessage<T>
    {
        Assert.True(FrameReader.TryReadFrame(ref buffer, ProtocolConstants.DefaultMaxFrameSize, out ReadOnlySequence<byte> payload));
        Assert.True(buffer.IsEmpty, "exactly one frame was written");

        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);
        Assert.Equal(T.Opcode, header.Opcode);
        Assert.Equal(RequestId, header.RequestId);
        Assert.Equal(T.FieldCount, header.FieldCount);

        T actual = MessageSerializer.ReadBody<T>(ref reader, header);

        Assert.True(reader.End, "the body read consumed the whole payload");
        MessageCatalog.AssertFieldsEqual(expected, actual);
    }
}
