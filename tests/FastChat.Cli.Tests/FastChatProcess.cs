using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace FastChat.Cli.Tests;

/// <summary>The real <c>fastchat</c> program, run as a child process with its output captured.</summary>
internal sealed partial class FastChatProcess : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FastChatProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

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

    public static FastChatProcess Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fastchat.dll"));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
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
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        await using FastChatProcess process = Start(arguments);
        int exitCode = await process.WaitForExitAsync();
        return (exitCode, process.StandardOutput, process.StandardError);
    }

    /// <summary>Waits for <c>fastchat serve</c> to report its endpoint and returns its port.</summary>
    public async Task<int> WaitForListeningPortAsync()
    {
        Task exited = _process.WaitForExitAsync();
        Task first = await Task.WhenAny(_listening.Task, exited).WaitAsync(Timeout);
        if (first != _listening.Task)
        {
            throw new InvalidOperationException($"fastchat exited with {_process.ExitCode} before listening:\n{StandardOutput}\n{StandardError}");
        }

        return int.Parse(await _listening.Task, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Timeout);

        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends a POSIX signal (e.g. SIGTERM, as systemd's stop does).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(Timeout);
        }

        _process.Dispose();
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
            _listening.TrySetResult(match.Groups["port"].Value);
        }
    }

    [GeneratedRegex(@"listening on .*:(?<port>\d+) ")]
    private static partial Regex ListeningLine();
}
