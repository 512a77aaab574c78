using System.CommandLine;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// <c>fastchat dm --user NAME --to OTHER --text "..."</c> (or <c>--file PATH</c>): sends one end-to-end-encrypted direct
/// message, waits until the server has taken responsibility for it, prints its id.
/// </summary>
internal static class DmCommand
{
    public static Command Create()
    {
        var common = new UserCommandOptions();
        Option<string> to = UserCommandOptions.Name("--to", "The recipient's user name.", required: true);
        var message = new MessageOptions();
        var command = new Command(
            "dm",
            "Send a direct message (--text) or a file or image (--file) to one user. Returns once the server has accepted it (delivered, or stored until the recipient signs in) and prints its id.");
        common.AddTo(command);
        command.Options.Add(to);
        message.AddTo(command);

        command.SetAction((parse, cancellationToken) =>
        {
            string recipient = parse.GetValue(to)!;
            string? text = message.TextOf(parse);
            string? file = message.FileOf(parse);
            return common.RunAsync(parse, signUp: false, async (client, output, ct) =>
            {
                MessageId id = file is null
                    ? await client.SendTextAsync(recipient, text!, ct).ConfigureAwait(false)
                    : await client.SendFileAsync(recipient, file, ct).ConfigureAwait(false);
                WriteSent(output, id, recipient, group: null);
                return ExitCodes.Success;
            }, cancellationToken);
        });

        return command;
    }

    /// <summary>Reports an accepted message: its id, and to whom (a user or a group).</summary>
    public static void WriteSent(Output output, MessageId id, string? recipient, string? group)
    {
        string idText = id.ToString();
        output.Write(
            "sent",
            json =>
            {
                json.WriteString("id", idText);
                json.WriteString("to", recipient);
                json.WriteString("group", group);
            },
            $"sent {idText} to {(group is null ? recipient : "group " + group)}");
    }
}
