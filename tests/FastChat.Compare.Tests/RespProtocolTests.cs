using System.Text;
using FastChat.Compare.Targets;

namespace FastChat.Compare.Tests;

public sealed class RespProtocolTests
{
    private const int MaxBulk = 2 * 1024 * 1024;

    private static string Describe(RespValue value) => value.Type switch
    {
        RespType.Integer => $":{value.Integer}",
        RespType.BulkString when value.IsNull => "$null",
        _ => $"{value.Type}:{Encoding.UTF8.GetString(value.Bytes)}",
    };

    private static int Drain(ReadOnlySpan<byte> input, List<string> frames)
    {
        int total = 0;
        while (RespProtocol.TryRead(input[total..], MaxBulk, out RespReply reply, out int consumed))
        {
            total += consumed;
            if (reply.Value.Type != RespType.Array)
            {
                frames.Add(Describe(reply.Value));
                continue;
            }

            var text = new StringBuilder($"*{reply.Count}");
            if (reply.Count > 0)
            {
                text.Append(' ').Append(Describe(reply.First));
            }

            if (reply.Count > 1)
            {
                text.Append(' ').Append(Describe(reply.Second));
            }

            if (reply.Count > 2)
            {
                text.Append(' ').Append(Describe(reply.Third));
            }

            if (reply.Count > 3)
            {
                text.Append(' ').Append(Describe(reply.Fourth));
            }

            frames.Add(text.ToString());
        }

        return total;
    }

    /// <summary>Guards the receive loop's contract: replies split anywhere across reads (a bulk string holding CRLF too) parse the same.</summary>
    [Fact]
    public void TryRead_SplitAtEveryByte_ParsesTheSameReplies()
    {
        byte[] wire = SplitFeeding.Bytes(
            "*3\r\n$9\r\nsubscribe\r\n$4\r\ndm.1\r\n:1\r\n" +
            "*3\r\n$7\r\nmessage\r\n$4\r\ndm.1\r\n$6\r\nab\r\ncd\r\n" +
            ":2\r\n" +
            "+OK\r\n" +
            "$-1\r\n" +
            "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\nx\r\n$0\r\n\r\n" +
            "-ERR wrong type\r\n");
        string[] expected =
        [
            "*3 BulkString:subscribe BulkString:dm.1 :1",
            "*3 BulkString:message BulkString:dm.1 BulkString:ab\r\ncd",
            ":2",
            "SimpleString:OK",
            "$null",
            "*4 BulkString:pmessage BulkString:* BulkString:x BulkString:",
            "Error:ERR wrong type",
        ];

        SplitFeeding.AssertSplitInvariant(wire, Drain, expected);
    }

    /// <summary>Guards against trusting the server's lengths and shapes: every bad length, type or shape is a clear error, before any wait.</summary>
    [Theory]
    [InlineData("$99999999999\r\n", "bulk string length")]
    [InlineData("$-2\r\n", "bulk string length")]
    [InlineData("$3x\r\n", "bulk string length")]
    [InlineData("*5\r\n", "array length")]
    [InlineData("*1\r\n*1\r\n:1\r\n", "nested")]
    [InlineData("?x\r\n", "Unknown RESP type")]
    [InlineData("$3\r\nabcXY", "not followed by CRLF")]
    [InlineData(":12a\r\n", "integer")]
    [InlineData("\r\n", "empty")]
    public void TryRead_HostileInput_ThrowsInvalidData(string input, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => RespProtocol.TryRead(SplitFeeding.Bytes(input), MaxBulk, out _, out _));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards against buffering without end: a line that never ends is refused once past the limit.</summary>
    [Fact]
    public void TryRead_EndlessLine_Throws()
    {
        byte[] endless = SplitFeeding.Bytes("+" + new string('x', RespProtocol.MaxLine + 8));
        var ex = Assert.Throws<InvalidDataException>(() => RespProtocol.TryRead(endless, MaxBulk, out _, out _));
        Assert.Contains("longer than", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatPublish_Payload_WritesRespArray()
    {
        var destination = new byte[64];
        int written = RespProtocol.FormatPublish(destination, "dm.1"u8, "hello"u8);
        Assert.Equal("*3\r\n$7\r\nPUBLISH\r\n$4\r\ndm.1\r\n$5\r\nhello\r\n", Encoding.ASCII.GetString(destination, 0, written));
    }
}
