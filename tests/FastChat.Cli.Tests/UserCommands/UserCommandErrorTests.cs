using System.Net;
using System.Net.Sockets;

namespace FastChat.Cli.Tests.UserCommands;

/// <summary>
/// Every refusal a script can meet, through real processes against a real <c>fastchat serve</c>: the documented exit code
/// (3 authentication failed, 4 not found or not allowed, 1 other failures, 2 bad usage) and one sentence on stderr.
/// </summary>
public sealed class UserCommandErrorTests : IClassFixture<UserCluster>
{
    private readonly UserCluster _cluster;

    public UserCommandErrorTests(UserCluster cluster)
    {
        _cluster = cluster;
    }

    /// <summary>Guards the mapping of AuthenticationFailed to 3, for a wrong password and for a user that does not exist.</summary>
    [Fact]
    public async Task SignIn_WrongPasswordOrUnknownUser_ExitsThree()
    {
        await _cluster.SignUpAsync("ida");
        Dictionary<string, string?> wrong = _cluster.Environment();
        wrong["FASTCHAT_PASSWORD"] = "not the password";

        CommandResult wrongPassword = await _cluster.RunRawAsync(wrong, null, "inbox", "--wait", "0.5", "--balancer", _cluster.Balancer, "--user", "ida", "--data", _cluster.DataOf("ida"));
        CommandResult unknownUser = await _cluster.RunAsync("nobody-here", "dm", "--to", "ida", "--text", "hi");

        wrongPassword.AssertFailure(3, "wrong user name or password");
        unknownUser.AssertFailure(3, "wrong user name or password");
    }

    /// <summary>The password from standard input (<c>--password-stdin</c>) wins over the environment and is checked like any other.</summary>
    [Fact]
    public async Task PasswordStdin_RightAndWrongPassword_SignsInOrExitsThree()
    {
        await _cluster.SignUpAsync("ivy");
        Dictionary<string, string?> environment = _cluster.Environment();
        environment["FASTCHAT_PASSWORD"] = "the environment's wrong password";
        string[] arguments = ["inbox", "--wait", "0.5", "--password-stdin", "--balancer", _cluster.Balancer, "--user", "ivy", "--data", _cluster.DataOf("ivy")];

        CommandResult right = await _cluster.RunRawAsync(environment, UserCluster.Password, arguments);
        CommandResult wrong = await _cluster.RunRawAsync(environment, "wrong", arguments);

        Assert.Contains("no new messages", right.AssertSuccess().Stdout, StringComparison.Ordinal);
        wrong.AssertFailure(3, "wrong user name or password");
    }

