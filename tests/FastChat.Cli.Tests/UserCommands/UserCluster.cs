using System.Globalization;

namespace FastChat.Cli.Tests.UserCommands;

/// <summary>
/// A <c>fastchat serve --port 0</c> process (balancer and two chat servers, SQLite in a temp folder) shared by the tests
/// of one class, and the way to run user commands against it: each user has its own state folder (<c>--data</c>) and
/// the password in <c>FASTCHAT_PASSWORD</c>. Groups are limited to 2 members (the admin and one more) so that "group
/// full" is one <c>add</c> away, files to 1 MiB; load reports come every 200 ms so <c>status</c> and the connection counts are current.
/// </summary>
public sealed class UserCluster : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";

    /// <summary>The servers' file size limit here (1 MiB), so "file too large" needs no 16 MiB file.</summary>
    public const int MaxFileSize = 1024 * 1024;

    private readonly TestFolder _folder = new();
    private FastChatProcess? _serve;

    public int BalancerPort { get; private set; }

    internal string Balancer => "127.0.0.1:" + BalancerPort.ToString(CultureInfo.InvariantCulture);

    internal string Folder => _folder.Path;

    /// <summary>The serve process's output, for assertion messages.</summary>
    internal string ServerOutput => _serve?.Output ?? string.Empty;

    /// <summary>The environment every user command gets: the password, the cheapest allowed KDF, and a private XDG_DATA_HOME.</summary>
    internal Dictionary<string, string?> Environment() => new()
    {
        ["FASTCHAT_PASSWORD"] = Password,
        ["FASTCHAT_KDF_ITERATIONS"] = "100000",
        ["XDG_DATA_HOME"] = _folder.Combine("xdg"),
    };

    public async Task InitializeAsync()
    {
        var environment = new Dictionary<string, string?>
        {
            ["FASTCHAT__SERVER__GROUPMEMBERLIMIT"] = "2",
            ["FASTCHAT__SERVER__MAXFILESIZE"] = MaxFileSize.ToString(CultureInfo.InvariantCulture),
            ["FASTCHAT__SERVER__LOADREPORTINTERVAL"] = "00:00:00.200",

            // A listening inbox acknowledges within milliseconds; the margin is for a machine busy with other tests.
            ["FASTCHAT__SERVER__DELIVERYTIMEOUT"] = "00:00:10",
        };
        _serve = FastChatProcess.StartIn(_folder.Path, environment, "serve", "--port", "0", "--data", _folder.Combine("server"));
        await _serve.WaitForReadyAsync();
        BalancerPort = _serve.BalancerPort;
    }

    public async Task DisposeAsync()
    {
        if (_serve is not null)
        {
            await _serve.DisposeAsync();
        }

        _folder.Dispose();
    }

    /// <summary>A user's state folder (history, pinned keys).</summary>
    internal string DataOf(string user) => _folder.Combine("users", user);

    /// <summary>A user's download folder for <c>inbox --download-dir</c>.</summary>
    internal string DownloadsOf(string user) => _folder.Combine("downloads", user);

    /// <summary>Runs a user command as <paramref name="user"/> against this cluster: adds --balancer, --user and --data.</summary>
    internal Task<CommandResult> RunAsync(string user, params string[] arguments) =>
        UserCommand.RunAsync(_folder.Path, Environment(), null, [.. arguments, "--balancer", Balancer, "--user", user, "--data", DataOf(user)]);

    /// <summary>Runs a command with exactly the arguments and environment given (no options added).</summary>
    internal Task<CommandResult> RunRawAsync(IReadOnlyDictionary<string, string?> environment, string? standardInput, params string[] arguments) =>
        UserCommand.RunAsync(_folder.Path, environment, standardInput, arguments);

    /// <summary>Signs the users up (at once) and checks that each succeeded.</summary>
    internal async Task SignUpAsync(params string[] users)
    {
        CommandResult[] results = await Task.WhenAll(users.Select(user => RunAsync(user, "signup")));
        foreach (CommandResult result in results)
        {
            result.AssertSuccess();
        }
    }
}
