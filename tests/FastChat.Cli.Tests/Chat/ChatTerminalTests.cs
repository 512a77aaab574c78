using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace FastChat.Cli.Tests.Chat;

/// <summary>
/// <c>fastchat chat</c> used as a person uses it: real processes in pseudo-terminals (tmux), keys typed with send-keys,
/// the screen read with capture-pane, against a real <c>fastchat serve</c> cluster with accounts made by <c>fastchat signup</c>.
/// </summary>
public sealed partial class ChatTerminalTests
{
    private const string AlicePassword = "alice's correct horse";
    private const string BobPassword = "bob's battery staple";

    [SkippableFact]
    public async Task Chat_TwoPeopleInTerminals_MessagesGroupsFilesAndFeedbackAppearWhileTyping()
    {
        Skip.If(Tmux.Program is null, "tmux is not installed (.ci/run installs it): the chat is tested in a tmux pseudo-terminal.");

        using var folder = new TestFolder();
        await using FastChatProcess serve = FastChatProcess.StartIn(folder.Path, null, "serve", "--port", "0", "--data", folder.Combine("server"));
        await using var tmux = new Tmux();
        await serve.WaitForReadyAsync();
        string balancer = $"127.0.0.1:{serve.BalancerPort}";

        // Both accounts through the scripted command, in parallel.
        Task<string> aliceSignup = SignUpAsync(folder, balancer, "alice", AlicePassword);
        Task<string> bobSignup = SignUpAsync(folder, balancer, "bob", BobPassword);
        string aliceFingerprint = await aliceSignup;
        await bobSignup;

        string aliceDownloads = folder.Combine("alice-downloads");
        string bobDownloads = folder.Combine("bob-downloads");

        // alice's password is piped in (--password-stdin; the keys then come from her terminal all the same); bob
        // types his at the prompt; a third terminal gets alice's password wrong in FASTCHAT_PASSWORD. All start at once.
        await tmux.StartFastChatPipedAsync("alice", folder.Path, new Dictionary<string, string>(), AlicePassword,
            "chat", "--user", "alice", "--password-stdin", "--balancer", balancer, "--data", folder.Combine("alice"), "--download-dir", aliceDownloads);
        await tmux.StartFastChatAsync("bob", folder.Path, new Dictionary<string, string>(),
            "chat", "--user", "bob", "--balancer", balancer, "--data", folder.Combine("bob"), "--download-dir", bobDownloads);
        await tmux.StartFastChatAsync("mallory", folder.Path, new Dictionary<string, string> { ["FASTCHAT_PASSWORD"] = "not alice's password" },
            "chat", "--user", "alice", "--balancer", balancer, "--data", folder.Combine("mallory"));

        // The password prompt does not echo what is typed.
        await tmux.WaitForTextAsync("bob", "Password for bob:");
        await tmux.SubmitAsync("bob", BobPassword);

        // The header: who, where, and the key fingerprint signup reported.
        string aliceScreen = await tmux.WaitForTextAsync("alice", "/help lists the commands");
        Assert.Contains("signed in as", aliceScreen, StringComparison.Ordinal);
        Assert.Contains(balancer, aliceScreen, StringComparison.Ordinal);
        Assert.Contains(aliceFingerprint, aliceScreen, StringComparison.Ordinal);
        string bobScreen = await tmux.WaitForTextAsync("bob", "/help lists the commands");
        Assert.DoesNotContain(BobPassword, bobScreen, StringComparison.Ordinal);

        // A wrong password: one clear sentence and exit code 3.
        Assert.Contains("wrong user name or password", await AssertExitAsync(tmux, "mallory", 3), StringComparison.Ordinal);

        // alice picks bob's conversation and writes; bob, idle, sees it arrive; alice sees it sent, then delivered.
        await tmux.SubmitAsync("alice", "/to bob");
        aliceScreen = await tmux.WaitForTextAsync("alice", "now talking to bob");

        // A submitted line leaves the input line: it is not left behind on screen (as the terminal's own echo would).
        Assert.DoesNotContain("› /to bob", aliceScreen, StringComparison.Ordinal);
        await tmux.SubmitAsync("alice", "hello bob, this is alice");
        await tmux.WaitForTextAsync("bob", "alice: hello bob, this is alice");

        // "sent" (the server took it) comes before "delivered" (bob's client acknowledged it), even when bob's receipt
        // overtakes the server's answer.
        aliceScreen = await tmux.WaitForTextAsync("alice", "✓✓ delivered to bob");
        int sentAt = aliceScreen.IndexOf("you → bob: hello bob, this is alice  ✓ sent", StringComparison.Ordinal);
        Assert.InRange(sentAt, 0, aliceScreen.IndexOf("✓✓ delivered to bob", StringComparison.Ordinal));

        // alice is half-way through a line when bob's answer arrives: it is printed above her input line, which
        // still holds what she typed.
        await tmux.TypeAsync("alice", "a draft in progress");
        await tmux.WaitForAsync("alice", screen => LastLine(screen).EndsWith("a draft in progress", StringComparison.Ordinal), "the draft on the input line");
        await tmux.SubmitAsync("bob", "/dm alice hi alice, bob here");
        aliceScreen = await tmux.WaitForTextAsync("alice", "bob: hi alice, bob here");
        Assert.EndsWith("alice → bob › a draft in progress", LastLine(await tmux.CaptureVisibleAsync("alice")), StringComparison.Ordinal);
        await tmux.WaitForTextAsync("bob", "you → alice: hi alice, bob here  ✓ sent");

        // Backspace takes one character, Ctrl-W a word, Esc the rest.
        await tmux.PressAsync("alice", "BSpace", "BSpace", "BSpace");
        await tmux.WaitForAsync("alice", screen => LastLine(screen).EndsWith("a draft in progr", StringComparison.Ordinal), "the draft after three backspaces");
        await tmux.PressAsync("alice", "C-w");
        await tmux.WaitForAsync("alice", screen => LastLine(screen).EndsWith("a draft in", StringComparison.Ordinal), "the draft after Ctrl-W");
        await tmux.PressAsync("alice", "Escape");
        await tmux.WaitForAsync("alice", screen => LastLine(screen).EndsWith("alice → bob ›", StringComparison.Ordinal), "an empty input line after Esc");

        // A group by slash command, a member added through the menus (F2, arrow keys, Enter, text prompts).
        await tmux.SubmitAsync("alice", "/group create team");
        await tmux.WaitForTextAsync("alice", "✓ created #team");
        await tmux.PressAsync("alice", "F2");
        await tmux.WaitForTextAsync("alice", "main menu");
        await tmux.PressAsync("alice", "Enter"); // Manage groups
        await tmux.WaitForTextAsync("alice", "Manage existing group");
        await tmux.PressAsync("alice", "Down", "Enter"); // Manage existing group
        await tmux.WaitForTextAsync("alice", "Group (empty to go back):");
        await tmux.SubmitAsync("alice", "team");
        await tmux.WaitForTextAsync("alice", "See members");
        await tmux.PressAsync("alice", "Enter"); // Add member
        await tmux.WaitForTextAsync("alice", "User to add (empty to go back):");
        await tmux.SubmitAsync("alice", "bob");
        await tmux.WaitForTextAsync("alice", "✓ added bob to #team");
        await tmux.WaitForTextAsync("bob", "alice added you to #team");

        // /menu opens the same menus, here to See members. The keys are typed ahead, as a practised hand would:
        // each menu takes them in order once it is up.
        await tmux.SubmitAsync("alice", "/menu");
        await tmux.PressAsync("alice", "Enter"); // Manage groups
        await tmux.PressAsync("alice", "Down", "Enter"); // Manage existing group
        await tmux.SubmitAsync("alice", "#team");
        await tmux.PressAsync("alice", "Down", "Down", "Enter"); // See members
        aliceScreen = await tmux.WaitForTextAsync("alice", "#team · 2 members");
        Assert.Matches(MembersLine(), aliceScreen);

        // A group message reaches bob.
        await tmux.SubmitAsync("alice", "/group send team hello team");
        await tmux.WaitForTextAsync("bob", "#team alice: hello team");
        await tmux.WaitForTextAsync("alice", "you → #team: hello team  ✓ sent");

        // A file: bob's terminal says where it was saved, and the saved bytes are the sent ones.
        byte[] photo = RandomNumberGenerator.GetBytes(150_000);
        string photoPath = folder.Combine("holiday photo.png");
        await File.WriteAllBytesAsync(photoPath, photo);
        await tmux.SubmitAsync("alice", $"/file bob \"{photoPath}\"");
        bobScreen = await tmux.WaitForTextAsync("bob", "file saved:");
        Assert.Contains("alice sent holiday photo.png (150.0 KB)", bobScreen, StringComparison.Ordinal);
        string saved = Assert.Single(Directory.GetFiles(bobDownloads));
        Assert.Contains(saved, bobScreen, StringComparison.Ordinal);
        Assert.Equal(photo, await File.ReadAllBytesAsync(saved));
        await tmux.WaitForTextAsync("alice", "you → bob: file holiday photo.png (150.0 KB)  ✓ sent");

        // Refusals are said plainly: no such user, not the admin.
        await tmux.SubmitAsync("alice", "/dm nobody hi");
        await tmux.WaitForTextAsync("alice", "✗ user not found: there is no user nobody");
        await tmux.SubmitAsync("bob", "/group remove team alice");
        await tmux.WaitForTextAsync("bob", "✗ not admin: only the admin of #team can add or remove members");

        // /history reads this machine's history.
        await tmux.SubmitAsync("bob", "/history alice");
        await tmux.WaitForTextAsync("bob", "history with alice");

        // /quit signs out and exits 0; Ctrl-C leaves cleanly too.
        await tmux.SubmitAsync("alice", "/quit");
        Assert.Contains("signed out", await AssertExitAsync(tmux, "alice", 0), StringComparison.Ordinal);
        await tmux.PressAsync("bob", "C-c");
        Assert.Contains("signed out", await AssertExitAsync(tmux, "bob", 0), StringComparison.Ordinal);
    }

