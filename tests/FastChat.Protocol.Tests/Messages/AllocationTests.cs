using System.Buffers;
using FastChat.Protocol.Framing;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>
/// Runs alone: the name cache is process-wide, and a parallel test inserting names could evict the ones these
/// tests rely on (costing an allocation and a false failure).
/// </summary>
[CollectionDefinition(nameof(AllocationTestCollection), DisableParallelization = true)]
public sealed class AllocationTestCollection
{
}

/// <summary>
/// The hot path's allocation budget, 0 bytes, counted (not timed) with <see cref="GC.GetAllocatedBytesForCurrentThread"/>
/// around a warmed-up loop: deterministic, unlike a benchmark.
/// </summary>
[Collection(nameof(AllocationTestCollection))]
public class AllocationTests
{
    private const int Iterations = 1000;

    /// <summary>Guards the zero-allocation write path: framing a DirectMessage with a 64-byte body allocates nothing.</summary>
    [Fact]
    public void WriteFrame_DirectMessageWith64ByteBody_AllocatesNothing()
    {
        using var output = new SegmentedBufferWriter();
        DirectMessage message = TestPayloads.SampleDirectMessage(bodyLength: 64) with { Id = MessageId.NewId() };

        static long Run(SegmentedBufferWriter output, in DirectMessage message, int iterations)
        {
            long written = 0;
            for (int i = 0; i < iterations; i++)
            {
                MessageSerializer.WriteFrame(output, (uint)i, message);
                written += output.WrittenCount;
                output.Reset();
            }

            return written;
        }

        Run(output, message, Iterations);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long written = Run(output, message, Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(written > Iterations * 64);
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// Guards the zero-allocation read path: parsing a DirectMessage frame between known users allocates nothing
    /// (names come from the cache, the id and timestamp are structs, the body is a slice).
    /// </summary>
    [Fact]
    public void ReadFrame_DirectMessage_AllocatesNothingInSteadyState()
    {
        using var output = new SegmentedBufferWriter();
        MessageSerializer.WriteFrame(output, 42, TestPayloads.SampleDirectMessage(bodyLength: 64));
        byte[] frame = output.ToArray();

        static long Run(byte[] frame, int iterations)
        {
            long total = 0;
            for (int i = 0; i < iterations; i++)
            {
                var buffer = new ReadOnlySequence<byte>(frame);
                FrameReader.TryReadFrame(ref buffer, ProtocolConstants.DefaultMaxFrameSize, out ReadOnlySequence<byte> payload);
                var reader = new MessagePackReader(payload);
                MessageHeader header = MessageSerializer.ReadHeader(ref reader);
                DirectMessage message = MessageSerializer.ReadBody<DirectMessage>(ref reader, header);
                total += message.Body.Length + message.Sender.Length + message.Recipient.Length + message.SentAt.Second;
            }

            return total;
        }

        long warm = Run(frame, Iterations);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long total = Run(frame, Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(warm, total);
        Assert.Equal(Iterations * (64L + 5 + 3 + 5), total);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void WriteAndRead_Ack_AllocatesNothing()
    {
        using var output = new SegmentedBufferWriter();
        var ack = new Ack { Id = MessageId.NewId() };

        static int Run(SegmentedBufferWriter output, Ack ack, int iterations)
        {
            int matches = 0;
            for (int i = 0; i < iterations; i++)
            {
                MessageSerializer.WritePayload(output, 1, ack);
                Ack read = MessageSerializer.Deserialize<Ack>(output.AsReadOnlySequence(), out _);
                matches += read.Id == ack.Id ? 1 : 0;
                output.Reset();
            }

            return matches;
        }

        Run(output, ack, Iterations);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int matches = Run(output, ack, Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Iterations, matches);
        Assert.Equal(0, allocated);
    }
}
