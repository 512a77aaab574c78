using System.Globalization;

namespace FastChat.Cli.Commands.Chat;

/// <summary>Reads a line typed in the chat: a slash command, or text for the current conversation.</summary>
internal static class ChatCommandLine
{
    public const int DefaultHistoryLimit = 20;

    private const int MaxHistoryLimit = 1000;

    /// <summary>The commands and what they do, for /help (in the order shown).</summary>
    public static readonly (string Usage, string Description)[] Commands =
    [
        ("/to bob  ·  /to #team", "talk to bob or to the group team: plain lines then go there (/to alone: nobody)"),
        ("/dm USER TEXT", "send a direct message"),
        ("/file USER PATH", "send an image or file to a user (end-to-end encrypted)"),
        ("/group create GROUP", "create a group; you are its admin"),
        ("/group add GROUP USER", "add a member (admin only)"),
        ("/group remove GROUP USER", "remove a member (admin only); the group key changes"),
        ("/group leave GROUP", "leave a group"),
        ("/group send GROUP TEXT", "send a message to a group"),
        ("/gfile GROUP PATH", "send an image or file to a group"),
        ("/members GROUP", "list a group's members"),
        ("/history [USER|#GROUP] [N]", "the last N messages (default 20) of a conversation, from this machine's history"),
        ("/key USER", "show a user's key fingerprint, to compare with what they see"),
        ("/trust USER", "accept a user's changed key, once you checked the new fingerprint with them"),
        ("/menu  ·  F2", "menus for everything above"),
        ("/quit  ·  Ctrl-D", "sign out and leave"),
        ("Enter · Backspace · Esc/Ctrl-U · Ctrl-W · ↑/↓", "send · delete · clear the line · delete a word · earlier lines"),
    ];

    /// <summary>Reads one submitted line; <see langword="null"/> for a blank one.</summary>
    /// <param name="line">What was typed.</param>
    /// <param name="current">The conversation plain text goes to, if one was chosen.</param>
    public static ChatRequest? Parse(string line, Conversation? current)
    {
        string text = line.Trim();
        if (text.Length == 0)
        {
            return null;
        }

        if (text[0] != '/' || text.StartsWith("//", StringComparison.Ordinal))
        {
            // "//" sends a line that starts with a slash.
            string message = text[0] == '/' ? text[1..] : text;
            return current is { } to
                ? new SendText(to, message)
                : new Unusable("Nobody to send that to yet: choose a conversation with /to bob or /to #team, or use /dm bob TEXT.");
        }

        var words = new Words(text.AsSpan(1));
        string command = words.Next().ToLowerInvariant();
        switch (command)
        {
            case "dm" or "msg":
                {
                    string to = words.Next();
                    string message = words.Rest();
                    return Conversation.Parse(to) is { } target && message.Length > 0
                        ? new SendText(target, message)
                        : Usage("/dm USER TEXT");
                }

            case "group" or "g":
                return ParseGroup(ref words);

            case "file":
                {
                    string to = words.Next();
                    string path = Path(words.Rest());
                    return Conversation.Parse(to) is { } target && path.Length > 0 ? new SendFile(target, path) : Usage("/file USER PATH");
                }

            case "gfile":
                {
                    string group = GroupName(words.Next());
                    string path = Path(words.Rest());
                    return group.Length > 0 && path.Length > 0 ? new SendFile(new Conversation(group, IsGroup: true), path) : Usage("/gfile GROUP PATH");
                }

            case "members":
                {
                    string group = GroupName(words.Next());
                    return group.Length > 0 && words.IsEmpty ? new ShowMembers(group) : Usage("/members GROUP");
                }

            case "history" or "h":
                return ParseHistory(ref words, current);

            case "key" or "whois":
                {
                    string user = words.Next();
                    if (user.Length == 0 && current is { IsGroup: false } conversation)
                    {
                        user = conversation.Name;
                    }

                    return user.Length > 0 && user[0] != '#' && words.IsEmpty ? new ShowKey(user) : Usage("/key USER");
                }

            case "trust":
                {
                    string user = words.Next();
                    return user.Length > 0 && user[0] != '#' && words.IsEmpty ? new TrustKey(user) : Usage("/trust USER");
                }

            case "to":
                {
                    string to = words.Next();
                    if (to.Length == 0)
                    {
                        return new SwitchTo(null);
                    }

                    return Conversation.Parse(to) is { } target && words.IsEmpty ? new SwitchTo(target) : Usage("/to USER or /to #GROUP");
                }

            case "menu":
                return new OpenMenu();

            case "help" or "?":
                return new ShowHelp();

            case "quit" or "exit" or "logout" or "q":
                return new Quit();

            default:
                return new Unusable($"Unknown command /{command}: /help lists the commands.");
        }
    }

