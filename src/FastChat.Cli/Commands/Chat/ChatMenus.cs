using Spectre.Console;

namespace FastChat.Cli.Commands.Chat;

/// <summary>
/// The menus of the original clients — main menu, group settings, manage group, message menu — as Spectre selection
/// prompts (arrow keys and Enter), each leading to the text prompts the action needs. An empty answer goes back.
/// </summary>
internal sealed class ChatMenus(ChatConsole console)
{
    private const string ManageGroups = "Manage groups";
    private const string GroupMessage = "Group message";
    private const string DirectMessage = "Direct message";
    private const string Logout = "Logout";
    private const string BackToChat = "Back to the chat";
    private const string NewGroup = "New group";
    private const string ManageExisting = "Manage existing group";
    private const string AddMemberChoice = "Add member";
    private const string RemoveMemberChoice = "Remove member";
    private const string SeeMembers = "See members";
    private const string LeaveGroupChoice = "Leave group";
    private const string TypeMessage = "Type a message";
    private const string SendImageOrFile = "Send an image or file";
    private const string Back = "Back";

    private static readonly string[] s_main = [ManageGroups, GroupMessage, DirectMessage, Logout, BackToChat];
    private static readonly string[] s_groupSettings = [NewGroup, ManageExisting, Back];
    private static readonly string[] s_manageGroup = [AddMemberChoice, RemoveMemberChoice, SeeMembers, LeaveGroupChoice, Back];
    private static readonly string[] s_message = [TypeMessage, SendImageOrFile, Back];

    /// <summary>Runs the menus until the person picks an action (returned) or goes back to the chat (<see langword="null"/>).</summary>
    /// <exception cref="OperationCanceledException">Cancelled (Ctrl-C) or the terminal closed.</exception>
    public async Task<ChatRequest?> ShowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ChatRequest? chosen;
            switch (await ChooseAsync("[bold]FastChat[/] [grey]— main menu[/]", s_main, cancellationToken))
            {
                case ManageGroups:
                    chosen = await GroupSettingsAsync(cancellationToken);
                    break;
                case GroupMessage:
                    {
                        string? group = await AskAsync("Group", cancellationToken);
                        chosen = group is null ? null : await MessageAsync(new Conversation(group.TrimStart('#'), IsGroup: true), cancellationToken);
                        break;
                    }

                case DirectMessage:
                    {
                        string? user = await AskAsync("To (user name)", cancellationToken);
                        chosen = user is not null && Conversation.Parse(user) is { } to ? await MessageAsync(to, cancellationToken) : null;
                        break;
                    }

                case Logout:
                    return new Quit();
                default:
                    return null;
            }

            if (chosen is not null)
            {
                return chosen;
            }
        }
    }

    private async Task<ChatRequest?> GroupSettingsAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (await ChooseAsync("[bold]Group settings[/]", s_groupSettings, cancellationToken))
            {
                case NewGroup:
                    {
                        string? group = await AskAsync("Name of the new group", cancellationToken);
                        if (group is not null)
                        {
                            return new CreateGroup(group.TrimStart('#'));
                        }

                        break;
                    }

                case ManageExisting:
                    {
                        string? group = await AskAsync("Group", cancellationToken);
                        if (group is not null && await ManageGroupAsync(group.TrimStart('#'), cancellationToken) is { } chosen)
                        {
                            return chosen;
                        }

                        break;
                    }

                default:
                    return null;
            }
        }
    }

    private async Task<ChatRequest?> ManageGroupAsync(string group, CancellationToken cancellationToken)
    {
        while (true)
        {
            string? member;
            switch (await ChooseAsync($"[bold]Manage[/] {TerminalText.Group(group)}", s_manageGroup, cancellationToken))
            {
                case AddMemberChoice:
                    member = await AskAsync("User to add", cancellationToken);
                    if (member is not null)
                    {
                        return new AddMember(group, member);
                    }

                    break;
                case RemoveMemberChoice:
                    member = await AskAsync("Member to remove", cancellationToken);
                    if (member is not null)
                    {
                        return new RemoveMember(group, member);
                    }

                    break;
                case SeeMembers:
                    return new ShowMembers(group);
                case LeaveGroupChoice:
                    return await new ConfirmationPrompt($"Leave {TerminalText.Group(group)}?").ShowAsync(console, cancellationToken) ? new LeaveGroup(group) : null;
                default:
                    return null;
            }
        }
    }

    private async Task<ChatRequest?> MessageAsync(Conversation to, CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (await ChooseAsync($"[bold]Message to[/] {TerminalText.Conversation(to)}", s_message, cancellationToken))
            {
                case TypeMessage:
                    {
                        string? text = await AskAsync("Message", cancellationToken);
                        if (text is not null)
                        {
                            return new SendText(to, text);
                        }

                        break;
                    }

                case SendImageOrFile:
                    {
                        string? path = await AskAsync("Path of the image or file", cancellationToken, mustBeFile: true);
                        if (path is not null)
                        {
                            return new SendFile(to, ChatCommandLine.Path(path));
                        }

                        break;
                    }

                default:
                    return null;
            }
        }
    }

    private Task<string> ChooseAsync(string title, string[] choices, CancellationToken cancellationToken) =>
        new SelectionPrompt<string>()
            .Title(title)
            .AddChoices(choices)
            .HighlightStyle(new Style(Color.Aqua, decoration: Decoration.Bold))
            .WrapAround()
            .ShowAsync(console, cancellationToken);

    private async Task<string?> AskAsync(string label, CancellationToken cancellationToken, bool mustBeFile = false)
    {
        var prompt = new TextPrompt<string>($"{label} [grey](empty to go back)[/]:").AllowEmpty();
        if (mustBeFile)
        {
            prompt.Validate(path => path.Trim().Length == 0 || File.Exists(ChatCommandLine.Path(path))
                ? ValidationResult.Success()
                : ValidationResult.Error("[red]There is no file at that path.[/]"));
        }

        string answer = (await prompt.ShowAsync(console, cancellationToken)).Trim();
        return answer.Length == 0 ? null : answer;
    }
}
