using System.Text;
using FastChat.Client.Secure.Internal;

namespace FastChat.Client.Tests.Secure;

/// <summary>The message payload format (docs/security.md §13) and the received-file name rules, without a cluster.</summary>
public sealed class SecurePayloadAndNameTests
{
    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("ça va? 👋 \u4f60\u597d")]
    public void TextPayload_RoundTrips_WithTypeByteFirst(string text)
    {
        byte[] payload = MessagePayload.EncodeText(text);

        Assert.Equal(0x01, payload[0]);
        Assert.Equal(Encoding.UTF8.GetBytes(text), payload[1..]);
        Assert.True(MessagePayload.TryDecodeText(payload, out string? decoded, out string? problem));
        Assert.Equal(text, decoded);
        Assert.Null(problem);
    }

    /// <summary>Guards that a payload that is not well-formed text is refused with a reason rather than shown garbled.</summary>
    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { 0x02, 0x41 }, "0x02")]
    [InlineData(new byte[] { 0x01, 0xff, 0xfe }, "UTF-8")]
    [InlineData(new byte[] { 0x01, 0xed, 0xa0, 0x80 }, "UTF-8")]
    public void TextPayload_Malformed_RefusedWithReason(byte[] payload, string reason)
    {
        Assert.False(MessagePayload.TryDecodeText(payload, out string? text, out string? problem));
        Assert.Null(text);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TextPayload_UnpairedSurrogate_RefusedWhenSending()
    {
        Assert.ThrowsAny<ArgumentException>(() => MessagePayload.EncodeText("broken \ud800 text"));
    }

    /// <summary>Guards received files against path traversal, hidden or reserved names, disguised extensions and overlong names.</summary>
    [Theory]
    [InlineData("photo.png", "photo.png")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("..\\..\\Windows\\system.ini", "system.ini")]
    [InlineData("/absolute/path/report.pdf", "report.pdf")]
    [InlineData(".bashrc", "bashrc")]
    [InlineData("..", "file")]
    [InlineData("", "file")]
    [InlineData("   ", "file")]
    [InlineData("dir/", "file")]
    [InlineData("invoice\u202Efdp.exe", "invoicefdp.exe")]
    [InlineData("bell\u0007\u001b[31mred.txt", "bell[31mred.txt")]
    [InlineData("a:b*c?.txt", "a_b_c_.txt")]
    [InlineData("CON", "_CON")]
    [InlineData("nul.txt", "_nul.txt")]
    [InlineData("com1.tar.gz", "_com1.tar.gz")]
    [InlineData("console.txt", "console.txt")]
    [InlineData("trailing. . ", "trailing")]
    public void SafeFileName_Sanitize_KeepsOnlyASafeLastComponent(string name, string expected)
    {
        Assert.Equal(expected, SafeFileName.Sanitize(name));
    }

    [Fact]
    public void SafeFileName_LongName_ShortenedKeepingExtension()
    {
        string safe = SafeFileName.Sanitize(new string('é', 300) + ".jpeg");

        Assert.EndsWith(".jpeg", safe, StringComparison.Ordinal);
        Assert.True(Encoding.UTF8.GetByteCount(safe) <= 200, $"{Encoding.UTF8.GetByteCount(safe)} bytes");
        Assert.StartsWith("ééé", safe, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("photo.png", 0, "photo.png")]
    [InlineData("photo.png", 1, "photo (1).png")]
    [InlineData("README", 2, "README (2)")]
    [InlineData("archive.tar.gz", 3, "archive.tar (3).gz")]
    public void SafeFileName_Numbered_InsertsTheNumberBeforeTheExtension(string name, int number, string expected)
    {
        Assert.Equal(expected, SafeFileName.Numbered(name, number));
    }
}
