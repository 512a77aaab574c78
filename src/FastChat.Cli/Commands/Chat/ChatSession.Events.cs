using FastChat.Client;
using FastChat.Client.Secure;
using FastChat.Protocol.Messages;
using Spectre.Console;

namespace FastChat.Cli.Commands.Chat;

internal sealed partial class ChatSession
{
    private bool _awayShown;
    private bool _connectionLost;

    private async Task ShowEventsAsync(CancellationToken cancellationToken)
    {
        await foreach (SecureChatEvent chatEvent in _client.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            Show(chatEvent);
        }
    }

    private void Show(SecureChatEvent chatEvent)
    {
        switch (chatEvent)
        {
            case TextReceived text:
                MarkAway(text.SentAt);
                _screen.Line($"{TerminalText.Time(text.SentAt)} {From(text.From, text.Group)}: {TerminalText.Safe(text.Text)}");
                break;
            case FileSaved file:
                MarkAway(file.SentAt);
                _screen.Line($"{TerminalText.Time(file.SentAt)} {From(file.From, file.Group)} sent {TerminalText.Safe(file.FileName)} " +
                    $"({TerminalText.Size(file.Size)})  [green]{Glyphs.Sent} file saved:[/] {TerminalText.Safe(file.Path)}");
                break;
            case MessageDeliveredTo delivered:
                lock (_deliveries)
                {
                    if (_sendsUnderWay > 0)
                    {
                        // Perhaps the receipt of a send whose acknowledgement is still on its way: see SendAsync.
                        _deliveries.Add(delivered);
                    }
                    else
                    {
                        ShowDelivered(delivered);
                    }
                }

                break;
            case GroupNotice notice:
                ShowNotice(notice);
                break;
            case KeyChanged changed:
                _screen.Line(ChatFailures.KeyChanged(changed.UserName, changed.PinnedFingerprint, changed.NewFingerprint, Glyphs));
                break;
            case SecurityWarning warning:
                string id = warning.Id is { } messageId ? $" [grey]({TerminalText.ShortId(messageId)})[/]" : string.Empty;
                _screen.Line($"[bold red]{Glyphs.Warning} security warning:[/] [red]rejected a message from[/] {TerminalText.User(warning.From)}{id}[red]: {TerminalText.Safe(warning.Reason)}[/]");
                break;
            case ConnectionChanged connection:
                ShowConnection(connection);
                break;
        }
    }

    /// <summary>Prints the receipts held for <paramref name="sent"/>, and all of them once no send is under way. Called under the lock.</summary>
    private void ShowHeldDeliveries(MessageId? sent)
    {
        for (int i = 0; i < _deliveries.Count; i++)
        {
            if (_sendsUnderWay == 0 || _deliveries[i].Id == sent)
            {
                ShowDelivered(_deliveries[i]);
                _deliveries.RemoveAt(i--);
            }
        }
    }

    private void ShowDelivered(MessageDeliveredTo delivered)
    {
        // Receipts come for direct messages only (a group send is acknowledged once every member's copy is settled).
        _screen.Line($"  [green]{Glyphs.Delivered} delivered[/] [grey]to[/] {TerminalText.User(delivered.Recipient)} [grey]{TerminalText.ShortId(delivered.Id)}[/]");
    }

    private void ShowNotice(GroupNotice notice)
    {
        string me = _me;
        string group = TerminalText.Group(notice.Group);
        if (notice.Actor == me && notice.Kind != GroupChangeKind.KeyRotated)
        {
            // This user's own change: its request already printed the outcome.
            return;
        }

        string? line = notice.Kind switch
        {
            GroupChangeKind.Created => $"{group}[grey]:[/] {TerminalText.User(notice.Actor)} [grey]created the group[/]",
            GroupChangeKind.MemberAdded when notice.Member == me =>
                $"[green]{TerminalText.User(notice.Actor)} added you to {group}[/] [grey](write there with /to #{Markup.Escape(notice.Group)} or /group send {Markup.Escape(notice.Group)} TEXT)[/]",
            GroupChangeKind.MemberAdded => $"{group}[grey]:[/] {TerminalText.User(notice.Actor)} [grey]added[/] {TerminalText.User(notice.Member)}",
            GroupChangeKind.MemberRemoved when notice.Member == me => $"[yellow]{TerminalText.User(notice.Actor)} removed you from {group}[/]",
            GroupChangeKind.MemberRemoved => $"{group}[grey]:[/] {TerminalText.User(notice.Actor)} [grey]removed[/] {TerminalText.User(notice.Member)}",
            GroupChangeKind.MemberLeft => $"{group}[grey]:[/] {TerminalText.User(notice.Member)} [grey]left[/]",
            GroupChangeKind.KeyRotated => $"{group}[grey]: new group key (epoch {notice.Epoch})[/]",
            _ => null,
        };
        if (line is not null)
        {
            _screen.Line(line);
        }
    }

    private void ShowConnection(ConnectionChanged connection)
    {
        if (_leaving)
        {
            // Signing out closes the connection on purpose.
            return;
        }

        switch (connection.State)
        {
            case ConnectionState.Disconnected:
                _connectionLost = true;
                _screen.Line($"[red]{Glyphs.Failed} connection lost:[/] {TerminalText.Safe(connection.Reason)}");
                break;
            case ConnectionState.Reconnecting:
                _connectionLost = true;
                _screen.Line($"[yellow]{Glyphs.Ellipsis} reconnecting:[/] [grey]{TerminalText.Safe(connection.Reason)}[/]");
                break;
            case ConnectionState.Connected when _connectionLost:
                _connectionLost = false;
                _screen.Line($"[green]{Glyphs.Sent} reconnected[/] [grey]({TerminalText.Safe(connection.Reason)})[/]");
                break;
        }
    }

    private static string From(string user, string? group) =>
        group is null ? TerminalText.User(user) : $"{TerminalText.Group(group)} {TerminalText.User(user)}";

    private void MarkAway(DateTime sentAt)
    {
        if (_awayShown || sentAt >= _signedInAt - s_awayMargin)
        {
            return;
        }

        _awayShown = true;
        _screen.Print(new Rule("[grey]while you were away[/]").LeftJustified().RuleStyle(new Style(Color.Grey)));
    }
}
