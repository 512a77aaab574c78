using System.Text;
using FastChat.Compare.Raw;

namespace FastChat.Compare.Tests;

/// <summary>Parses every whole frame at the front of the input into <paramref name="frames"/> (as descriptions); returns the bytes used.</summary>
internal delegate int FrameDrain(ReadOnlySpan<byte> input, List<string> frames);

/// <summary>Feeds wire bytes to a parser the way a receive loop does, in pieces, through a <see cref="ReceiveBuffer"/>.</summary>
internal static class SplitFeeding
{
    /// <summary>The bytes of <paramref name="text"/> (ASCII/UTF-8).</summary>
    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Feeds <paramref name="wire"/> in the given pieces; returns the frames parsed, checking nothing is left over.</summary>
    public static List<string> Feed(byte[] wire, FrameDrain drain, params int[] cuts)
    {
        using var buffer = new ReceiveBuffer(16);
        var frames = new List<string>();
        int start = 0;
        foreach (int cut in cuts.Append(wire.Length))
        {
            ReadOnlySpan<byte> piece = wire.AsSpan(start, cut - start);
            piece.CopyTo(buffer.FreeSpace(Math.Max(1, piece.Length)).Span);
            buffer.Advance(piece.Length);
            buffer.Consume(drain(buffer.Unread, frames));
            start = cut;
        }

        Assert.Equal(0, buffer.Length);
        return frames;
    }

    /// <summary>
    /// Checks that <paramref name="wire"/> parses to the same frames whole, split in two at every byte position, and fed
    /// one byte at a time.
    /// </summary>
    public static void AssertSplitInvariant(byte[] wire, FrameDrain drain, IReadOnlyList<string> expected)
    {
        Assert.Equal(expected, Feed(wire, drain));
        for (int split = 0; split <= wire.Length; split++)
        {
            Assert.Equal(expected, Feed(wire, drain, split));
        }

        int[] everyByte = Enumerable.Range(1, wire.Length - 1).ToArray();
        Assert.Equal(expected, Feed(wire, drain, everyByte));
    }
}