    /// <summary>A path as typed: surrounding quotes removed, <c>~</c> for the home folder.</summary>
    public static string Path(string typed)
    {
        string path = typed.Trim();
        if (path.Length >= 2 && (path[0] == '"' || path[0] == '\'') && path[^1] == path[0])
        {
            path = path[1..^1];
        }

        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + path[1..];
        }

        return path;
    }

    private static ChatRequest ParseGroup(ref Words words)
    {
        string action = words.Next().ToLowerInvariant();
        string group = GroupName(words.Next());
        switch (action)
        {
            case "create" or "new":
                return group.Length > 0 && words.IsEmpty ? new CreateGroup(group) : Usage("/group create GROUP");
            case "add":
                {
                    string member = words.Next();
                    return group.Length > 0 && member.Length > 0 && words.IsEmpty ? new AddMember(group, member) : Usage("/group add GROUP USER");
                }

            case "remove" or "kick":
                {
                    string member = words.Next();
                    return group.Length > 0 && member.Length > 0 && words.IsEmpty ? new RemoveMember(group, member) : Usage("/group remove GROUP USER");
                }

            case "leave":
                return group.Length > 0 && words.IsEmpty ? new LeaveGroup(group) : Usage("/group leave GROUP");
            case "send":
                {
                    string message = words.Rest();
                    return group.Length > 0 && message.Length > 0 ? new SendText(new Conversation(group, IsGroup: true), message) : Usage("/group send GROUP TEXT");
                }

            case "members":
                return group.Length > 0 && words.IsEmpty ? new ShowMembers(group) : Usage("/group members GROUP");
            case "file":
                {
                    string path = Path(words.Rest());
                    return group.Length > 0 && path.Length > 0 ? new SendFile(new Conversation(group, IsGroup: true), path) : Usage("/group file GROUP PATH");
                }

            default:
                return Usage("/group create|add|remove|leave|send|members|file GROUP ...");
        }
    }

    private static ChatRequest ParseHistory(ref Words words, Conversation? current)
    {
        Conversation? with = current;
        int limit = DefaultHistoryLimit;
        string first = words.Next();
        if (first.Length > 0 && !int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            with = Conversation.Parse(first);
            first = words.Next();
        }

        if (first.Length > 0 && (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxHistoryLimit))
        {
            return new Unusable($"The number of messages must be between 1 and {MaxHistoryLimit}, not {first}.");
        }

        return with is { } conversation && words.IsEmpty ? new ShowHistory(conversation, limit) : Usage("/history USER|#GROUP [N]");
    }

    private static string GroupName(string typed) => typed.StartsWith('#') ? typed[1..] : typed;

    private static Unusable Usage(string usage) => new("Usage: " + usage);

    /// <summary>Splits the rest of a command into words separated by spaces, keeping the tail as typed.</summary>
    private ref struct Words(ReadOnlySpan<char> text)
    {
        private ReadOnlySpan<char> _rest = text.TrimStart();

        public readonly bool IsEmpty => _rest.IsEmpty;

        public string Next()
        {
            int end = _rest.IndexOfAny(' ', '\t');
            ReadOnlySpan<char> word = end < 0 ? _rest : _rest[..end];
            _rest = end < 0 ? [] : _rest[end..].TrimStart();
            return word.ToString();
        }

        public string Rest()
        {
            string rest = _rest.TrimEnd().ToString();
            _rest = [];
            return rest;
        }
    }
}
