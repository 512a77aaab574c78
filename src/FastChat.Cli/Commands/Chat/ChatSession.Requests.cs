using System.Text;
using FastChat.Client;
using FastChat.Client.Crypto;
using FastChat.Client.History;
using FastChat.Protocol.Messages;
using Spectre.Console;

namespace FastChat.Cli.Commands.Chat;

internal sealed partial class ChatSession
{
    private async Task RunRequestsAsync(CancellationToken cancellationToken)
    {
        await foreach (ServerRequest request in _requests.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await ExecuteAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ChatFailures.Describe(ex, request, Glyphs) is { } feedback)
            {
                // An expected failure (refused, unreachable, no such file) is the person's to know about; the chat goes on.
                _screen.Line(feedback + NotSent(request, ex));
            }
        }
    }

    private Task ExecuteAsync(ServerRequest request, CancellationToken cancellationToken) => request switch
    {
        SendText text => SendTextAsync(text, cancellationToken),
        SendFile file => SendFileAsync(file, cancellationToken),
        CreateGroup create => CreateGroupAsync(create, cancellationToken),
        AddMember add => AddMemberAsync(add, cancellationToken),
        RemoveMember remove => RemoveMemberAsync(remove, cancellationToken),
        LeaveGroup leave => LeaveGroupAsync(leave, cancellationToken),
        ShowMembers members => ShowMembersAsync(members, cancellationToken),
        ShowHistory history => ShowHistoryAsync(history, cancellationToken),
        ShowKey key => ShowKeyAsync(key, cancellationToken),
        TrustKey trust => TrustAsync(trust, cancellationToken),
        _ => Task.CompletedTask,
    };

    private Task SendTextAsync(SendText request, CancellationToken cancellationToken) =>
        SendAsync(
            request.To,
            TerminalText.Safe(request.Text),
            request.To.IsGroup
                ? _client.SendGroupTextAsync(request.To.Name, request.Text, cancellationToken)
                : _client.SendTextAsync(request.To.Name, request.Text, cancellationToken));

    private async Task SendFileAsync(SendFile request, CancellationToken cancellationToken)
    {
        var file = new FileInfo(request.Path);
        if (!file.Exists)
        {
            throw new FileNotFoundException("No such file.", request.Path);
        }

        string description = $"{TerminalText.Safe(file.Name)} ({TerminalText.Size(file.Length)})";
        _screen.Line($"[grey]sending {description} to[/] {TerminalText.Conversation(request.To)}[grey]…[/]");
        await SendAsync(
            request.To,
            "file " + description,
            request.To.IsGroup
                ? _client.SendGroupFileAsync(request.To.Name, file.FullName, cancellationToken)
                : _client.SendFileAsync(request.To.Name, file.FullName, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for a send's acknowledgement and prints it. A delivery receipt can overtake the acknowledgement (the
    /// recipient acknowledged before the server's answer got here): receipts that arrive while sends are under way
    /// are held until the send they belong to is printed, so "sent" always comes before "delivered".
    /// </summary>
    private async Task SendAsync(Conversation to, string whatMarkup, Task<MessageId> send)
    {
        lock (_deliveries)
        {
            _sendsUnderWay++;
        }

        MessageId? sent = null;
        try
        {
            sent = await send.ConfigureAwait(false);
        }
        finally
        {
            lock (_deliveries)
            {
                _sendsUnderWay--;
                if (sent is { } id)
                {
                    _screen.Line($"{TerminalText.Time(DateTime.UtcNow)} [bold]you[/] {Glyphs.Arrow} {TerminalText.Conversation(to)}: " +
                        $"{whatMarkup}  [green]{Glyphs.Sent}[/] [grey]sent {TerminalText.ShortId(id)}[/]");
                }

                ShowHeldDeliveries(sent);
            }
        }
    }

    private async Task CreateGroupAsync(CreateGroup request, CancellationToken cancellationToken)
    {
        await _client.CreateGroupAsync(request.Group, cancellationToken).ConfigureAwait(false);
        _screen.Line($"[green]{Glyphs.Sent}[/] created {TerminalText.Group(request.Group)}; you are its admin. " +
            $"[grey]Add people with /group add {Markup.Escape(request.Group)} USER.[/]");
    }

    private async Task AddMemberAsync(AddMember request, CancellationToken cancellationToken)
    {
        await _client.AddMemberAsync(request.Group, request.Member, cancellationToken).ConfigureAwait(false);
        _screen.Line($"[green]{Glyphs.Sent}[/] added {TerminalText.User(request.Member)} to {TerminalText.Group(request.Group)}");
    }

    private async Task RemoveMemberAsync(RemoveMember request, CancellationToken cancellationToken)
    {
        await _client.RemoveMemberAsync(request.Group, request.Member, cancellationToken).ConfigureAwait(false);
        _screen.Line($"[green]{Glyphs.Sent}[/] removed {TerminalText.User(request.Member)} from {TerminalText.Group(request.Group)} " +
            "[grey](the group key was replaced: they cannot read what is sent from now on)[/]");
    }

    private async Task LeaveGroupAsync(LeaveGroup request, CancellationToken cancellationToken)
    {
        await _client.LeaveGroupAsync(request.Group, cancellationToken).ConfigureAwait(false);
        _screen.Line($"[green]{Glyphs.Sent}[/] you left {TerminalText.Group(request.Group)}");
    }

    private async Task ShowMembersAsync(ShowMembers request, CancellationToken cancellationToken)
    {
        GroupMembersInfo info = await _client.GetMembersAsync(request.Group, cancellationToken).ConfigureAwait(false);
        var members = new StringBuilder();
        foreach (string member in info.Members)
        {
            if (members.Length > 0)
            {
                members.Append(", ");
            }

            members.Append(TerminalText.User(member));
            if (member == info.Admin)
            {
                members.Append(" [grey](admin)[/]");
            }
        }

        string count = info.Members.Count == 1 ? "1 member" : $"{info.Members.Count} members";
        _screen.Line($"{TerminalText.Group(info.Group)} [grey]· {count} · key epoch {info.KeyEpoch}:[/] {members}");
    }

    private async Task ShowHistoryAsync(ShowHistory request, CancellationToken cancellationToken)
    {
        IReadOnlyList<HistoryEntry> entries = request.With.IsGroup
            ? await _client.History.GetGroupAsync(request.With.Name, request.Limit, cancellationToken).ConfigureAwait(false)
            : await _client.History.GetConversationAsync(request.With.Name, request.Limit, cancellationToken).ConfigureAwait(false);
        if (entries.Count == 0)
        {
            _screen.Line($"[grey]no messages with[/] {TerminalText.Conversation(request.With)} [grey]on this machine yet[/]");
            return;
        }

        _screen.Print(new Rule($"[grey]history with[/] {TerminalText.Conversation(request.With)} [grey](last {entries.Count})[/]")
            .LeftJustified()
            .RuleStyle(new Style(Color.Grey)));
        foreach (HistoryEntry entry in entries)
        {
            _screen.Line(DescribeEntry(entry));
        }

        _screen.Print(new Rule().RuleStyle(new Style(Color.Grey)));
    }

    private async Task ShowKeyAsync(ShowKey request, CancellationToken cancellationToken)
    {
        PublicIdentity identity = await _client.GetIdentityAsync(request.User, cancellationToken).ConfigureAwait(false);
        _screen.Line($"{TerminalText.User(request.User)}[grey]'s key fingerprint:[/] [bold]{Markup.Escape(identity.FingerprintText)}[/] " +
            "[grey](it matches what their header shows if no one is in between)[/]");
    }

    private async Task TrustAsync(TrustKey request, CancellationToken cancellationToken)
    {
        _client.TrustNewKey(request.User);
        PublicIdentity identity = await _client.GetIdentityAsync(request.User, cancellationToken).ConfigureAwait(false);
        _screen.Line($"[green]{Glyphs.Sent}[/] you now trust {TerminalText.User(request.User)}[grey]'s key[/] [bold]{Markup.Escape(identity.FingerprintText)}[/]");
    }

    private string DescribeEntry(HistoryEntry entry)
    {
        string who = entry.Direction == HistoryDirection.Sent
            ? "[bold]you[/]"
            : TerminalText.User(entry.Peer);
        string what = entry.Kind switch
        {
            HistoryKind.File => $"file {TerminalText.Safe(entry.FileName)}" +
                (entry.FileSize is { } size ? $" ({TerminalText.Size(size)})" : string.Empty) +
                (entry.FilePath is { } path ? $" [grey]{TerminalText.Safe(path)}[/]" : string.Empty),
            HistoryKind.Notice => $"[grey]{TerminalText.Safe(entry.Text)}[/]",
            _ => TerminalText.Safe(entry.Text),
        };
        string state = entry.State switch
        {
            DeliveryState.Pending => $"  [grey]{Glyphs.Ellipsis} not sent yet[/]",
            DeliveryState.Sent => $"  [green]{Glyphs.Sent}[/]",
            DeliveryState.Delivered when entry.IsGroup => $"  [green]{Glyphs.Delivered}[/] [grey]{entry.DeliveredCount}[/]",
            DeliveryState.Delivered => $"  [green]{Glyphs.Delivered}[/]",
            DeliveryState.Failed => $"  [red]{Glyphs.Failed} {TerminalText.Safe(entry.Error)}[/]",
            _ => string.Empty,
        };
        return $"{TerminalText.Time(entry.SentAt)} {who}: {what}{state}";
    }

    // A message that did not go out is repeated, so it can be copied (or recalled with ↑) and sent again. Without an
    // answer in time it is unknown whether the server took it (sending it again may deliver it twice).
    private static string NotSent(ServerRequest request, Exception failure) => request switch
    {
        SendText text when failure is TimeoutException => $" [grey](perhaps not sent: {TerminalText.Safe(text.Text)})[/]",
        SendText text => $" [grey](not sent: {TerminalText.Safe(text.Text)})[/]",
        _ => string.Empty,
    };
}
