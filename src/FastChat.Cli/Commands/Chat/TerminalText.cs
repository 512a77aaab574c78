using System.Globalization;
using System.Text;
using Spectre.Console;

namespace FastChat.Cli.Commands.Chat;

/// <summary>Text from other people, made safe and measured for the terminal.</summary>
internal static class TerminalText
{
    // Enough colours to tell the people of a conversation apart, none too dark on a dark background or too light on a
    // light one, and none of the colours the feedback uses (red, yellow, green, grey).
    private static readonly string[] s_palette =
    [
        "deepskyblue1", "orchid", "darkorange", "mediumspringgreen", "hotpink", "lightslateblue", "gold3", "turquoise2",
        "salmon1", "steelblue1", "plum2", "springgreen2",
    ];

    /// <summary>
    /// Escapes <paramref name="text"/> for Spectre markup and replaces what could steer the terminal: a message is the
    /// sender's to choose, and an escape sequence in it could otherwise move the cursor, rewrite earlier lines (a forged
    /// "✓✓ delivered" or a fake prompt), or change the window title. Line breaks become "↵" so one message stays one entry.
    /// </summary>
    public static string Safe(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        StringBuilder? builder = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement = c switch
            {
                '\n' => " ↵ ",
                '\r' => string.Empty,
                '\t' => "    ",

                // C0 and C1 controls, DEL, and the bidirectional overrides that can make text read differently from
                // how it is stored (a file name that seems to end in .png).
                _ when char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' => "\uFFFD",
                _ => null,
            };

            if (replacement is null)
            {
                builder?.Append(c);
                continue;
            }

            builder ??= new StringBuilder(text.Length + 8).Append(text, 0, i);
            builder.Append(replacement);
        }

        return Markup.Escape(builder?.ToString() ?? text);
    }

    /// <summary>A stable colour per user name, so a person keeps the same colour across messages and sessions.</summary>
    public static string ColorOf(string userName)
    {
        // FNV-1a: string.GetHashCode is randomised per process.
        uint hash = 2166136261;
        foreach (char c in userName)
        {
            hash = (hash ^ c) * 16777619;
        }

        return s_palette[hash % (uint)s_palette.Length];
    }

    /// <summary>A user name in its colour, as markup.</summary>
    public static string User(string userName) => $"[bold {ColorOf(userName)}]{Markup.Escape(userName)}[/]";

    /// <summary>A group name as markup.</summary>
    public static string Group(string group) => $"[bold blue]#{Markup.Escape(group)}[/]";

    /// <summary>A conversation (a user or a group) as markup.</summary>
    public static string Conversation(Conversation conversation) =>
        conversation.IsGroup ? Group(conversation.Name) : User(conversation.Name);

    /// <summary>The first 8 hex digits of a message id: enough to tell messages apart on screen.</summary>
    public static string ShortId(FastChat.Protocol.Messages.MessageId id) => id.ToString()[..8];

    /// <summary>A byte count for people: 980 B, 12.3 KB, 4.0 MB.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1000 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1_000_000 => (bytes / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB",
        < 1_000_000_000 => (bytes / 1_000_000.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1_000_000_000.0).ToString("0.0", CultureInfo.InvariantCulture) + " GB",
    };

    /// <summary>When a message was sent, in local time: the time alone for today, with the date otherwise.</summary>
    public static string Time(DateTime sentAt)
    {
        DateTime local = sentAt.Kind == DateTimeKind.Local ? sentAt : DateTime.SpecifyKind(sentAt, DateTimeKind.Utc).ToLocalTime();
        string text = local.Date == DateTime.Now.Date
            ? local.ToString("HH:mm", CultureInfo.InvariantCulture)
            : local.ToString("MMM d HH:mm", CultureInfo.InvariantCulture);
        return $"[grey]{text}[/]";
    }

    /// <summary>How many terminal cells <paramref name="text"/> takes (wide East Asian characters and emoji take two, combining marks none).</summary>
    public static int Width(ReadOnlySpan<char> text)
    {
        int width = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            width += Width(rune);
        }

        return width;
    }

    /// <summary>The end of <paramref name="text"/> that fits in <paramref name="cells"/> cells, from a whole character on.</summary>
    public static ReadOnlySpan<char> Tail(ReadOnlySpan<char> text, int cells)
    {
        int start = text.Length;
        int width = 0;
        while (start > 0)
        {
            int previous = start - 1;
            if (previous > 0 && char.IsLowSurrogate(text[previous]) && char.IsHighSurrogate(text[previous - 1]))
            {
                previous--;
            }

            Rune.DecodeFromUtf16(text[previous..start], out Rune rune, out _);
            int next = width + Width(rune);
            if (next > cells)
            {
                break;
            }

            width = next;
            start = previous;
        }

        return text[start..];
    }

    private static int Width(Rune rune)
    {
        int value = rune.Value;
        UnicodeCategory category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format)
        {
            return 0;
        }

        bool wide = value is >= 0x1100 and <= 0x115F // Hangul Jamo
            or >= 0x2E80 and <= 0x303E // CJK radicals, punctuation
            or >= 0x3041 and <= 0x33FF // kana, CJK symbols
            or >= 0x3400 and <= 0x4DBF // CJK extension A
            or >= 0x4E00 and <= 0x9FFF // CJK unified ideographs
            or >= 0xA000 and <= 0xA4CF // Yi
            or >= 0xAC00 and <= 0xD7A3 // Hangul syllables
            or >= 0xF900 and <= 0xFAFF // CJK compatibility ideographs
            or >= 0xFE30 and <= 0xFE4F // CJK compatibility forms
            or >= 0xFF00 and <= 0xFF60 // full-width forms
            or >= 0xFFE0 and <= 0xFFE6
            or >= 0x1F300 and <= 0x1F64F // pictographs, emoticons
            or >= 0x1F900 and <= 0x1F9FF // supplemental pictographs
            or >= 0x20000 and <= 0x3FFFD; // CJK extensions B and later
        return wide ? 2 : 1;
    }
}
