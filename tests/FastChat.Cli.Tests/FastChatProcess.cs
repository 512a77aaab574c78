using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FastChat.Cli.Tests;

/// <summary>The real <c>fastchat</c> program, run as a child process (<c>dotnet fastchat.dll ...</c>) with its output captured.</summary>
internal sealed partial class FastChatProcess : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstListening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, int> _ports = new(StringComparer.Ordinal);

    private FastChatProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Both streams, for assertion messages.</summary>
    public string Output => $"--- stdout\n{StandardOutput}--- stderr\n{StandardError}";

    /// <summary>The balancer's port, once <see cref="WaitForReadyAsync"/> returned (or the first listening line was seen).</summary>
    public int BalancerPort => Port("balancer");

    public static FastChatProcess Start(params string[] arguments) => StartIn(null, null, arguments);

    /// <summary>Starts fastchat in <paramref name="workingDirectory"/> with extra environment variables (a null value removes one).</summary>
    public static FastChatProcess StartIn(string? workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fastchat.dll"));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Whatever the test runner's environment holds must not configure the program under test.
        foreach (string name in info.Environment.Keys.ToArray())
        {
            if (name.StartsWith("FASTCHAT__", StringComparison.OrdinalIgnoreCase) || name is "NOTIFY_SOCKET" or "WATCHDOG_USEC" or "WATCHDOG_PID" or "JOURNAL_STREAM")
            {
                info.Environment.Remove(name);
            }
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (environment is not null)
        {
            foreach ((string name, string? value) in environment)
            {
                info.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var result = new FastChatProcess(process);
        process.OutputDataReceived += (_, e) => result.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (result._stderr)
                {
                    result._stderr.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Runs fastchat to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments) =>
        await RunInAsync(null, null, arguments);

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunInAsync(string? workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        await using FastChatProcess process = StartIn(workingDirectory, environment, arguments);
        int exitCode = await process.WaitForExitAsync();
        return (exitCode, process.StandardOutput, process.StandardError);
    }

    /// <summary>Waits for the first "listening on" line and returns its port (the balancer's, for serve and balancer).</summary>
    public async Task<int> WaitForListeningPortAsync()
    {
        await WaitForAsync(_firstListening.Task, "listening");
        lock (_ports)
        {
            return _ports.TryGetValue("balancer", out int port) ? port : _ports.Values.First();
        }
    }

    /// <summary>Waits for "fastchat: ready" (every role listening and, for serve, registered).</summary>
    public Task WaitForReadyAsync() => WaitForAsync(_ready.Task, "ready");

    /// <summary>The port a role reported: "balancer" or a server id.</summary>
    public int Port(string role)
    {
        lock (_ports)
        {
            return _ports.TryGetValue(role, out int port) ? port : throw new InvalidOperationException($"fastchat reported no port for {role}:\n{Output}");
        }
    }

    /// <summary>The server ids and ports the process reported.</summary>
    public IReadOnlyDictionary<string, int> ServerPorts()
    {
        lock (_ports)
        {
            return _ports.Where(p => p.Key != "balancer").ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        }
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Timeout);

        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends a POSIX signal (e.g. TERM, as systemd's stop does).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", name, _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>SIGKILL (<c>kill -9</c>): no graceful anything, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(Timeout);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        _process.Dispose();
    }

    private async Task WaitForAsync(Task signal, string what)
    {
        Task exited = _process.WaitForExitAsync();
        Task first = await Task.WhenAny(signal, exited).WaitAsync(Timeout);
        if (first != signal)
        {
            _process.WaitForExit();
            throw new InvalidOperationException($"fastchat exited with {_process.ExitCode} before it was {what}:\n{Output}");
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_stdout)
        {
            _stdout.AppendLine(line);
        }

        Match match = ListeningLine().Match(line);
        if (match.Success)
        {
            string role = match.Groups["role"].Value == "balancer" ? "balancer" : match.Groups["id"].Value;
            lock (_ports)
            {
                _ports[role] = int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture);
            }

            _firstListening.TrySetResult();
        }
        else if (line.StartsWith("fastchat: ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    [GeneratedRegex(@"^fastchat: (?<role>balancer|server (?<id>\S+)) listening on .*:(?<port>\d+)( |$)")]
    private static partial Regex ListeningLine();
}
