using System.CommandLine;
using System.Globalization;
using FastChat.Client.History;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// <c>fastchat history --user NAME [--with OTHER | --group GROUP] [--limit N]</c>: prints the local message history, oldest
/// first. It reads the user's history file directly: no network and no password (the file is readable by its owner only).
/// </summary>
internal static class HistoryCommand
{
    private const int MaxLimit = 100_000;

    public static Command Create()
    {
        Option<string> user = UserCommandOptions.Name("--user", "Whose history to read.", required: true);
        Option<bool> json = UserCommandOptions.CreateJson();
        Option<string> with = UserCommandOptions.Name("--with", "Only the direct messages with this user.", required: false);
        Option<string> group = UserCommandOptions.Name("--group", "Only the messages of this group.", required: false);
        var limit = new Option<int>("--limit")
        {
            Description = "Show the newest N entries (default 50).",
            HelpName = "N",
            DefaultValueFactory = _ => 50,
        };
        limit.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 1 or > MaxLimit)
            {
                result.AddError($"--limit must be between 1 and {MaxLimit}, not {value}.");
            }
        });

        // The per-user folder is the same option as the other commands'. --balancer and --password-stdin are accepted
        // (and ignored) so that a script can pass every command the same options; the history needs neither.
        var common = new UserCommandOptions();
        common.Balancer.Hidden = true;
        common.PasswordStdin.Hidden = true;

        var command = new Command(
            "history",
            "Print your local message history, oldest first: direction, peer or group, text or file, delivery state, time and id. Reads the history file on this machine; needs no network and no password.")
        {
            user,
            with,
            group,
            limit,
            json,
            common.Data,
            common.Balancer,
            common.PasswordStdin,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(with) is not null && result.GetResult(group) is not null)
            {
                result.AddError("pass either --with or --group, not both.");
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new Output(parse.GetValue(json));
            string owner = parse.GetValue(user)!;
            string? withUser = parse.GetValue(with);
            string? groupName = parse.GetValue(group);
            int count = parse.GetValue(limit);
            try
            {
                string path = HistoryPath(owner, common.DataDirectoryOf(parse));
                if (!File.Exists(path))
                {
                    // Nothing sent or received on this machine yet; opening would create an empty file.
                    output.Text("no messages");
                    return ExitCodes.Success;
                }

                await using ChatHistory history = await ChatHistory.OpenAsync(path, owner, cancellationToken).ConfigureAwait(false);
                IReadOnlyList<HistoryEntry> entries = withUser is not null
                    ? await history.GetConversationAsync(withUser, count, cancellationToken).ConfigureAwait(false)
                    : groupName is not null
                        ? await history.GetGroupAsync(groupName, count, cancellationToken).ConfigureAwait(false)
                        : await history.GetRecentAsync(count, cancellationToken).ConfigureAwait(false);
                if (entries.Count == 0)
                {
                    output.Text("no messages");
                }

                foreach (HistoryEntry entry in entries)
                {
                    Write(output, entry);
                }

                return ExitCodes.Success;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                output.Error("interrupted.");
                return ExitCodes.Failure;
            }
            catch (InvalidOperationException ex)
            {
                // ChatHistory.DefaultPath: the platform has no home folder to put the history in.
                output.Error(ExitCodes.Sentence(ex.Message) + " Pass --data DIR.");
                return ExitCodes.Failure;
            }
            catch (Exception ex) when (ExitCodes.TryDescribe(ex, "(none)", out int exitCode, out string message))
            {
                output.Error(message);
                return exitCode;
            }
        });

        return command;
    }

    /// <summary>The user's history file: <c>DIR/history.db</c> in the <c>--data</c> folder, or the default per-user folder.</summary>
    public static string HistoryPath(string user, string? dataDirectory) =>
        dataDirectory is null ? ChatHistory.DefaultPath(user) : Path.Combine(dataDirectory, ChatHistory.FileName);

    private static void Write(Output output, HistoryEntry entry)
    {
        string id = entry.Id.ToString();
        string sent = Output.Time(entry.SentAt);
        string direction = entry.Direction == HistoryDirection.Sent ? "sent" : "received";
        string state = StateName(entry.State);
        string kind = entry.Kind switch
        {
            HistoryKind.Text => "text",
            HistoryKind.File => "file",
            HistoryKind.Notice => "notice",
            _ => ((int)entry.Kind).ToString(CultureInfo.InvariantCulture),
        };
        string? file = entry.Kind == HistoryKind.File ? entry.FilePath ?? entry.FileName : null;
        string? text = entry.Kind == HistoryKind.File ? null : entry.Text;

        string where = (entry.Direction, entry.Group) switch
        {
            (HistoryDirection.Sent, null) => "to " + entry.Peer,
            (HistoryDirection.Sent, { } group) => "to group " + group,
            (_, null) => "from " + entry.Peer,
            (_, { } group) => $"from {entry.Peer} in {group}",
        };
        string what = entry.Kind == HistoryKind.File
            ? $"file {file}{(entry.FileSize is { } size ? $" ({Output.Number(size)} bytes)" : string.Empty)}"
            : entry.Text ?? string.Empty;
        string failure = entry.State == DeliveryState.Failed && entry.Error is { Length: > 0 } error ? ": " + error : string.Empty;

        output.Write(
            "history",
            json =>
            {
                json.WriteString("direction", direction);
                json.WriteString("peer", entry.Peer);
                json.WriteString("group", entry.Group);
                json.WriteString("kind", kind);
                json.WriteString("text", text);
                json.WriteString("file", file);
                json.WriteString("state", state);
                if (entry.Error is not null)
                {
                    json.WriteString("error", entry.Error);
                }

                json.WriteString("sent", sent);
                json.WriteString("id", id);
            },
            $"{sent} {where}: {what} [{state}{failure}] (id {id})");
    }

    private static string StateName(DeliveryState state) => state switch
    {
        DeliveryState.Pending => "pending",
        DeliveryState.Sent => "sent",
        DeliveryState.Delivered => "delivered",
        DeliveryState.Received => "received",
        DeliveryState.Failed => "failed",
        _ => ((int)state).ToString(CultureInfo.InvariantCulture),
    };
}
