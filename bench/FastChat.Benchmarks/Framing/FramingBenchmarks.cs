using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastChat.Protocol.Framing;

namespace FastChat.Benchmarks.Framing;

/// <summary>
/// Parses a 1 MiB buffer of mixed small frames that arrives as 4 KiB segments, as a socket receive loop would hand
/// it over. Target: at least 1 GB/s (the reported time is per MiB).
/// </summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    private const int TotalBytes = 1 << 20;
    private const int SegmentSize = 4096;

    // Payload sizes typical of the chat traffic: acks, short messages, longer ones, a key envelope.
    private static readonly int[] PayloadSizes = [16, 48, 96, 200, 600, 1500];

    private ReadOnlySequence<byte> _buffer;
    private int _frameCount;

    [GlobalSetup]
    public void Setup()
    {
        var bytes = new byte[TotalBytes];
        int offset = 0;
        int i = 0;
        var random = new Random(42);
        while (true)
        {
            int size = PayloadSizes[i++ % PayloadSizes.Length];
            if (offset + FrameReader.HeaderSize + size > bytes.Length)
            {
                break;
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(offset), (uint)size);
            random.NextBytes(bytes.AsSpan(offset + FrameReader.HeaderSize, size));
            offset += FrameReader.HeaderSize + size;
            _frameCount++;
        }

        _buffer = BenchmarkSequence.Create(bytes.AsMemory(0, offset), SegmentSize);
    }

    /// <summary>Slices every frame off the buffer; the count is returned so the work cannot be elided.</summary>
    [Benchmark(Description = "TryReadFrame over 1 MiB in 4 KiB segments")]
    public long ParseMixedFrames()
    {
        ReadOnlySequence<byte> buffer = _buffer;
        long payloadBytes = 0;
        while (FrameReader.TryReadFrame(ref buffer, maxFrameSize: 1 << 20, out ReadOnlySequence<byte> payload))
        {
            payloadBytes += payload.Length;
        }

        return payloadBytes + _frameCount;
    }
}
