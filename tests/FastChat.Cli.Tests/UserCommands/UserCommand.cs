using System.Diagnostics;
using System.Text.Json;

namespace FastChat.Cli.Tests.UserCommands;

/// <summary>
/// Runs one user command (<c>dotnet fastchat.dll signup|dm|group|inbox|history|status ...</c>) to completion as a real
/// process, with standard input redirected (optionally fed a line, for <c>--password-stdin</c>), and returns what it said.
/// </summary>
internal static class UserCommand
{
    /// <summary>Longer than any command's own waits (sign-in, a 16 MiB file, an inbox window) on a busy machine.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<CommandResult> RunAsync(
        string workingDirectory,
        IReadOnlyDictionary<string, string?> environment,
        string? standardInput,
        params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "fastchat.dll"));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Only what the test says may configure the command: nothing from the runner's own environment.
        foreach (string name in info.Environment.Keys.ToArray())
        {
            if (name.StartsWith("FASTCHAT", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(name);
            }
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach ((string name, string? value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteLineAsync(standardInput);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command exited (a usage error) before reading its input: the pipe is closed, and that is its answer.
        }
        try
        {
            await process.WaitForExitAsync().WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(Timeout);
            throw new TimeoutException($"fastchat {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s:\n--- stdout\n{await stdout}--- stderr\n{await stderr}");
        }

        return new CommandResult(arguments, process.ExitCode, await stdout.WaitAsync(Timeout), await stderr.WaitAsync(Timeout));
    }
}

/// <summary>What a command printed and how it exited.</summary>
internal sealed record CommandResult(string[] Arguments, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Everything, for assertion messages.</summary>
    public override string ToString() => $"fastchat {string.Join(' ', Arguments)} → exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";

    /// <summary>The non-empty lines of stdout.</summary>
    public string[] Lines() => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Stdout as JSON lines: every line must be one JSON object (that is the --json contract).</summary>
    public JsonElement[] JsonLines()
    {
        string[] lines = Lines();
        var objects = new JsonElement[lines.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            using JsonDocument document = JsonDocument.Parse(lines[i]);
            Assert.True(document.RootElement.ValueKind == JsonValueKind.Object, $"line {i + 1} is not a JSON object:\n{this}");
            objects[i] = document.RootElement.Clone();
        }

        return objects;
    }

    /// <summary>The JSON lines whose "event" is <paramref name="name"/>.</summary>
    public JsonElement[] Events(string name) => JsonLines().Where(e => e.GetProperty("event").GetString() == name).ToArray();

    public CommandResult AssertSuccess()
    {
        Assert.True(ExitCode == 0, ToString());
        Assert.DoesNotContain("Unhandled exception", Stderr, StringComparison.Ordinal);
        return this;
    }

    /// <summary>Asserts the exit code and that stderr says <paramref name="expected"/> in one "fastchat: ..." sentence, without a stack trace.</summary>
    public CommandResult AssertFailure(int exitCode, string expected)
    {
        Assert.True(ExitCode == exitCode, ToString());
        Assert.Contains("fastchat: ", Stderr, StringComparison.Ordinal);
        Assert.Contains(expected, Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Unhandled exception", Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", Stderr, StringComparison.Ordinal);
        return this;
    }
}
