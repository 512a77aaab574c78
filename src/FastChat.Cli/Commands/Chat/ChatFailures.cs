using System.Security.Cryptography;
using FastChat.Client;
using FastChat.Client.History;
using FastChat.Client.Secure;
using FastChat.Protocol;
using FastChat.Protocol.Messages;
using Spectre.Console;

namespace FastChat.Cli.Commands.Chat;

/// <summary>Says, in one coloured line, why a request did not work and, where there is one, what to do about it.</summary>
internal static class ChatFailures
{
    /// <summary>The feedback for <paramref name="exception"/>, or <see langword="null"/> if it is not an expected failure (a bug).</summary>
    public static string? Describe(Exception exception, ServerRequest request, Glyphs glyphs)
    {
        string failed = $"[red]{glyphs.Failed}[/]";
        return exception switch
        {
            KeyChangedException changed => KeyChanged(changed.UserName, changed.PinnedFingerprint, changed.NewFingerprint, glyphs),
            ChatException refused => $"{failed} {Refused(refused, request)}",
            ChatConnectionException connection => $"{failed} [red]not connected:[/] {TerminalText.Safe(connection.Message)} (FastChat keeps trying to reconnect)",
            TimeoutException => $"{failed} [red]no answer from the server in time[/]: the connection may be down",
            FileNotFoundException or DirectoryNotFoundException when request is SendFile file =>
                $"{failed} [red]no such file:[/] {TerminalText.Safe(file.Path)}",
            UnauthorizedAccessException or IOException when request is SendFile file =>
                $"{failed} [red]cannot read[/] {TerminalText.Safe(file.Path)}: {TerminalText.Safe(exception.Message)}",
            InvalidOperationException when request is TrustKey trust =>
                $"{failed} [red]nothing to trust:[/] no changed key of {TerminalText.User(trust.User)} was seen in this session",
            UnauthorizedAccessException or IOException or InvalidOperationException => $"{failed} [red]{TerminalText.Safe(exception.Message)}[/]",
            ChatHistoryException history => $"{failed} [red]cannot read this machine's history:[/] {TerminalText.Safe(history.Message)}",
            CryptographicException crypto => $"[red]{glyphs.Warning} security:[/] {TerminalText.Safe(crypto.Message)}",
            ArgumentException argument => $"{failed} [red]{TerminalText.Safe(FirstSentence(argument.Message))}[/]",
            FastChatException other => $"{failed} [red]{TerminalText.Safe(other.Message)}[/]",
            _ => null,
        };
    }

    /// <summary>The warning for a contact whose key is not the one pinned, with both fingerprints and the way to accept it.</summary>
    public static string KeyChanged(string user, string pinned, string current, Glyphs glyphs) =>
        $"[bold yellow]{glyphs.Warning} key changed:[/] [yellow]{TerminalText.User(user)}'s identity key is not the one you had for them.[/]\n" +
        $"    pinned: [grey]{Markup.Escape(pinned)}[/]\n" +
        $"    new:    [yellow]{Markup.Escape(current)}[/]\n" +
        $"    Someone may be impersonating {Markup.Escape(user)}, or they signed up again. Compare the new fingerprint with them " +
        $"(in person or on a call; /key {Markup.Escape(user)} shows it); if it matches, type [bold]/trust {Markup.Escape(user)}[/].";

    private static string Refused(ChatException refused, ServerRequest request)
    {
        string who = request switch
        {
            SendText { To.IsGroup: false } text => text.To.Name,
            SendFile { To.IsGroup: false } file => file.To.Name,
            AddMember add => add.Member,
            RemoveMember remove => remove.Member,
            ShowKey key => key.User,
            TrustKey trust => trust.User,
            _ => string.Empty,
        };
        string group = request switch
        {
            SendText { To.IsGroup: true } text => text.To.Name,
            SendFile { To.IsGroup: true } file => file.To.Name,
            CreateGroup create => create.Group,
            AddMember add => add.Group,
            RemoveMember remove => remove.Group,
            LeaveGroup leave => leave.Group,
            ShowMembers members => members.Group,
            _ => string.Empty,
        };
        string user = who.Length > 0 ? TerminalText.User(who) : "that user";
        string team = group.Length > 0 ? TerminalText.Group(group) : "that group";

        return refused.ErrorCode switch
        {
            ErrorCode.UserNotFound => $"[red]user not found:[/] there is no user {user}",
            ErrorCode.GroupNotFound => $"[red]group not found:[/] there is no group {team}",
            ErrorCode.GroupExists => $"[red]group already exists:[/] {team} is taken, pick another name",
            ErrorCode.NotAdmin => $"[red]not admin:[/] only the admin of {team} can add or remove members",
            ErrorCode.GroupFull => $"[red]group full:[/] {team} has reached its member limit",
            ErrorCode.AlreadyMember => $"[red]already in the group:[/] {user} is already a member of {team}",
            ErrorCode.NotMember when request is RemoveMember => $"[red]not a member:[/] {user} is not a member of {team}",
            ErrorCode.NotMember => $"[red]not a member:[/] you are not a member of {team}",
            ErrorCode.FileTooLarge => $"[red]file too large:[/] {TerminalText.Safe(refused.Message)}",
            ErrorCode.InvalidUserName => $"[red]invalid name:[/] {TerminalText.Safe(refused.Message)}",
            ErrorCode.RateLimited => "[red]slow down:[/] the server is limiting how fast you send; try again in a moment",
            ErrorCode.AuthenticationFailed or ErrorCode.TokenExpired or ErrorCode.TokenInvalid =>
                $"[red]the server no longer accepts this session:[/] {TerminalText.Safe(refused.Message)} (sign in again)",
            _ => $"[red]refused:[/] {TerminalText.Safe(refused.Message)}",
        };
    }

    // Argument exceptions end with "(Parameter 'x')", which says nothing to the person at the keyboard.
    private static string FirstSentence(string message)
    {
        int parameter = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return parameter > 0 ? message[..parameter] : message;
    }
}
