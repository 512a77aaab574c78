using System.CommandLine;
using System.Globalization;
using FastChat.Client.Secure;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// <c>fastchat inbox --user NAME [--wait SECONDS] [--download-dir DIR]</c>: signs in, prints what was waiting and what
/// arrives live for a few seconds, then signs out. Each message is recorded in the local history and acknowledged by
/// the client before it is printed, so the server deletes it and the sender learns it was delivered.
/// </summary>
internal static class InboxCommand
{
    private const double MaxWaitSeconds = 24 * 60 * 60;

    public static Command Create()
    {
        var common = new UserCommandOptions();
        var wait = new Option<double>("--wait")
        {
            Description = "How long to listen after signing in, in seconds (default 2): the stored messages arrive first, then live ones. Ctrl-C stops early.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 2,
        };
        wait.Validators.Add(result =>
        {
            double value = result.GetValueOrDefault<double>();
            // Messages are taken from the server only while the command listens: a window of 0 would take none.
            if (!(value is > 0 and <= MaxWaitSeconds))
            {
                result.AddError($"--wait must be more than 0 and at most {MaxWaitSeconds.ToString(CultureInfo.InvariantCulture)} seconds, not {value.ToString(CultureInfo.InvariantCulture)}.");
            }
        });
        var downloads = new Option<string>("--download-dir")
        {
            Description = "Where received files and images are saved (default: the current folder; created if missing).",
            HelpName = "DIR",
        };
        downloads.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("--download-dir must not be empty.");
            }
        });

        var command = new Command(
            "inbox",
            "Sign in, print the messages waiting for you (in the order they were sent) and those arriving within --wait seconds, then sign out. " +
            "Files are saved in --download-dir; warnings about rejected messages and changed keys go to stderr.")
        {
            wait,
            downloads,
        };
        common.AddTo(command);

        command.SetAction((parse, cancellationToken) =>
        {
            TimeSpan window = TimeSpan.FromSeconds(parse.GetValue(wait));
            string? downloadDirectory = parse.GetValue(downloads) is { } folder ? Path.GetFullPath(folder) : null;
            return common.RunAsync(
                parse,
                signUp: false,
                (client, output, ct) => ReceiveAsync(client, output, window, ct),
                cancellationToken,
                options =>
                {
                    if (downloadDirectory is not null)
                    {
                        options.DownloadDirectory = downloadDirectory;
                    }
                });
        });

        return command;
    }

    private static async Task<int> ReceiveAsync(SecureChatClient client, Output output, TimeSpan window, CancellationToken cancellationToken)
    {
        // The window counts from the sign-in: the stored messages arrive first, right after it, then live ones.
        using var listening = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        listening.CancelAfter(window);
        int messages = 0;
        try
        {
            await foreach (SecureChatEvent chatEvent in client.ReadEventsAsync(listening.Token).ConfigureAwait(false))
            {
                if (Print(chatEvent, output))
                {
                    messages++;
                }
            }
        }
        catch (OperationCanceledException) when (listening.IsCancellationRequested)
        {
            // The window ended, or Ctrl-C ended it early.
        }

        // Messages are processed (recorded, acknowledged) only while someone reads, so one may have been finished just
        // as the window closed and be waiting in the queue: sign out (what was not processed stays on the server for
        // the next inbox), close the client, which ends the event sequence after the queued events, and print those.
        await UserCommandOptions.SignOutAsync(client).ConfigureAwait(false);
        await client.DisposeAsync().ConfigureAwait(false);
        await foreach (SecureChatEvent chatEvent in client.ReadEventsAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (Print(chatEvent, output))
            {
                messages++;
            }
        }

        if (messages == 0)
        {
            output.Text("no new messages");
        }

        return ExitCodes.Success;
    }

    /// <summary>Prints one event; returns whether it was a message.</summary>
    private static bool Print(SecureChatEvent chatEvent, Output output)
    {
        switch (chatEvent)
        {
            case TextReceived text:
                WriteMessage(output, text.Id, text.From, text.Group, text.SentAt, text.Text, file: null, size: 0);
                return true;
            case FileSaved file:
                WriteMessage(output, file.Id, file.From, file.Group, file.SentAt, text: null, file.Path, file.Size);
                return true;
            case MessageDeliveredTo delivered:
                string id = delivered.Id.ToString();
                output.Write(
                    "delivered",
                    json =>
                    {
                        json.WriteString("id", id);
                        json.WriteString("to", delivered.Recipient);
                    },
                    $"delivered {id} to {delivered.Recipient}");
                return false;
            case GroupNotice notice:
                output.Write(
                    "group",
                    json =>
                    {
                        json.WriteString("group", notice.Group);
                        json.WriteString("change", ChangeName(notice.Kind));
                        json.WriteString("member", notice.Member);
                        json.WriteString("by", notice.Actor);
                        json.WriteNumber("epoch", notice.Epoch);
                    },
                    $"group {notice.Group}: {Describe(notice)}");
                return false;
            case KeyChanged changed:
                output.Warning(
                    "key-changed",
                    json =>
                    {
                        json.WriteString("user", changed.UserName);
                        json.WriteString("pinned", changed.PinnedFingerprint);
                        json.WriteString("new", changed.NewFingerprint);
                    },
                    $"warning: {changed.UserName}'s identity key has changed (pinned {changed.PinnedFingerprint}, now {changed.NewFingerprint}); someone may be impersonating {changed.UserName}: compare fingerprints with them before trusting the new key.");
                return false;
            case SecurityWarning warning:
                string? warningId = warning.Id?.ToString();
                output.Warning(
                    "security-warning",
                    json =>
                    {
                        json.WriteString("id", warningId);
                        json.WriteString("from", warning.From);
                        json.WriteString("reason", warning.Reason);
                    },
                    $"warning: a message from {warning.From}{(warningId is null ? string.Empty : " (id " + warningId + ")")} was rejected: {ExitCodes.Sentence(warning.Reason)}");
                return false;
            default:
                // Connection changes: the client reconnects by itself, and a lost session surfaces as an error.
                return false;
        }
    }

    private static void WriteMessage(Output output, MessageId id, string from, string? group, DateTime sentAt, string? text, string? file, long size)
    {
        string idText = id.ToString();
        string sent = Output.Time(sentAt);
        string where = group is null ? from : $"{from} in {group}";
        string what = file is null ? text! : $"file saved to {file} ({Output.Number(size)} bytes)";
        output.Write(
            "message",
            json =>
            {
                json.WriteString("from", from);
                json.WriteString("group", group);
                json.WriteString("text", text);
                json.WriteString("file", file);
                json.WriteString("id", idText);
                json.WriteString("sent", sent);
            },
            $"{sent} {where}: {what} (id {idText})");
    }

    private static string ChangeName(GroupChangeKind kind) => kind switch
    {
        GroupChangeKind.Created => "created",
        GroupChangeKind.MemberAdded => "added",
        GroupChangeKind.MemberRemoved => "removed",
        GroupChangeKind.MemberLeft => "left",
        GroupChangeKind.KeyRotated => "key-rotated",
        _ => ((int)kind).ToString(CultureInfo.InvariantCulture),
    };

    private static string Describe(GroupNotice notice) => notice.Kind switch
    {
        GroupChangeKind.Created => $"created by {notice.Actor}",
        GroupChangeKind.MemberAdded => $"{notice.Member} was added by {notice.Actor}",
        GroupChangeKind.MemberRemoved => $"{notice.Member} was removed by {notice.Actor}",
        GroupChangeKind.MemberLeft => $"{notice.Member} left",
        GroupChangeKind.KeyRotated => $"the group key was rotated (epoch {Output.Number(notice.Epoch)})",
        _ => $"change {ChangeName(notice.Kind)} for {notice.Member} by {notice.Actor}",
    };
}
