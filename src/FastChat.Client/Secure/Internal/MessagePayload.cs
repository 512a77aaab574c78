using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FastChat.Client.Secure.Internal;

/// <summary>
/// The plaintext inside a direct or group message envelope: a content-type byte, then the content
/// (docs/security.md §13). Version 1 defines one type, text.
/// </summary>
internal static class MessagePayload
{
    /// <summary>Content type 0x01: the rest of the plaintext is UTF-8 text (possibly empty).</summary>
    public const byte Text = 0x01;

    // Strict both ways: unpaired surrogates are refused when sending and invalid bytes when receiving, so what is
    // shown is exactly what was signed.
    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The plaintext length of a text message.</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> is not valid Unicode (an unpaired surrogate).</exception>
    public static int GetTextLength(string text) => 1 + s_strict.GetByteCount(text);

    /// <summary>Encodes a text message.</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> is not valid Unicode (an unpaired surrogate).</exception>
    public static byte[] EncodeText(string text)
    {
        byte[] payload = new byte[GetTextLength(text)];
        payload[0] = Text;
        s_strict.GetBytes(text, payload.AsSpan(1));
        return payload;
    }

    /// <summary>Decodes a text message, or says why the plaintext is not one.</summary>
    public static bool TryDecodeText(ReadOnlySpan<byte> plaintext, [NotNullWhen(true)] out string? text, [NotNullWhen(false)] out string? problem)
    {
        text = null;
        if (plaintext.IsEmpty)
        {
            problem = "The message is empty: it has no content type.";
            return false;
        }

        if (plaintext[0] != Text)
        {
            problem = $"The message has content type 0x{plaintext[0]:x2}, which this client does not know (it knows 0x01, text).";
            return false;
        }

        try
        {
            text = s_strict.GetString(plaintext[1..]);
        }
        catch (DecoderFallbackException)
        {
            problem = "The message's text is not valid UTF-8.";
            return false;
        }

        problem = null;
        return true;
    }
}
