using FastChat.Protocol.Messages;

namespace FastChat.Protocol.Tests.Messages;

public class MessageIdTests
{
    private static readonly byte[] Bytes = Convert.FromHexString("00112233445566778899aabbccddeeff");

    [Fact]
    public void ToString_Bytes_Is32LowercaseHexDigitsInWireOrder()
    {
        Assert.Equal("00112233445566778899aabbccddeeff", new MessageId(Bytes).ToString());
    }

    [Fact]
    public void TryWriteBytes_RoundTripsTheConstructorBytes()
    {
        Span<byte> destination = stackalloc byte[17];

        Assert.True(new MessageId(Bytes).TryWriteBytes(destination));

        Assert.True(destination[..16].SequenceEqual(Bytes));
        Assert.False(new MessageId(Bytes).TryWriteBytes(stackalloc byte[15]));
        Assert.Equal(Bytes, new MessageId(Bytes).ToByteArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(17)]
    public void Constructor_WrongLength_ThrowsArgumentException(int length)
    {
        Assert.Throws<ArgumentException>(() => new MessageId(new byte[length]));
    }

    [Fact]
    public void Parse_EitherCase_RoundTrips()
    {
        var id = new MessageId(Bytes);

        Assert.Equal(id, MessageId.Parse("00112233445566778899aabbccddeeff"));
        Assert.Equal(id, MessageId.Parse("00112233445566778899AABBCCDDEEFF"));
        Assert.Equal(id, MessageId.Parse(id.ToString().AsSpan(), provider: null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("00112233445566778899aabbccddeef")]
    [InlineData("00112233445566778899aabbccddeeff0")]
    [InlineData("00112233445566778899aabbccddeefg")]
    [InlineData("0011223344556677-899aabbccddeeff")]
    [InlineData(" 0112233445566778899aabbccddeeff")]
    public void TryParse_Malformed_ReturnsFalse(string text)
    {
        Assert.False(MessageId.TryParse(text, out MessageId id));
        Assert.Equal(default, id);
        Assert.Throws<FormatException>(() => MessageId.Parse(text));
    }

    [Fact]
    public void TryParse_Null_ReturnsFalse()
    {
        Assert.False(MessageId.TryParse((string?)null, out _));
    }

    [Fact]
    public void NewId_TwoCalls_AreDistinctAndNotEmpty()
    {
        MessageId first = MessageId.NewId();
        MessageId second = MessageId.NewId();

        Assert.NotEqual(first, second);
        Assert.False(first.IsEmpty);
        Assert.True(default(MessageId).IsEmpty);
        Assert.Equal(MessageId.Empty, default);
    }

    [Fact]
    public void Equality_SameBytes_IsEqualWithSameHash()
    {
        var a = new MessageId(Bytes);
        var b = new MessageId((byte[])Bytes.Clone());
        byte[] other = (byte[])Bytes.Clone();
        other[15] ^= 1;
        var c = new MessageId(other);

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != c);
        Assert.False(a.Equals((object)c));
        Assert.True(a.Equals((object)b));
        Assert.False(a.Equals("00112233445566778899aabbccddeeff"));
    }

    [Fact]
    public void TryFormat_ShortDestination_ReturnsFalse()
    {
        var id = new MessageId(Bytes);
        Span<char> chars = stackalloc char[32];

        Assert.False(id.TryFormat(chars[..31], out int none));
        Assert.Equal(0, none);
        Assert.True(id.TryFormat(chars, out int written));
        Assert.Equal(32, written);
        Assert.Equal(id.ToString(), chars.ToString());
        Assert.Equal(id.ToString(), $"{id}");
    }

    /// <summary>Guards the struct's purpose: ids are compared and hashed per message, so that must not allocate.</summary>
    [Fact]
    public void EqualsAndGetHashCode_AllocateNothing()
    {
        var a = new MessageId(Bytes);
        var b = new MessageId(Bytes);
        Span<char> chars = stackalloc char[32];
        _ = a.Equals(b);
        _ = a.GetHashCode();
        a.TryFormat(chars, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int hash = 0;
        int equal = 0;
        for (int i = 0; i < 1000; i++)
        {
            hash ^= a.GetHashCode();
            equal += a.Equals(b) ? 1 : 0;
            equal += a == b ? 1 : 0;
            a.TryFormat(chars, out _);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(2000, equal);
        Assert.Equal(0, hash);
        Assert.Equal(0, allocated);
    }
}
