using System.Buffers;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Protocol.Tests.Framing;

namespace FastChat.Protocol.Tests.Messages;

/// <summary>
/// Malformed and hostile payloads, each with the exact exception and the words its message must contain. Every case
/// guards the rule that decoding raises nothing but <see cref="ProtocolViolationException"/>, with a message that names
/// the offending element, whatever the bytes; each is run on contiguous and on one-byte-per-segment input.
/// </summary>
public class HostilePayloadTests
{
    private const string Id16 = "000102030405060708090a0b0c0d0e0f";

    private static readonly Dictionary<string, Func<ReadOnlySequence<byte>, object>> s_deserializers = new()
    {
        ["Ack"] = payload => MessageSerializer.Deserialize<Ack>(payload, out _),
        ["DirectMessage"] = payload => MessageSerializer.Deserialize<DirectMessage>(payload, out _),
        ["Hello"] = payload => MessageSerializer.Deserialize<Hello>(payload, out _),
        ["Ping"] = payload => MessageSerializer.Deserialize<Ping>(payload, out _),
        ["Ok"] = payload => MessageSerializer.Deserialize<Ok>(payload, out _),
        ["GroupMembers"] = payload => MessageSerializer.Deserialize<GroupMembers>(payload, out _),
        ["ClusterStatus"] = payload => MessageSerializer.Deserialize<ClusterStatus>(payload, out _),
        ["Presence"] = payload => MessageSerializer.Deserialize<Presence>(payload, out _),
        ["LoadReport"] = payload => MessageSerializer.Deserialize<LoadReport>(payload, out _),
        ["Error"] = payload => MessageSerializer.Deserialize<Error>(payload, out _),
    };