    [Fact]
    public async Task Signup_ExistingUser_ExitsFour()
    {
        await _cluster.SignUpAsync("jon");

        CommandResult again = await _cluster.RunAsync("jon", "signup");

        again.AssertFailure(4, "jon");
        Assert.Contains("taken", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_NoSuchRecipientOrGroup_ExitsFour()
    {
        await _cluster.SignUpAsync("kai");

        CommandResult noUser = await _cluster.RunAsync("kai", "dm", "--to", "nobody", "--text", "hello?");
        CommandResult noGroup = await _cluster.RunAsync("kai", "group", "send", "no-such-group", "--text", "hello?");
        CommandResult noGroupMembers = await _cluster.RunAsync("kai", "group", "add", "no-such-group", "kai");

        noUser.AssertFailure(4, "nobody");
        noGroup.AssertFailure(4, "no-such-group");
        noGroupMembers.AssertFailure(4, "no-such-group");
    }

    /// <summary>Only the admin adds members; a member cannot be added twice; a group at its limit (2 here) takes no one else.</summary>
    [Fact]
    public async Task GroupAdd_NotAdminAlreadyMemberOrFull_ExitsFour()
    {
        await _cluster.SignUpAsync("kim", "lee", "max");
        (await _cluster.RunAsync("kim", "group", "create", "kims")).AssertSuccess();

        (await _cluster.RunAsync("lee", "group", "add", "kims", "max")).AssertFailure(4, "admin");
        (await _cluster.RunAsync("kim", "group", "add", "kims", "lee")).AssertSuccess();
        (await _cluster.RunAsync("kim", "group", "add", "kims", "lee")).AssertFailure(4, "already");
        (await _cluster.RunAsync("kim", "group", "add", "kims", "max")).AssertFailure(4, "full");
        (await _cluster.RunAsync("lee", "group", "members", "kims")).AssertFailure(4, "admin");
        (await _cluster.RunAsync("kim", "group", "remove", "kims", "max")).AssertFailure(4, "not in the group");
    }

    /// <summary>Nothing listening at --balancer: exit 1 and a sentence naming the endpoint, for a signed-in command and for status.</summary>
    [Fact]
    public async Task Commands_UnreachableBalancer_ExitOne()
    {
        int port = ClosedPort();
        string balancer = "127.0.0.1:" + port;
        Dictionary<string, string?> environment = _cluster.Environment();

        CommandResult dm = await _cluster.RunRawAsync(environment, null, "dm", "--to", "someone", "--text", "hi", "--user", "nobody", "--balancer", balancer, "--data", _cluster.DataOf("nobody"));
        CommandResult status = await _cluster.RunRawAsync(environment, null, "status", "--balancer", balancer);

        dm.AssertFailure(1, "cannot reach the chat service: could not connect to the balancer at " + balancer);
        status.AssertFailure(1, "cannot reach the balancer at " + balancer);
    }

    /// <summary>
    /// A contact whose key no longer matches the pin (here: the pin file says otherwise, as after a substituted key): a
    /// send is refused with 1 and a sentence naming both fingerprints; inbox warns on stderr and, with --json, as a
    /// "key-changed" object on stdout, and does not show the contact's message.
    /// </summary>
    [Fact]
    public async Task KeyChanged_PinDiffersFromTheServersKey_DmExitsOneAndInboxWarns()
    {
        await _cluster.SignUpAsync("oli", "pat");
        (await _cluster.RunAsync("oli", "dm", "--to", "pat", "--text", "first")).AssertSuccess();
        (await _cluster.RunAsync("pat", "dm", "--to", "oli", "--text", "held back")).AssertSuccess();
        string pins = Path.Combine(_cluster.DataOf("oli"), "pins.json");
        string original = await File.ReadAllTextAsync(pins);
        string forged = new('0', 64);
        Assert.Contains("\"pat\"", original, StringComparison.Ordinal);
        await File.WriteAllTextAsync(pins, System.Text.RegularExpressions.Regex.Replace(original, "\"pat\"\\s*:\\s*\"[0-9a-f]{64}\"", $"\"pat\": \"{forged}\""));

        CommandResult dm = await _cluster.RunAsync("oli", "dm", "--to", "pat", "--text", "second");
        CommandResult inbox = await _cluster.RunAsync("oli", "inbox", "--json", "--wait", "3");

        dm.AssertFailure(1, "pat's identity key has changed");
        Assert.Equal(string.Empty, dm.Stdout);
        inbox.AssertSuccess();
        Assert.Contains("fastchat: warning: pat's identity key has changed", inbox.Stderr, StringComparison.Ordinal);
        System.Text.Json.JsonElement changed = Assert.Single(inbox.Events("key-changed"));
        Assert.Equal("pat", changed.GetProperty("user").GetString());
        Assert.NotEqual(changed.GetProperty("pinned").GetString(), changed.GetProperty("new").GetString());
        Assert.Empty(inbox.Events("message"));
    }

    [Fact]
    public async Task Dm_FileOverTheServersLimit_ExitsOne()
    {
        await _cluster.SignUpAsync("quinn", "rex");
        string big = Path.Combine(_cluster.Folder, "big.bin");
        await File.WriteAllBytesAsync(big, new byte[UserCluster.MaxFileSize + 1]);

        CommandResult result = await _cluster.RunAsync("quinn", "dm", "--to", "rex", "--file", big);

        result.AssertFailure(1, "limit");
    }

    private static int ClosedPort()
    {
        // A port that was free a moment ago and now has no listener: connecting to it is refused.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
