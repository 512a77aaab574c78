using System.Text;
using FastChat.Compare.Targets;

namespace FastChat.Compare.Tests;

public sealed class NatsProtocolTests
{
    private const int MaxPayload = 1024 * 1024;

    private static int Drain(ReadOnlySpan<byte> input, List<string> frames)
    {
        int total = 0;
        while (NatsProtocol.TryRead(input[total..], MaxPayload, out NatsFrame frame, out int consumed))
        {
            total += consumed;
            frames.Add($"{frame.Operation}|{Encoding.UTF8.GetString(frame.Subject)}|{Encoding.UTF8.GetString(frame.Argument)}|{Encoding.UTF8.GetString(frame.Payload)}");
        }

        return total;
    }

    /// <summary>Guards the receive loop's contract: a frame split anywhere across reads (even a payload holding CRLF) parses the same.</summary>
    [Fact]
    public void TryRead_SplitAtEveryByte_ParsesTheSameFrames()
    {
        byte[] wire = SplitFeeding.Bytes(
            "INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n" +
            "MSG dm.1 1 5\r\nhello\r\n" +
            "PING\r\n" +
            "MSG a.b  2 reply.to 0\r\n\r\n" +
            "PONG\r\n" +
            "+OK\r\n" +
            "-ERR 'Unknown Protocol Operation'\r\n" +
            "msg x\t3 4\r\na\r\nb\r\n");
        string[] expected =
        [
            "Info||{\"server_id\":\"x\",\"max_payload\":1048576}|",
            "Msg|dm.1|1|hello",
            "Ping|||",
            "Msg|a.b|2|",
            "Pong|||",
            "Ok|||",
            "Err||'Unknown Protocol Operation'|",
            "Msg|x|3|a\r\nb",
        ];

        SplitFeeding.AssertSplitInvariant(wire, Drain, expected);
    }

    /// <summary>Guards against trusting the server's numbers: sizes are checked before any wait for the payload, and a wrong size is caught by the missing CRLF.</summary>
    [Theory]
    [InlineData("MSG a 1 99999999999\r\n", "payload size")]
    [InlineData("MSG a 1 -5\r\n", "payload size")]
    [InlineData("MSG a 1 2000000\r\n", "payload size")]
    [InlineData("MSG a 1 1x\r\n", "payload size")]
    [InlineData("MSG a 1 5\r\nhelloXX", "not followed by CRLF")]
    [InlineData("MSG a\r\n", "fields")]
    [InlineData("MSG a 1 b c 5\r\n", "fields")]
    [InlineData("BOGUS\r\n", "Unknown NATS operation")]
    [InlineData("HMSG a 1 0 0\r\n\r\n", "Unknown NATS operation")]
    public void TryRead_HostileInput_ThrowsInvalidData(string input, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => NatsProtocol.TryRead(SplitFeeding.Bytes(input), MaxPayload, out _, out _));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards against buffering without end: a control line that never ends is refused once past the limit.</summary>
    [Fact]
    public void TryRead_EndlessControlLine_Throws()
    {
        byte[] endless = SplitFeeding.Bytes("INFO " + new string('x', NatsProtocol.MaxControlLine));
        var ex = Assert.Throws<InvalidDataException>(() => NatsProtocol.TryRead(endless, MaxPayload, out _, out _));
        Assert.Contains("longer than", ex.Message, StringComparison.Ordinal);
        Assert.False(NatsProtocol.TryRead(endless.AsSpan(0, 100), MaxPayload, out _, out int consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void FormatPublish_Payload_WritesPubLine()
    {
        var destination = new byte[64];
        int written = NatsProtocol.FormatPublish(destination, "dm.1"u8, "hello"u8);
        Assert.Equal("PUB dm.1 5\r\nhello\r\n", Encoding.ASCII.GetString(destination, 0, written));
    }
}