    public static TheoryData<string, string, string, string> Cases
    {
        get
        {
            string directMessage = Convert.ToHexStringLower(TestPayloads.Of(42, TestPayloads.SampleDirectMessage()));
            string ack = Convert.ToHexStringLower(TestPayloads.Of(7, new Ack()));
            var cases = new TheoryData<string, string, string, string>
            {
                // Not a message array at all.
                { "payload is a string", "a3616263", "DirectMessage", "reading its header failed" },
                { "payload is a map", "80", "DirectMessage", "reading its header failed" },
                { "payload is empty", string.Empty, "DirectMessage", "reading its header failed" },
                { "payload is the never-used code", "c1", "DirectMessage", "reading its header failed" },
                { "array count beyond the data", "ddffffffff2200", "DirectMessage", "reading its header failed" },
                { "array of 2 with one element", "9222", "DirectMessage", "reading its header failed" },
                { "empty array", "90", "DirectMessage", "at least 2 elements (opcode, requestId); got 0" },
                { "array of one element", "9122", "DirectMessage", "at least 2 elements (opcode, requestId); got 1" },

                // Header elements.
                { "opcode as string", "92a14100", "Ack", "Reading 'opcode' as UInt8 failed" },
                { "opcode 256", "92cd010000", "Ack", "Reading 'opcode' as UInt8 failed" },
                { "opcode negative", "92ff00", "Ack", "Reading 'opcode' as UInt8 failed" },
                { "opcode as float", "92cb400000000000000000", "Ack", "Reading 'opcode' as UInt8 failed" },
                { "requestId negative", "9222ff", "Ack", "Reading 'requestId' as UInt32 failed" },
                { "requestId above uint32", "9222cf0000000100000000", "Ack", "Reading 'requestId' as UInt32 failed" },
                { "requestId nil", "9222c0", "Ack", "Reading 'requestId' as UInt32 failed" },
                { "requestId as string", "9222a131", "Ack", "Reading 'requestId' as UInt32 failed" },
                { "opcode of another message", "93030100", "Ack", "Expected Ack (opcode 0x22) but the message's opcode is 0x03." },

                // MessageId.
                { "MessageId of 15 bytes", "932201c40f" + Id16[..30], "Ack", "Reading 'Ack.id' as MessageId failed: a message id is a bin of 16 bytes; got 15." },
                { "MessageId of 17 bytes", "932201c411" + Id16 + "ff", "Ack", "Reading 'Ack.id' as MessageId failed: a message id is a bin of 16 bytes; got 17." },
                { "MessageId empty", "932201c400", "Ack", "a message id is a bin of 16 bytes; got 0." },
                { "MessageId nil", "932201c0", "Ack", "Reading 'Ack.id' as MessageId failed: found nil" },
                { "MessageId as string", "932201b0" + Id16, "Ack", "Reading 'Ack.id' as MessageId failed" },
                { "MessageId length beyond the data", "932201c410" + Id16[..20], "Ack", "Reading 'Ack.id' as MessageId failed" },

                // Wrong field types.
                { "recipient as integer", DirectMessageWith(recipient: "05"), "DirectMessage", "Reading 'DirectMessage.recipient' as String failed" },
                { "sender as binary", DirectMessageWith(sender: "c40161"), "DirectMessage", "Reading 'DirectMessage.sender' as String failed" },
                { "sentAt as integer", DirectMessageWith(sentAt: "05"), "DirectMessage", "Reading 'DirectMessage.sentAt' as Timestamp failed" },
                { "sentAt as another extension type", DirectMessageWith(sentAt: "d60500000000"), "DirectMessage", "Reading 'DirectMessage.sentAt' as Timestamp failed" },
                { "sentAt timestamp of 5 bytes", DirectMessageWith(sentAt: "c705ff0000000000"), "DirectMessage", "Reading 'DirectMessage.sentAt' as Timestamp failed" },
                { "body as string", DirectMessageWith(body: "a3616263"), "DirectMessage", "Reading 'DirectMessage.body' as Binary failed" },
                { "role 256", "96010001cd010090a0", "Hello", "Reading 'Hello.role' as PeerRole failed" },
                { "features element not a string", "960100010191c3a0", "Hello", "Reading 'Hello.features' as String failed" },
                { "features not an array", "9601000101c3a0", "Hello", "Reading 'Hello.features' as Array failed" },
                { "protocolVersion above int32", "960100ce800000000190a0", "Hello", "Reading 'Hello.protocolVersion' as Int32 failed" },
                { "ping timestamp as float", "930301cb3ff0000000000000", "Ping", "Reading 'Ping.timestamp' as Int64 failed" },
                { "ping timestamp above int64", "930301cfffffffffffffffff", "Ping", "Reading 'Ping.timestamp' as Int64 failed" },
                { "ping timestamp never-used code", "930301c1", "Ping", "Reading 'Ping.timestamp' as Int64 failed" },
                { "online as integer", "956000a16101a0", "Presence", "Reading 'Presence.online' as Boolean failed" },
                { "cpu as string", "967100a17300a13000", "LoadReport", "Reading 'LoadReport.cpu' as Double failed" },
                { "error code as string", "940200a131a0", "Error", "Reading 'Error.code' as Int32 failed" },
                { "members count beyond the data", "963500a167a16100dcffff", "GroupMembers", "Reading 'GroupMembers.members' as Array failed" },
                { "server status not an array", "9375009105", "ClusterStatus", "Reading 'ServerStatus' as Array failed" },

                // Invalid UTF-8 (strict: never replaced by U+FFFD).
                { "invalid UTF-8 in a name", DirectMessageWith(recipient: "a2c328"), "DirectMessage", "Reading 'DirectMessage.recipient' as String failed: The string is not valid UTF-8." },
                { "overlong UTF-8 in a name", DirectMessageWith(recipient: "a2c080"), "DirectMessage", "The string is not valid UTF-8." },
                { "lone surrogate in text", "94020014a3eda080", "Error", "Reading 'Error.message' as String failed: The string is not valid UTF-8." },
                { "invalid UTF-8 in a long name", DirectMessageWith(recipient: "d941" + new string('6', 128) + "ff"), "DirectMessage", "The string is not valid UTF-8." },

                // Truncation and trailing data.
                { "truncated in the recipient", directMessage[..((directMessage.IndexOf("a3626f62", StringComparison.Ordinal) / 2 + 2) * 2)], "DirectMessage", "Reading 'DirectMessage.recipient' as String failed" },
                { "truncated in the body", directMessage[..^4], "DirectMessage", "Reading 'DirectMessage.body' as Binary failed" },
                { "truncated before the body", directMessage[..(directMessage.LastIndexOf("c405", StringComparison.Ordinal))], "DirectMessage", "Reading 'DirectMessage.body' as Binary failed" },
                { "trailing byte after the array", ack + "00", "Ack", "1 byte(s) follow the Ack message array in the payload." },
                { "trailing array after the array", ack + "9100", "Ack", "2 byte(s) follow the Ack message array" },
                { "fewer fields than version 1", "922200", "Ack", "Ack has 0 field(s); protocol version 1 requires 1." },

                // Nesting.
                { "deeply nested trailing field", "930500" + string.Concat(Enumerable.Repeat("91", 100)) + "c0", "Ok", "Skipping the 1 unknown trailing field(s) of Ok failed" },
            };
            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Deserialize_HostilePayload_ThrowsProtocolViolationNamingTheProblem(string name, string hex, string type, string expectedMessage)
    {
        byte[] payload = Convert.FromHexString(hex);

        ProtocolViolationException ex = Assert.Throws<ProtocolViolationException>(() => s_deserializers[type](new ReadOnlySequence<byte>(payload)));

        Assert.True(ex.Message.Contains(expectedMessage, StringComparison.Ordinal), $"{name}: '{ex.Message}' does not contain '{expectedMessage}'.");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Deserialize_HostilePayloadOneBytePerSegment_ThrowsTheSameException(string name, string hex, string type, string expectedMessage)
    {
        byte[] payload = Convert.FromHexString(hex);

        ProtocolViolationException ex = Assert.Throws<ProtocolViolationException>(() => s_deserializers[type](TestSequences.OneBytePerSegment(payload)));

        Assert.True(ex.Message.Contains(expectedMessage, StringComparison.Ordinal), $"{name}: '{ex.Message}' does not contain '{expectedMessage}'.");
    }

    /// <summary>Guards the wrapping: the codec's own exception stays reachable as the inner exception for diagnostics.</summary>
    [Fact]
    public void Deserialize_WrongFieldType_KeepsTheCodecExceptionAsInner()
    {
        ProtocolViolationException ex = Assert.Throws<ProtocolViolationException>(
            () => MessageSerializer.Deserialize<Ping>(new ReadOnlySequence<byte>(Convert.FromHexString("930301a0")), out _));

        Assert.IsType<MessagePackSerializationException>(ex.InnerException);
    }

    // A DirectMessage payload [0x20, 42, id, sender, recipient, sentAt, body] with one element replaced (hex).
    private static string DirectMessageWith(string? sender = null, string? recipient = null, string? sentAt = null, string? body = null) =>
        "97202a" + "c410" + Id16
        + (sender ?? "a0")
        + (recipient ?? "a3626f62")
        + (sentAt ?? "d6ff00000000")
        + (body ?? "c40568656c6c6f");
}
