namespace FastChat.Cli.Commands.Chat;

/// <summary>Who a message goes to: a user, or a group (written <c>#name</c>).</summary>
internal readonly record struct Conversation(string Name, bool IsGroup)
{
    /// <summary>Reads <c>bob</c> as the user bob and <c>#team</c> as the group team.</summary>
    public static Conversation? Parse(string text)
    {
        if (text.Length > 1 && text[0] == '#')
        {
            return new Conversation(text[1..], IsGroup: true);
        }

        return text.Length > 0 && text[0] != '#' ? new Conversation(text, IsGroup: false) : null;
    }

    public override string ToString() => IsGroup ? "#" + Name : Name;
}

/// <summary>What the person asked for, from a slash command, a plain line or a menu.</summary>
internal abstract record ChatRequest;

/// <summary>Requests that talk to the server; they run one after another, in the order given, while typing goes on.</summary>
internal abstract record ServerRequest : ChatRequest;

internal sealed record SendText(Conversation To, string Text) : ServerRequest;

internal sealed record SendFile(Conversation To, string Path) : ServerRequest;

internal sealed record CreateGroup(string Group) : ServerRequest;

internal sealed record AddMember(string Group, string Member) : ServerRequest;

internal sealed record RemoveMember(string Group, string Member) : ServerRequest;

internal sealed record LeaveGroup(string Group) : ServerRequest;

internal sealed record ShowMembers(string Group) : ServerRequest;

internal sealed record ShowHistory(Conversation With, int Limit) : ServerRequest;

internal sealed record ShowKey(string User) : ServerRequest;

internal sealed record TrustKey(string User) : ServerRequest;

/// <summary>Sets (or with <see langword="null"/>, clears) the conversation plain lines go to.</summary>
internal sealed record SwitchTo(Conversation? To) : ChatRequest;

internal sealed record OpenMenu : ChatRequest;

internal sealed record ShowHelp : ChatRequest;

internal sealed record Quit : ChatRequest;

/// <summary>A line that asks for nothing that can be done, with what to say about it.</summary>
internal sealed record Unusable(string Message) : ChatRequest;
