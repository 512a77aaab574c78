using System.CommandLine;
using FastChat.Client;
using FastChat.Client.Secure;
using FastChat.Protocol;
using FastChat.Protocol.Messages;
using Spectre.Console;

namespace FastChat.Cli.Commands.Chat;

/// <summary>
/// <c>fastchat chat --user NAME</c>: the interactive, end-to-end-encrypted chat in the terminal — messages appear while
/// you type, slash commands for fluent use, and the menus of the original clients on F2 or /menu.
/// </summary>
internal static class ChatCommand
{
    /// <summary>Where the chat signs in unless told otherwise (the balancer's default port).</summary>
    public const string DefaultBalancer = "127.0.0.1:7700";

    private const string PasswordVariable = "FASTCHAT_PASSWORD";
    private const int ExitFailure = 1;
    private const int ExitAuthenticationFailed = 3;
    private const int ExitNotFoundOrNotAllowed = 4;

    public static Command Create()
    {
        var user = new Option<string>("--user")
        {
            Description = "The user to sign in as.",
            HelpName = "NAME",
            Required = true,
        };
        user.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("--user must name a user.");
            }
        });
        var balancer = new Option<(string Host, int Port)?>("--balancer")
        {
            Description = $"The balancer to sign in through, as HOST:PORT (default {DefaultBalancer}).",
            HelpName = "HOST:PORT",
            CustomParser = EndPointArgument.Parse,
        };
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = $"Read the password from the first line of standard input; otherwise it comes from {PasswordVariable}, otherwise from a prompt.",
        };
        var data = new Option<string>("--data")
        {
            Description = "The folder for this user's local history and pinned keys (default: ~/.local/share/fastchat/NAME).",
            HelpName = "DIR",
        };
        var downloads = new Option<string>("--download-dir")
        {
            Description = "Where received files and images are saved (default: the current folder).",
            HelpName = "DIR",
        };

        var command = new Command("chat", "Chat interactively in the terminal: messages arrive while you type; /help lists the commands, F2 opens the menus.")
        {
            user,
            balancer,
            passwordStdin,
            data,
            downloads,
        };

        command.SetAction((parse, cancellationToken) =>
        {
            (string host, int port) = parse.GetValue(balancer) ?? ("127.0.0.1", 7700);
            var options = new SecureChatOptions
            {
                Client = new ChatClientOptions { BalancerHost = host, BalancerPort = port },
                DataDirectory = parse.GetValue(data) is { Length: > 0 } dataDirectory ? Path.GetFullPath(dataDirectory) : null,
            };
            if (parse.GetValue(downloads) is { Length: > 0 } downloadDirectory)
            {
                options.DownloadDirectory = Path.GetFullPath(downloadDirectory);
            }

            string server = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
            return RunAsync(parse.GetValue(user)!.Trim(), parse.GetValue(passwordStdin), options, server, cancellationToken);
        });

        return command;
    }

    private static async Task<int> RunAsync(string userName, bool passwordFromStandardInput, SecureChatOptions options, string server, CancellationToken cancellationToken)
    {
        // Checked before anything else: a chat without a terminal could only hang or scroll escape codes into a file.
        if (Console.IsOutputRedirected)
        {
            return await NeedsTerminalAsync().ConfigureAwait(false);
        }

        string? password = null;
        IDisposable? terminal = null;
        try
        {
            if (passwordFromStandardInput && !ChatTerminal.IsInputTerminal())
            {
                try
                {
                    password = ChatTerminal.ReadLineFromStandardInput();
                }
                catch (IOException ex)
                {
                    await Console.Error.WriteLineAsync($"fastchat: cannot read the password from standard input: {ex.Message}").ConfigureAwait(false);
                    return Program.ExitBadUsage;
                }

                if (string.IsNullOrEmpty(password))
                {
                    await Console.Error.WriteLineAsync("fastchat: --password-stdin was given but standard input held no password.").ConfigureAwait(false);
                    return Program.ExitBadUsage;
                }

                terminal = ChatTerminal.AttachTerminalToStandardInput();
                if (terminal is null)
                {
                    return await NeedsTerminalAsync().ConfigureAwait(false);
                }
            }

            if (Console.IsInputRedirected)
            {
                return await NeedsTerminalAsync().ConfigureAwait(false);
            }

            // With --password-stdin on a terminal, the password is typed on this very terminal: that is the prompt.
            if (password is null && !passwordFromStandardInput && Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } fromEnvironment)
            {
                password = fromEnvironment;
            }

            return await ChatAsync(userName, password, options, server, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            terminal?.Dispose();
        }
    }

    private static async Task<int> ChatAsync(string userName, string? password, SecureChatOptions options, string server, CancellationToken cancellationToken)
    {
        var input = new TerminalInput();
        var console = new ChatConsole(input);
        input.Start();
        try
        {
            password ??= await new TextPrompt<string>($"Password for {TerminalText.User(userName)}:").Secret().ShowAsync(console, cancellationToken).ConfigureAwait(false);

            await using var client = new SecureChatClient(options);
            if (await SignInAsync(client, console, userName, password, server, cancellationToken).ConfigureAwait(false) is { } failed)
            {
                return failed;
            }

            var session = new ChatSession(client, console, input, server, DateTime.UtcNow);
            return await session.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C at the password prompt or while signing in: nothing to undo.
            console.WriteLine();
            return 0;
        }
    }

    /// <summary>Signs in; returns <see langword="null"/> on success, else the exit code after saying why not.</summary>
    private static async Task<int?> SignInAsync(SecureChatClient client, ChatConsole console, string userName, string password, string server, CancellationToken cancellationToken)
    {
        try
        {
            await console.Status()
                .Spinner(Spinner.Known.Dots)
                .StartAsync($"signing in as {TerminalText.User(userName)} at {Markup.Escape(server)}…", _ => client.SignInAsync(userName, password, cancellationToken))
                .ConfigureAwait(false);
            return null;
        }
        catch (ChatException ex)
        {
            (int code, string sentence) = ex.ErrorCode switch
            {
                ErrorCode.AuthenticationFailed => (ExitAuthenticationFailed, $"sign-in failed: wrong user name or password for '{userName}'."),
                ErrorCode.InvalidUserName => (Program.ExitBadUsage, $"'{userName}' is not a valid user name: {ex.Message}"),
                ErrorCode.UserNotFound => (ExitNotFoundOrNotAllowed, $"there is no user '{userName}'; sign up first with 'fastchat signup --user {userName}'."),
                _ => (ExitFailure, $"sign-in failed: {ex.Message}"),
            };
            await Console.Error.WriteLineAsync("fastchat: " + sentence).ConfigureAwait(false);
            return code;
        }
        catch (ChatConnectionException ex)
        {
            await Console.Error.WriteLineAsync($"fastchat: cannot reach the balancer at {server}: {ex.Message}").ConfigureAwait(false);
            return ExitFailure;
        }
        catch (Exception ex) when (ex is TimeoutException or FastChatException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync($"fastchat: sign-in failed: {ex.Message}").ConfigureAwait(false);
            return ExitFailure;
        }
    }

    private static async Task<int> NeedsTerminalAsync()
    {
        await Console.Error.WriteLineAsync(
            "fastchat: fastchat chat needs a terminal (standard input and output must not be redirected); scripts use 'fastchat dm', 'fastchat group' and 'fastchat inbox'.").ConfigureAwait(false);
        return Program.ExitBadUsage;
    }
}
