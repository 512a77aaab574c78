using System.Buffers;

namespace FastChat.Protocol.Tests.Framing;

/// <summary>Builds multi-segment sequences so parsers are exercised on fragmented input, as a pipe delivers it.</summary>
internal static class TestSequences
{
    /// <summary>Splits <paramref name="data"/> at the given offsets (ascending) into one segment per piece.</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, params int[] offsets)
    {
        var pieces = new List<byte[]>();
        int start = 0;
        foreach (int offset in offsets)
        {
            pieces.Add(data[start..offset].ToArray());
            start = offset;
        }

        pieces.Add(data[start..].ToArray());
        return Create(pieces);
    }

    /// <summary>One segment per byte: the worst fragmentation there is.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(ReadOnlySpan<byte> data)
    {
        var pieces = new List<byte[]>(data.Length);
        foreach (byte value in data)
        {
            pieces.Add([value]);
        }

        return Create(pieces);
    }

    /// <summary>Chains the pieces (empty ones included) into one sequence.</summary>
    public static ReadOnlySequence<byte> Create(IReadOnlyList<byte[]> pieces)
    {
        if (pieces.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(pieces[0], 0);
        Segment last = first;
        for (int i = 1; i < pieces.Count; i++)
        {
            last = last.Append(pieces[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
