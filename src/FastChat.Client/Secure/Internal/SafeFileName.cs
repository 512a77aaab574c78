using System.Globalization;
using System.Text;

namespace FastChat.Client.Secure.Internal;

/// <summary>
/// Turns the file name a sender chose (signed, but the sender's word) into a name that is safe to create in the
/// download folder on any platform: no folders, no control or invisible formatting characters, nothing hidden,
/// reserved or too long, and never an existing file's name.
/// </summary>
internal static class SafeFileName
{
    /// <summary>The name used when nothing of the sender's is left.</summary>
    public const string Fallback = "file";

    // Common file systems allow 255 bytes per name; leave room for " (9999)" and the download's temporary suffix.
    private const int MaxUtf8Length = 200;

    // An extension longer than this is more likely part of the name; it is not preserved when shortening.
    private const int MaxExtensionLength = 16;

    // Characters no Windows file name may hold; '/' and NUL also cover Unix. Replaced, so "a:b" stays readable.
    private const string Forbidden = "<>:\"/\\|?*";

    private static readonly string[] s_reservedStems =
    [
        "CON", "PRN", "AUX", "NUL",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];

    /// <summary>The safe form of a sender's file name.</summary>
    public static string Sanitize(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return Fallback;
        }

        // Only the last path component counts, whichever separator the sender's platform uses.
        int slash = name.AsSpan().LastIndexOfAny('/', '\\');
        ReadOnlySpan<char> last = slash >= 0 ? name.AsSpan(slash + 1) : name.AsSpan();

        var builder = new StringBuilder(last.Length);
        foreach (Rune rune in last.EnumerateRunes())
        {
            UnicodeCategory category = Rune.GetUnicodeCategory(rune);

            // Control characters would reach terminals; format characters (bidirectional overrides, zero-width
            // joiners) can disguise an extension ("photo\u202Egpj.exe"). Both go.
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned
                || rune == Rune.ReplacementChar)
            {
                continue;
            }

            builder.Append(rune.IsBmp && Forbidden.Contains((char)rune.Value, StringComparison.Ordinal) ? "_" : rune.ToString());
        }

        // No hidden files (leading dots), no "." or "..", and no trailing dots or spaces (Windows drops them).
        string safe = TrimDotsAndSpaces(builder.ToString());
        if (safe.Length == 0)
        {
            return Fallback;
        }

        // Windows reserves device names whatever follows the first dot ("con.tar.gz" too).
        int dot = safe.IndexOf('.', StringComparison.Ordinal);
        ReadOnlySpan<char> device = (dot < 0 ? safe.AsSpan() : safe.AsSpan(0, dot)).TrimEnd();
        string extension = Path.GetExtension(safe);
        foreach (string reserved in s_reservedStems)
        {
            if (device.Equals(reserved, StringComparison.OrdinalIgnoreCase))
            {
                safe = "_" + safe;
                break;
            }
        }

        return Shorten(safe, extension);
    }

    /// <summary>The <paramref name="number"/>-th alternative to a taken name: <c>stem (n).ext</c>; 0 is the name itself.</summary>
    public static string Numbered(string safeName, int number)
    {
        if (number == 0)
        {
            return safeName;
        }

        // Sanitized names never start with a dot, so an extension is never the whole name.
        string extension = Path.GetExtension(safeName);
        string stem = safeName[..^extension.Length];
        return string.Create(CultureInfo.InvariantCulture, $"{stem} ({number}){extension}");
    }

    private static string TrimDotsAndSpaces(string name)
    {
        int start = 0;
        int end = name.Length;
        while (start < end && (name[start] == '.' || char.IsWhiteSpace(name[start])))
        {
            start++;
        }

        while (end > start && (name[end - 1] == '.' || char.IsWhiteSpace(name[end - 1])))
        {
            end--;
        }

        return name[start..end];
    }

    private static string Shorten(string name, string extension)
    {
        if (Encoding.UTF8.GetByteCount(name) <= MaxUtf8Length)
        {
            return name;
        }

        string keep = extension.Length is > 0 and <= MaxExtensionLength && extension.Length < name.Length ? extension : string.Empty;
        int budget = MaxUtf8Length - Encoding.UTF8.GetByteCount(keep);
        var builder = new StringBuilder();
        int used = 0;
        foreach (Rune rune in name.AsSpan(0, name.Length - keep.Length).EnumerateRunes())
        {
            used += rune.Utf8SequenceLength;
            if (used > budget)
            {
                break;
            }

            builder.Append(rune.ToString());
        }

        string stem = TrimDotsAndSpaces(builder.ToString());
        return (stem.Length == 0 ? Fallback : stem) + keep;
    }
}
