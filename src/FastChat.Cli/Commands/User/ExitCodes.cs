using System.Globalization;
using FastChat.Client;
using FastChat.Client.Crypto;
using FastChat.Client.History;
using FastChat.Client.Secure;
using FastChat.Protocol;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// The exit codes of the user commands, and the one sentence each failure is reported with: 0 success, 1 any other
/// failure (unreachable, timed out, key changed, file too large, I/O), 2 bad usage, 3 authentication failed, 4 not found
/// or not allowed.
/// </summary>
internal static class ExitCodes
{
    public const int Success = 0;

    public const int Failure = 1;

    public const int BadUsage = Program.ExitBadUsage;

    public const int AuthenticationFailed = 3;

    public const int NotFoundOrNotAllowed = 4;

    /// <summary>The exit code for a request the server or the balancer refused.</summary>
    public static int For(ErrorCode code) => code switch
    {
        ErrorCode.AuthenticationFailed => AuthenticationFailed,
        ErrorCode.InvalidUserName => BadUsage,
        ErrorCode.UserNotFound or ErrorCode.GroupNotFound or ErrorCode.NotAdmin or ErrorCode.GroupFull or
            ErrorCode.AlreadyMember or ErrorCode.NotMember or ErrorCode.UserExists or ErrorCode.GroupExists => NotFoundOrNotAllowed,

        // Rate limits, an unavailable cluster, files over the limit and server failures: trying again later (or
        // with something else) may work, which is what 1 says.
        _ => Failure,
    };

    /// <summary>
    /// Maps what a user command threw to its exit code and sentence, or returns <see langword="false"/> for an exception
    /// that is a bug (and should surface as one).
    /// </summary>
    /// <param name="exception">What the command threw.</param>
    /// <param name="balancer">The balancer the command talked to, for the "cannot reach" sentence.</param>
    /// <param name="exitCode">The exit code.</param>
    /// <param name="message">One sentence, without the "fastchat: " prefix.</param>
    public static bool TryDescribe(Exception exception, string balancer, out int exitCode, out string message)
    {
        switch (exception)
        {
            case KeyChangedException changed:
                exitCode = Failure;
                message = $"{changed.UserName}'s identity key has changed since it was first seen (pinned {changed.PinnedFingerprint}, now {changed.NewFingerprint}), so nothing was sent: someone may be impersonating {changed.UserName}; compare fingerprints with {changed.UserName} before trusting the new key.";
                return true;
            case ChatException refused:
                exitCode = For(refused.ErrorCode);
                message = refused.ErrorCode switch
                {
                    ErrorCode.AuthenticationFailed => "sign-in failed: wrong user name or password.",
                    ErrorCode.RateLimited => "too many failed sign-ins: wait a minute and try again.",
                    _ => Sentence(refused.Message),
                };
                return true;
            case ChatConnectionException unreachable:
                exitCode = Failure;
                message = "cannot reach the chat service: " + Unreachable(unreachable);
                return true;
            case TimeoutException or OperationCanceledException:
                // Not the command's own cancellation (Ctrl-C is handled before this): a request that timed out inside.
                exitCode = Failure;
                message = $"the chat service at {balancer} did not answer in time; try again.";
                return true;
            case ChatHistoryException history:
                exitCode = Failure;
                message = "the local history cannot be used: " + Sentence(history.Message);
                return true;
            case FileNotFoundException missing:
                exitCode = Failure;
                message = $"the file {missing.FileName ?? "given"} does not exist.";
                return true;
            case InvalidDataException damaged:
                // The pinned contact keys (pins.json) cannot be read back.
                exitCode = Failure;
                message = "the local key pin file is damaged: " + Sentence(damaged.Message);
                return true;
            case EnvelopeException envelope:
                // The server handed out keys that are not keys: not something the user can fix by retrying differently.
                exitCode = Failure;
                message = "a key from the server cannot be used: " + Sentence(envelope.Message);
                return true;
            case IOException or UnauthorizedAccessException:
                exitCode = Failure;
                message = Sentence(exception.Message);
                return true;
            case ArgumentException argument:
                // What the command line passed and the client still refused (a text too long for one frame, say).
                exitCode = BadUsage;
                message = Sentence(argument.ParamName is { } name ? argument.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : argument.Message);
                return true;
            case FastChatException other:
                // A protocol violation by the peer or another transport-level failure: not the user's doing.
                exitCode = Failure;
                message = "the chat service failed: " + Sentence(other.Message);
                return true;
            default:
                exitCode = Failure;
                message = string.Empty;
                return false;
        }
    }

    /// <summary>
    /// Why something could not be reached, once: each layer prefixes the one below ("could not connect to the balancer
    /// at X: Could not connect to X: Connection refused"), so this keeps the outermost "what" and the innermost "why".
    /// </summary>
    public static string Unreachable(Exception exception)
    {
        Exception root = exception.GetBaseException();
        if (ReferenceEquals(root, exception))
        {
            return Sentence(exception.Message);
        }

        int colon = exception.Message.IndexOf(": ", StringComparison.Ordinal);
        string what = colon > 0 ? exception.Message[..colon] : exception.Message.TrimEnd('.');
        return Sentence($"{what}: {root.Message}");
    }

    /// <summary>Makes a message read as the continuation of "fastchat: ": a lower-case first word and one final full stop.</summary>
    public static string Sentence(string message)
    {
        string text = message.Trim();
        if (text.Length == 0)
        {
            return "unknown error.";
        }

        // "There is no user 'x'." → "there is no user 'x'."; "A group named ..." → "a group named ..."; an acronym or a
        // name ("PBKDF2 ...", "TLS ...", "I ...") stays as it is.
        int wordEnd = text.IndexOf(' ', StringComparison.Ordinal);
        string firstWord = wordEnd < 0 ? text : text[..wordEnd];
        if (char.IsUpper(firstWord[0]) && ((firstWord.Length > 1 && char.IsLower(firstWord[1])) || firstWord == "A"))
        {
            text = char.ToLower(text[0], CultureInfo.InvariantCulture) + text[1..];
        }

        return text.EndsWith('.') || text.EndsWith('?') || text.EndsWith('!') ? text : text + ".";
    }
}
