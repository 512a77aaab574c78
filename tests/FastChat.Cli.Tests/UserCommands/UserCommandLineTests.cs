namespace FastChat.Cli.Tests.UserCommands;

/// <summary>
/// Bad command lines for the user commands: exit code 2 and one sentence saying what is wrong, before any network or
/// password prompt (nothing listens at the balancer these use, so reaching it would fail differently, with 1).
/// </summary>
public sealed class UserCommandLineTests
{
    // Nothing listens on port 9 (discard) on loopback here: a command that got past its usage checks would fail with 1.
    private const string Balancer = "127.0.0.1:9";

    [Theory]
    [InlineData(new[] { "dm", "--user", "amy", "--to", "ben", "--text", "hi", "--file", "FILE" }, "pass either --text or --file, not both")]
    [InlineData(new[] { "dm", "--user", "amy", "--to", "ben" }, "--text \"...\" or --file PATH")]
    [InlineData(new[] { "dm", "--to", "ben", "--text", "hi" }, "--user")]
    [InlineData(new[] { "dm", "--user", "amy", "--text", "hi" }, "--to")]
    [InlineData(new[] { "dm", "--user", "amy", "--to", "Ben!", "--text", "hi" }, "--to 'Ben!' is not a valid name")]
    [InlineData(new[] { "dm", "--user", "a", "--to", "ben", "--text", "hi" }, "--user 'a' is not a valid name: a name is 3 to 32 characters long")]
    [InlineData(new[] { "dm", "--user", "amy", "--to", "ben", "--text", "" }, "--text must not be empty")]
    [InlineData(new[] { "dm", "--user", "amy", "--to", "ben", "--file", "MISSING" }, "does not exist")]
    [InlineData(new[] { "dm", "--user", "amy", "--to", "ben", "--text", "hi", "--balancer", "localhost" }, "'localhost' is not HOST:PORT")]
    [InlineData(new[] { "dm", "--user", "amy", "--to", "ben", "--text", "hi", "--balancer", "127.0.0.1:70000" }, "is not a port between 1 and 65535")]
    [InlineData(new[] { "signup" }, "--user")]
    [InlineData(new[] { "group", "create", "--user", "amy" }, "Required argument missing for command: 'create'")]
    [InlineData(new[] { "group", "add", "team", "--user", "amy" }, "Required argument missing for command: 'add'")]
    [InlineData(new[] { "group", "send", "team", "--user", "amy" }, "--text \"...\" or --file PATH")]
    [InlineData(new[] { "group", "create", "Team Name", "--user", "amy" }, "GROUP 'Team Name' is not a valid name")]
    [InlineData(new[] { "group", "frobnicate", "team", "--user", "amy" }, "frobnicate")]
    [InlineData(new[] { "inbox", "--user", "amy", "--wait", "-1" }, "--wait must be more than 0 and at most 86400 seconds, not -1")]
    [InlineData(new[] { "inbox", "--user", "amy", "--wait", "0" }, "--wait must be more than 0")]
    [InlineData(new[] { "history", "--user", "amy", "--with", "ben", "--group", "team" }, "pass either --with or --group, not both")]
    [InlineData(new[] { "history", "--user", "amy", "--limit", "0" }, "--limit must be between 1 and")]
    [InlineData(new[] { "status", "--balancer", "nowhere" }, "'nowhere' is not HOST:PORT")]
    public async Task UserCommand_BadUsage_ExitsTwoAndSaysWhatIsWrong(string[] arguments, string expected)
    {
        using var folder = new TestFolder();
        string file = folder.Combine("file.txt");
        await File.WriteAllTextAsync(file, "content");
        string[] resolved = arguments
            .Select(a => a switch { "FILE" => file, "MISSING" => folder.Combine("missing.txt"), _ => a })
            .Concat(arguments[0] == "status" || arguments.Contains("--balancer") ? [] : ["--balancer", Balancer])
            .ToArray();

        CommandResult result = await UserCommand.RunAsync(folder.Path, Environment(folder), null, resolved);

        result.AssertFailure(2, expected);
        Assert.Equal(string.Empty, result.Stdout);
    }

    /// <summary>A script that forgot the password (stdin redirected, no variable) gets 2 and the way to pass one, not a hung prompt.</summary>
    [Fact]
    public async Task UserCommand_NoPasswordSourceWithStdinRedirected_ExitsTwo()
    {
        using var folder = new TestFolder();
        Dictionary<string, string?> environment = Environment(folder);
        environment.Remove("FASTCHAT_PASSWORD");

        CommandResult result = await UserCommand.RunAsync(folder.Path, environment, null, "inbox", "--user", "amy", "--balancer", Balancer, "--data", folder.Combine("amy"));

        result.AssertFailure(2, "fastchat: no password: pass --password-stdin or set FASTCHAT_PASSWORD");
    }

    /// <summary>--password-stdin with nothing on standard input is a usage error, not an attempt with an empty password.</summary>
    [Fact]
    public async Task UserCommand_PasswordStdinButEmptyInput_ExitsTwo()
    {
        using var folder = new TestFolder();

        CommandResult result = await UserCommand.RunAsync(folder.Path, Environment(folder), null, "inbox", "--user", "amy", "--password-stdin", "--balancer", Balancer);

        result.AssertFailure(2, "--password-stdin");
    }

    /// <summary>The KDF cost override cannot weaken new accounts below the floor.</summary>
    [Theory]
    [InlineData("1000")]
    [InlineData("lots")]
    public async Task Signup_KdfIterationsBelowFloorOrNotANumber_ExitsTwo(string iterations)
    {
        using var folder = new TestFolder();
        Dictionary<string, string?> environment = Environment(folder);
        environment["FASTCHAT_KDF_ITERATIONS"] = iterations;

        CommandResult result = await UserCommand.RunAsync(folder.Path, environment, null, "signup", "--user", "amy", "--balancer", Balancer);

        result.AssertFailure(2, "FASTCHAT_KDF_ITERATIONS must be a whole number from 100000");
    }

    /// <summary>The history is local: with no file yet it says so and succeeds, needing neither network nor password.</summary>
    [Fact]
    public async Task History_NoHistoryYet_PrintsNoMessagesWithoutNetworkOrPassword()
    {
        using var folder = new TestFolder();
        Dictionary<string, string?> environment = Environment(folder);
        environment.Remove("FASTCHAT_PASSWORD");

        CommandResult text = await UserCommand.RunAsync(folder.Path, environment, null, "history", "--user", "amy", "--data", folder.Combine("amy"));
        CommandResult json = await UserCommand.RunAsync(folder.Path, environment, null, "history", "--user", "amy", "--data", folder.Combine("amy"), "--json");

        Assert.Equal(["no messages"], text.AssertSuccess().Lines());
        Assert.Empty(json.AssertSuccess().Lines());
        Assert.False(File.Exists(folder.Combine("amy", "history.db")));
    }

    private static Dictionary<string, string?> Environment(TestFolder folder) => new()
    {
        ["FASTCHAT_PASSWORD"] = "some password",
        ["XDG_DATA_HOME"] = folder.Combine("xdg"),
    };
}
