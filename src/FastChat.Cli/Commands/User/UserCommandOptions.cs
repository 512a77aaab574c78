using System.CommandLine;
using System.CommandLine.Parsing;
using FastChat.Client.Secure;
using FastChat.Hosts.Security;
using FastChat.Protocol;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// The options every user command takes (<c>--balancer</c>, <c>--user</c>, <c>--password-stdin</c>, <c>--json</c>,
/// <c>--data</c>), and the common run: get the password, sign in (or up), do the command's work, report a failure as its
/// exit code and one sentence, sign out.
/// </summary>
internal sealed class UserCommandOptions
{
    public const string DefaultBalancerHost = "127.0.0.1";

    public const int DefaultBalancerPort = 7700;

    public UserCommandOptions()
    {
        Balancer = CreateBalancer();
        Json = CreateJson();
        User = Name("--user", "Who you are: your user name.", required: true);
        PasswordStdin = new Option<bool>("--password-stdin")
        {
            Description = $"Read the password from the first line of standard input. Without it: ${PasswordSource.EnvironmentVariable}, else a prompt on the terminal.",
        };
        Data = new Option<string>("--data")
        {
            Description = "Your local folder for the message history and the pinned keys of your contacts (default: $XDG_DATA_HOME/fastchat/USER, i.e. ~/.local/share/fastchat/USER).",
            HelpName = "DIR",
        };
        Data.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("--data must not be empty.");
            }
        });
    }

    public Option<(string Host, int Port)?> Balancer { get; }

    public Option<string> User { get; }

    public Option<bool> PasswordStdin { get; }

    public Option<bool> Json { get; }

    public Option<string> Data { get; }

    /// <summary>The <c>--balancer HOST:PORT</c> option (default 127.0.0.1:7700).</summary>
    public static Option<(string Host, int Port)?> CreateBalancer() => new("--balancer")
    {
        Description = $"The balancer to sign in through, as HOST:PORT (default {DefaultBalancerHost}:{DefaultBalancerPort}).",
        HelpName = "HOST:PORT",
        CustomParser = EndPointArgument.Parse,
    };

    /// <summary>The <c>--json</c> switch.</summary>
    public static Option<bool> CreateJson() => new("--json")
    {
        Description = "Print one JSON object per line (each with an \"event\" field) instead of text.",
    };

    /// <summary>An option naming a user or group, checked against the naming rule (bad usage, not a server round trip).</summary>
    public static Option<string> Name(string name, string description, bool required)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = "NAME",
            Required = required,
        };
        option.Validators.Add(result => CheckName(result, name, result.GetValueOrDefault<string>()));
        return option;
    }

    /// <summary>An argument naming a user or group, checked against the naming rule.</summary>
    public static Argument<string> NameArgument(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result => CheckName(result, name, result.GetValueOrDefault<string>()));
        return argument;
    }

    /// <summary>Formats a balancer endpoint as HOST:PORT (IPv6 in brackets), for messages.</summary>
    public static string Describe((string Host, int Port) endPoint) =>
        endPoint.Host.Contains(':', StringComparison.Ordinal) ? $"[{endPoint.Host}]:{endPoint.Port}" : $"{endPoint.Host}:{endPoint.Port}";

    /// <summary>The balancer the command talks to.</summary>
    public (string Host, int Port) BalancerOf(ParseResult parse) => parse.GetValue(Balancer) ?? (DefaultBalancerHost, DefaultBalancerPort);

    /// <summary>The per-user state folder given with <c>--data</c> (a full path), or <see langword="null"/> for the default.</summary>
    public string? DataDirectoryOf(ParseResult parse) => parse.GetValue(Data) is { } data ? Path.GetFullPath(data) : null;

    public void AddTo(Command command)
    {
        command.Options.Add(Balancer);
        command.Options.Add(User);
        command.Options.Add(PasswordStdin);
        command.Options.Add(Json);
        command.Options.Add(Data);
    }

    /// <summary>
    /// Runs a user command: gets the password, signs in (or up), runs <paramref name="action"/>, signs out. Failures
    /// become the exit codes of <see cref="ExitCodes"/> with one sentence on stderr.
    /// </summary>
    /// <param name="parse">The parsed command line.</param>
    /// <param name="signUp">Whether to create the account rather than sign in to it.</param>
    /// <param name="action">The command's work, signed in; returns the exit code.</param>
    /// <param name="cancellationToken">Ctrl-C or SIGTERM.</param>
    /// <param name="configure">Adjusts the client's options (signup's KDF cost, inbox's download folder).</param>
    public async Task<int> RunAsync(
        ParseResult parse,
        bool signUp,
        Func<SecureChatClient, Output, CancellationToken, Task<int>> action,
        CancellationToken cancellationToken,
        Action<SecureChatOptions>? configure = null)
    {
        var output = new Output(parse.GetValue(Json));
        string user = parse.GetValue(User)!;
        (string host, int port) = BalancerOf(parse);
        string balancer = Describe((host, port));

        PasswordSource.Result password;
        try
        {
            password = await PasswordSource.GetAsync(parse.GetValue(PasswordStdin), user, confirm: signUp, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            output.Error("interrupted.");
            return ExitCodes.Failure;
        }

        if (password.Problem is { } problem)
        {
            output.Error(problem);
            return ExitCodes.BadUsage;
        }

        var options = new SecureChatOptions { DataDirectory = DataDirectoryOf(parse) };
        options.Client.BalancerHost = host;
        options.Client.BalancerPort = port;
        configure?.Invoke(options);

        try
        {
            await using var client = new SecureChatClient(options);
            if (signUp)
            {
                await client.SignUpAsync(user, password.Password!, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await client.SignInAsync(user, password.Password!, cancellationToken).ConfigureAwait(false);
            }

            int exitCode = await action(client, output, cancellationToken).ConfigureAwait(false);
            await SignOutAsync(client).ConfigureAwait(false);
            return exitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            output.Error("interrupted.");
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ExitCodes.TryDescribe(ex, balancer, out int exitCode, out string message))
        {
            output.Error(message);
            return exitCode;
        }
    }

    /// <summary>Signs out, bounded: see the comment inside.</summary>
    public static async Task SignOutAsync(SecureChatClient client)
    {
        // The command's outcome is settled (its sends were acknowledged, its messages recorded and acknowledged), so a
        // sign-out the server does not answer in time is no failure: the session ends when the connection closes.
        if (!client.IsSignedIn)
        {
            // The command closed the session itself (inbox does, to print what was still queued).
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await client.SignOutAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or FastChatException)
        {
            // See above: nothing left to report.
        }
    }

    private static void CheckName(SymbolResult result, string what, string? value)
    {
        if (!Names.IsValid(value, out string problem))
        {
            result.AddError($"{what} '{value}' is not a valid name: {ExitCodes.Sentence(problem)}");
        }
    }
}
