using System.Diagnostics;
using System.Text;

namespace FastChat.Cli.Tests.Chat;

/// <summary>
/// A private tmux server (its own socket, so nothing else's sessions are touched) whose sessions are pseudo-terminals
/// running real <c>fastchat</c> processes: keys go in with send-keys, the screen comes out with capture-pane, as a person
/// at the keyboard would type and read.
/// </summary>
internal sealed class Tmux : IAsyncDisposable
{
    public const int Width = 160;
    public const int Height = 50;

    private const string ExitMarker = "[fastchat exited with ";

    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);

    private readonly string _socket = "fastchat-tests-" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<string> _sessions = [];

    /// <summary>The tmux program on PATH, or <see langword="null"/>.</summary>
    public static string? Program { get; } = Find();

    /// <summary>
    /// Starts <c>dotnet fastchat.dll ARGS</c> in a new detached 160×50 session called <paramref name="name"/>, in
    /// <paramref name="workingDirectory"/>, with <paramref name="environment"/> added. The pane stays after the process
    /// exits so its last screen and exit status can be read.
    /// </summary>
    public Task StartFastChatAsync(string name, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        StartFastChatPipedAsync(name, workingDirectory, environment, standardInput: null, arguments);

    /// <summary>As above, with <paramref name="standardInput"/> (and a line break) piped to the program's standard input, if not null.</summary>
    public async Task StartFastChatPipedAsync(string name, string workingDirectory, IReadOnlyDictionary<string, string> environment, string? standardInput, params string[] arguments)
    {
        var command = new List<string>
        {
            "new-session", "-d", "-x", Width.ToString(System.Globalization.CultureInfo.InvariantCulture), "-y", Height.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-s", name, "-c", workingDirectory,
        };
        foreach ((string variable, string value) in environment)
        {
            command.Add("-e");
            command.Add($"{variable}={value}");
        }

        // Through a shell that prints the exit status when the program ends: tmux's own record of it
        // (#{pane_dead_status}) is unreliable — now and then tmux 3.3 leaves an exited pane process unreaped and the
        // status empty. The trap keeps the shell alive through the Ctrl-C that the program handles itself (a trapped,
        // not ignored, signal is back to its default in the program).
        string run = "\"$@\"";
        if (standardInput is not null)
        {
            command.AddRange(["-e", "CHAT_TEST_STDIN=" + standardInput]);
            run = "printf '%s\\n' \"$CHAT_TEST_STDIN\" | " + run;
        }

        command.AddRange(["sh", "-c", "trap true INT; " + run + "; echo \"" + ExitMarker + "$?]\"", "sh"]);
        command.Add("dotnet");
        command.Add(Path.Combine(AppContext.BaseDirectory, "fastchat.dll"));
        command.AddRange(arguments);

        // In the same tmux command sequence, so it is set before the program could possibly have exited.
        command.AddRange([";", "set-option", "-w", "-t", name, "remain-on-exit", "on"]);
        _sessions.Add(name);
        await RunAsync(command);
    }

    /// <summary>Types <paramref name="text"/> literally (no key names).</summary>
    public Task TypeAsync(string session, string text) => RunAsync(["send-keys", "-t", session, "-l", text]);

    /// <summary>Presses keys by tmux's names: Enter, Down, Up, Escape, BSpace, F2, C-u, C-c ...</summary>
    public Task PressAsync(string session, params string[] keys) => RunAsync(["send-keys", "-t", session, .. keys]);

    /// <summary>Types a line and presses Enter.</summary>
    public async Task SubmitAsync(string session, string line)
    {
        await TypeAsync(session, line);
        await PressAsync(session, "Enter");
    }

    /// <summary>The session's whole screen and scroll-back, wrapped lines joined.</summary>
    public Task<string> CaptureAsync(string session) => RunAsync(["capture-pane", "-p", "-J", "-S", "-", "-t", session]);

    /// <summary>The session's visible screen only, as shown now (for what the input line holds).</summary>
    public Task<string> CaptureVisibleAsync(string session) => RunAsync(["capture-pane", "-p", "-t", session]);

    /// <summary>Polls the screen until <paramref name="condition"/> holds, or fails with the screen in the message after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForAsync(string session, Func<string, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(30);
        while (true)
        {
            string screen = await CaptureAsync(session);
            if (condition(screen))
            {
                return screen;
            }

            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"{session}'s terminal did not show {what} within {limit.TotalSeconds:F0} s. Screen:\n{screen}");
            }

            // A poll interval while waiting for another process to draw, not a wait standing in for a signal.
            await Task.Delay(s_pollInterval);
        }
    }

    /// <summary>Waits until the screen shows <paramref name="text"/>.</summary>
    public Task<string> WaitForTextAsync(string session, string text, TimeSpan? timeout = null) =>
        WaitForAsync(session, screen => screen.Contains(text, StringComparison.Ordinal), $"\"{text}\"", timeout);

    /// <summary>Waits for the program in <paramref name="session"/> to exit and returns its exit status.</summary>
    public async Task<int> WaitForExitAsync(string session, TimeSpan? timeout = null)
    {
        string screen = await WaitForTextAsync(session, ExitMarker, timeout: timeout);
        int at = screen.LastIndexOf(ExitMarker, StringComparison.Ordinal) + ExitMarker.Length;
        return int.Parse(screen.AsSpan(at, screen.IndexOf(']', at) - at), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Ends the tmux server, and with it every session and the processes in them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_sessions.Count == 0)
        {
            return;
        }

        // The programs in the panes, to make sure they are gone too: kill-server hangs them up, which ends them
        // unless they are stuck.
        var programs = new List<int>();
        try
        {
            // Only live panes: a dead one's id may already belong to some other process.
            foreach (string line in (await RunAsync(["list-panes", "-a", "-F", "#{pane_dead} #{pane_pid}"])).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] fields = line.Split(' ');
                if (fields[0] == "0")
                {
                    programs.Add(int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            await RunAsync(["kill-server"]);
        }
        catch (InvalidOperationException)
        {
            // The server already ended (its last session closed).
        }

        foreach (int id in programs)
        {
            try
            {
                using Process program = Process.GetProcessById(id);
                if (!program.HasExited)
                {
                    program.Kill(entireProcessTree: true);
                    await program.WaitForExitAsync().WaitAsync(s_commandTimeout);
                }
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
            catch (InvalidOperationException)
            {
                // Exited between the look and the kill.
            }
        }
    }

    private async Task<string> RunAsync(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(Program ?? "tmux")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };

        // -u: the panes' text is UTF-8 whatever the test runner's locale says (the feedback has ✓ and →).
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(_socket);
        info.ArgumentList.Add("-u");
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The server (started by the first command) passes its environment to the sessions: nothing of the test
        // runner's may configure the program under test, and the terminal speaks UTF-8.
        foreach (string name in info.Environment.Keys.ToArray())
        {
            if (name.StartsWith("FASTCHAT", StringComparison.OrdinalIgnoreCase) || name is "TMUX" or "NO_COLOR")
            {
                info.Environment.Remove(name);
            }
        }

        info.Environment["LANG"] = "C.UTF-8";
        info.Environment["LC_ALL"] = "C.UTF-8";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(s_commandTimeout);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error}");
        }

        return await output;
    }

    private static string? Find()
    {
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, "tmux");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
