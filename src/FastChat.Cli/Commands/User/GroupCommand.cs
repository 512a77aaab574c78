using System.CommandLine;
using FastChat.Client;
using FastChat.Client.Secure;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// <c>fastchat group create|add|remove|members|leave|send GROUP ...</c>: group administration and group messages. The
/// creator is the group's admin; only the admin adds, removes and lists members. The group key is rotated on every
/// removal or leave, so a former member cannot read what follows.
/// </summary>
internal static class GroupCommand
{
    public static Command Create()
    {
        var command = new Command("group", "Create groups, manage their members and send to them.")
        {
            CreateSubcommand("create", "Create a group; you become its admin.", member: false, static (client, group, _, output, ct) => CreateAsync(client, group, output, ct)),
            CreateSubcommand("add", "Add a member to a group you administer (they receive the group key).", member: true, static (client, group, member, output, ct) => AddAsync(client, group, member!, output, ct)),
            CreateSubcommand("remove", "Remove a member from a group you administer (the group key is rotated).", member: true, static (client, group, member, output, ct) => RemoveAsync(client, group, member!, output, ct)),
            CreateSubcommand("members", "List a group's members, one per line, the admin marked (admin only).", member: false, static (client, group, _, output, ct) => MembersAsync(client, group, output, ct)),
            CreateSubcommand("leave", "Leave a group (the group key is rotated for those who stay).", member: false, static (client, group, _, output, ct) => LeaveAsync(client, group, output, ct)),
            CreateSend(),
        };
        return command;
    }

    private static Command CreateSubcommand(
        string name,
        string description,
        bool member,
        Func<SecureChatClient, string, string?, Output, CancellationToken, Task<int>> run)
    {
        var common = new UserCommandOptions();
        Argument<string> group = UserCommandOptions.NameArgument("GROUP", "The group's name.");
        Argument<string>? memberArgument = member ? UserCommandOptions.NameArgument("MEMBER", "The member's user name.") : null;
        var command = new Command(name, description) { group };
        if (memberArgument is not null)
        {
            command.Arguments.Add(memberArgument);
        }

        common.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            string groupName = parse.GetValue(group)!;
            string? memberName = memberArgument is null ? null : parse.GetValue(memberArgument);
            return common.RunAsync(parse, signUp: false, (client, output, ct) => run(client, groupName, memberName, output, ct), cancellationToken);
        });
        return command;
    }

    private static Command CreateSend()
    {
        var common = new UserCommandOptions();
        Argument<string> group = UserCommandOptions.NameArgument("GROUP", "The group's name.");
        var message = new MessageOptions();
        var command = new Command(
            "send",
            "Send a message (--text) or a file or image (--file) to every member of a group, encrypted once with the group key. Prints its id once the server has accepted it.")
        {
            group,
        };
        common.AddTo(command);
        message.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            string groupName = parse.GetValue(group)!;
            string? text = message.TextOf(parse);
            string? file = message.FileOf(parse);
            return common.RunAsync(parse, signUp: false, async (client, output, ct) =>
            {
                MessageId id = file is null
                    ? await client.SendGroupTextAsync(groupName, text!, ct).ConfigureAwait(false)
                    : await client.SendGroupFileAsync(groupName, file, ct).ConfigureAwait(false);
                DmCommand.WriteSent(output, id, recipient: null, groupName);
                return ExitCodes.Success;
            }, cancellationToken);
        });
        return command;
    }

    private static async Task<int> CreateAsync(SecureChatClient client, string group, Output output, CancellationToken cancellationToken)
    {
        await client.CreateGroupAsync(group, cancellationToken).ConfigureAwait(false);
        output.Write(
            "group-created",
            json =>
            {
                json.WriteString("group", group);
                json.WriteString("admin", client.UserName);
            },
            $"created group {group} (admin {client.UserName})");
        return ExitCodes.Success;
    }

    private static async Task<int> AddAsync(SecureChatClient client, string group, string member, Output output, CancellationToken cancellationToken)
    {
        await client.AddMemberAsync(group, member, cancellationToken).ConfigureAwait(false);
        output.Write(
            "member-added",
            json =>
            {
                json.WriteString("group", group);
                json.WriteString("member", member);
            },
            $"added {member} to {group}");
        return ExitCodes.Success;
    }

    private static async Task<int> RemoveAsync(SecureChatClient client, string group, string member, Output output, CancellationToken cancellationToken)
    {
        await client.RemoveMemberAsync(group, member, cancellationToken).ConfigureAwait(false);
        output.Write(
            "member-removed",
            json =>
            {
                json.WriteString("group", group);
                json.WriteString("member", member);
            },
            $"removed {member} from {group}");
        return ExitCodes.Success;
    }

    private static async Task<int> MembersAsync(SecureChatClient client, string group, Output output, CancellationToken cancellationToken)
    {
        GroupMembersInfo info = await client.GetMembersAsync(group, cancellationToken).ConfigureAwait(false);
        foreach (string member in info.Members)
        {
            bool admin = string.Equals(member, info.Admin, StringComparison.Ordinal);
            output.Write(
                "member",
                json =>
                {
                    json.WriteString("group", info.Group);
                    json.WriteString("member", member);
                    json.WriteBoolean("admin", admin);
                },
                admin ? member + " (admin)" : member);
        }

        return ExitCodes.Success;
    }

    private static async Task<int> LeaveAsync(SecureChatClient client, string group, Output output, CancellationToken cancellationToken)
    {
        await client.LeaveGroupAsync(group, cancellationToken).ConfigureAwait(false);
        output.Write("group-left", json => json.WriteString("group", group), $"left {group}");
        return ExitCodes.Success;
    }
}