    /// <summary>Guards the error exit for a chat started without a terminal (a script, a pipe): it must not hang or print escape codes.</summary>
    [Fact]
    public async Task Chat_WithoutTerminal_ExitsWithUsageError()
    {
        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunInAsync(
            null, new Dictionary<string, string?> { ["FASTCHAT_PASSWORD"] = AlicePassword }, "chat", "--user", "alice", "--balancer", "127.0.0.1:9");

        Assert.Equal(2, exitCode);
        Assert.Contains("fastchat chat needs a terminal", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Chat_WithoutUser_ExitsWithUsageError()
    {
        (int exitCode, _, string stderr) = await FastChatProcess.RunAsync("chat", "--balancer", "127.0.0.1:7700");

        Assert.Equal(2, exitCode);
        Assert.Contains("--user", stderr, StringComparison.Ordinal);
    }

    private static async Task<string> SignUpAsync(TestFolder folder, string balancer, string user, string password)
    {
        var environment = new Dictionary<string, string?>
        {
            ["FASTCHAT_PASSWORD"] = password,
            ["FASTCHAT_KDF_ITERATIONS"] = "100000",
        };
        (int exitCode, string stdout, string stderr) = await FastChatProcess.RunInAsync(
            folder.Path, environment, "signup", "--user", user, "--balancer", balancer, "--data", folder.Combine(user));
        Assert.True(exitCode == 0, $"signup {user} exited with {exitCode}: {stderr}");
        Match fingerprint = FingerprintLine().Match(stdout);
        Assert.True(fingerprint.Success, $"signup printed no fingerprint: {stdout}");
        return fingerprint.Groups[1].Value.Trim();
    }

    /// <summary>Waits for the program in <paramref name="session"/> to exit with <paramref name="expected"/>; returns its last screen.</summary>
    private static async Task<string> AssertExitAsync(Tmux tmux, string session, int expected)
    {
        int exitCode = await tmux.WaitForExitAsync(session);
        string screen = await tmux.CaptureAsync(session);
        Assert.True(exitCode == expected, $"{session}'s chat exited with {exitCode}, not {expected}. Screen:\n{screen}");
        Assert.DoesNotContain("Unhandled exception", screen, StringComparison.Ordinal);
        return screen;
    }

    /// <summary>The last line with anything on it: the input line.</summary>
    private static string LastLine(string screen)
    {
        string[] lines = screen.Split('\n');
        for (int i = lines.Length - 1; i >= 0; i--)
        {
            if (lines[i].Trim().Length > 0)
            {
                return lines[i].TrimEnd();
            }
        }

        return string.Empty;
    }

    [GeneratedRegex(@"#team · 2 members · key epoch \d+: (alice \(admin\), bob|bob, alice \(admin\))")]
    private static partial Regex MembersLine();

    [GeneratedRegex(@"(?m)^fingerprint (.+)$")]
    private static partial Regex FingerprintLine();
}
