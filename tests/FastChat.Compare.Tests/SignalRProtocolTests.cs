using System.Text;
using FastChat.Compare.Targets;

namespace FastChat.Compare.Tests;

public sealed class SignalRProtocolTests
{
    private static int Drain(ReadOnlySpan<byte> input, List<string> frames)
    {
        int total = 0;
        var scratch = new byte[input.Length + 16];
        while (SignalRProtocol.TryReadRecord(input[total..], SignalRProtocol.DefaultMaxRecord, out ReadOnlySpan<byte> record, out int consumed))
        {
            total += consumed;
            if (frames.Count == 0)
            {
                frames.Add("handshake:" + (SignalRProtocol.ParseHandshakeResponse(record) ?? "ok"));
                continue;
            }

            HubMessage message = SignalRProtocol.Parse(record, scratch);
            frames.Add($"{message.Type}|{message.IsMessageTarget}|{message.Target}|{message.InvocationId}|{message.Error}|{(message.HasPayload ? Convert.ToHexString(message.Payload) : "-")}");
        }

        return total;
    }

    /// <summary>Guards the receive loop: records split anywhere across WebSocket reads parse the same, and escaped base64 ('+' as \u002B, as System.Text.Json writes it) decodes to the bytes sent.</summary>
    [Fact]
    public void Records_SplitAtEveryByte_ParseTheSameMessages()
    {
        byte[] wire = SplitFeeding.Bytes(
            "{}\u001e" +
            "{\"type\":1,\"target\":\"m\",\"arguments\":[\"\\u002B/\\u002B/AQ==\"]}\u001e" +
            "{\"type\":6}\u001e" +
            "{\"type\":3,\"invocationId\":\"1\",\"result\":null}\u001e" +
            "{\"type\":1,\"target\":\"other\",\"arguments\":[42,{\"a\":[1,2]}]}\u001e" +
            "{\"arguments\":[\"aGk=\",\"x\"],\"target\":\"m\",\"type\":1}\u001e");
        string[] expected =
        [
            "handshake:ok",
            "Invocation|True||||FBFFBF01",
            "Ping|False||||-",
            "Completion|False||1||-",
            "Invocation|False|other|||-",
            "Invocation|True||||6869",
        ];

        SplitFeeding.AssertSplitInvariant(wire, Drain, expected);
    }

    [Fact]
    public void ParseHandshakeResponse_Error_ReturnsIt()
    {
        Assert.Equal("Requested protocol 'json' is not available.", SignalRProtocol.ParseHandshakeResponse("{\"error\":\"Requested protocol 'json' is not available.\"}"u8));
        Assert.Null(SignalRProtocol.ParseHandshakeResponse("{}"u8));
    }

    [Fact]
    public void Parse_CompletionWithError_ReportsIt()
    {
        HubMessage message = SignalRProtocol.Parse("{\"type\":3,\"invocationId\":\"7\",\"error\":\"boom\"}"u8, new byte[64]);
        Assert.Equal(HubMessageType.Completion, message.Type);
        Assert.Equal("7", message.InvocationId);
        Assert.Equal("boom", message.Error);
    }

    /// <summary>Guards against half-understood input from the hub: each malformed record is a clear InvalidDataException.</summary>
    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("{\"type\":1,\"target\":\"m\",\"arguments\":\"x\"}", "not an array")]
    [InlineData("{\"type\":1,\"target\":\"m\",\"arguments\":[\"***\"]}", "not valid base64")]
    [InlineData("{\"target\":\"m\"}", "no type")]
    [InlineData("{\"type\":\"one\"}", "wrong type")]
    [InlineData("{\"type\":1", "not valid JSON")]
    public void Parse_HostileRecord_ThrowsInvalidData(string record, string expected)
    {
        byte[] bytes = SplitFeeding.Bytes(record);
        var ex = Assert.Throws<InvalidDataException>(() => SignalRProtocol.Parse(bytes, new byte[bytes.Length + 16]));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards against buffering without end: more than the maximum without a separator is refused.</summary>
    [Fact]
    public void TryReadRecord_NoSeparatorPastMaximum_Throws()
    {
        var ex = Assert.Throws<InvalidDataException>(() => SignalRProtocol.TryReadRecord(new byte[101], 100, out _, out _));
        Assert.Contains("longer than 100", ex.Message, StringComparison.Ordinal);
        Assert.False(SignalRProtocol.TryReadRecord(new byte[100], 100, out _, out _));
    }

    [Fact]
    public void FormatPublish_Payload_WritesInvocationWithBase64()
    {
        var destination = new byte[SignalRProtocol.PublishSize(4, 5)];
        int written = SignalRProtocol.FormatPublish(destination, "dm.1"u8, "hello"u8);
        Assert.Equal("{\"type\":1,\"target\":\"Publish\",\"arguments\":[\"dm.1\",\"aGVsbG8=\"]}\u001e", Encoding.ASCII.GetString(destination, 0, written));
    }

    [Theory]
    [InlineData("dm.1", true)]
    [InlineData("group-ab_1", true)]
    [InlineData("a\"b", false)]
    [InlineData("", false)]
    public void IsPlainTopic_Topic_TellsJsonSafeNames(string topic, bool plain) =>
        Assert.Equal(plain, SignalRProtocol.IsPlainTopic(Encoding.UTF8.GetBytes(topic)));
}
