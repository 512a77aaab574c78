using System.Text;
using FastChat.Compare.Raw;

namespace FastChat.Compare.Tests;

public sealed class RawProtocolTests
{
    private static int Drain(ReadOnlySpan<byte> input, List<string> frames)
    {
        int total = 0;
        while (RawProtocol.TryRead(input[total..], 1024, out RawFrame frame, out int consumed))
        {
            total += consumed;
            frames.Add($"{frame.Kind}|{frame.Topic}|{Encoding.UTF8.GetString(frame.Payload)}");
        }

        return total;
    }

    private static byte[] Frame(RawFrameKind kind, uint topic, string payload)
    {
        byte[] body = Encoding.UTF8.GetBytes(payload);
        var frame = new byte[RawProtocol.HeaderSize + body.Length];
        Assert.Equal(frame.Length, RawProtocol.Write(frame, kind, topic, body));
        return frame;
    }

    /// <summary>Guards the receive loops of forwarder and client: frames split anywhere across reads parse the same.</summary>
    [Fact]
    public void TryRead_SplitAtEveryByte_ParsesTheSameFrames()
    {
        byte[] wire = [
            .. Frame(RawFrameKind.Subscribe, 7, string.Empty),
            .. Frame(RawFrameKind.Publish, 7, "hello"),
            .. Frame(RawFrameKind.Message, uint.MaxValue, string.Empty),
            .. Frame(RawFrameKind.Subscribed, 1, string.Empty)];
        SplitFeeding.AssertSplitInvariant(wire, Drain, ["Subscribe|7|", "Publish|7|hello", $"Message|{uint.MaxValue}|", "Subscribed|1|"]);
    }

    [Fact]
    public void Write_Publish_ProducesLittleEndianHeader()
    {
        Assert.Equal(new byte[] { 7, 0, 0, 0, 3, 1, 2, 0, 0, (byte)'h', (byte)'i' }, Frame(RawFrameKind.Publish, 0x0201, "hi"));
    }

    /// <summary>Guards the forwarder against hostile clients: lengths out of range (checked before waiting for the body), unknown kinds and payloads on subscriptions.</summary>
    [Theory]
    [InlineData(new byte[] { 4, 0, 0, 0 }, "length")]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff }, "length")]
    [InlineData(new byte[] { 0x01, 0x04, 0, 0 }, "length")]
    [InlineData(new byte[] { 5, 0, 0, 0, 9, 0, 0, 0, 0 }, "Unknown raw frame kind 9")]
    [InlineData(new byte[] { 6, 0, 0, 0, 1, 0, 0, 0, 0, 1 }, "carries no payload")]
    public void TryRead_HostileInput_ThrowsRawProtocolException(byte[] input, string expected)
    {
        var ex = Assert.Throws<RawProtocolException>(() => RawProtocol.TryRead(input, 1024, out _, out _));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
