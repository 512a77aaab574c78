using System.Text;

namespace FastChat.Cli.Commands.User;

/// <summary>
/// Where a user command gets the password, in this order: one line of standard input with <c>--password-stdin</c>; the
/// <c>FASTCHAT_PASSWORD</c> environment variable; a prompt on the terminal that does not echo what is typed. A script
/// without any of them (standard input redirected, no variable) gets exit code 2 instead of a prompt nobody answers.
/// </summary>
internal static class PasswordSource
{
    public const string EnvironmentVariable = "FASTCHAT_PASSWORD";

    /// <summary>The password, or why there is none (a bad-usage sentence).</summary>
    public readonly record struct Result(string? Password, string? Problem);

    /// <summary>Gets the password for <paramref name="user"/>.</summary>
    /// <param name="fromStandardInput">Whether <c>--password-stdin</c> was given.</param>
    /// <param name="user">Who signs in, named in the prompt.</param>
    /// <param name="confirm">Whether a prompt asks twice (a new account's password).</param>
    /// <param name="cancellationToken">Ctrl-C while waiting for input.</param>
    public static async Task<Result> GetAsync(bool fromStandardInput, string user, bool confirm, CancellationToken cancellationToken)
    {
        if (fromStandardInput)
        {
            // Read on a thread of its own, as the prompt is: a pipe that stays open without a line must not make the
            // command deaf to Ctrl-C.
            string? line = await Task.Factory.StartNew(
                static () => Console.In.ReadLine(),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                return new Result(null, "--password-stdin was given but standard input ended before a password line.");
            }

            return line.Length == 0 ? new Result(null, "the password read from standard input is empty.") : new Result(line, null);
        }

        string? variable = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (variable is not null)
        {
            return variable.Length == 0 ? new Result(null, $"{EnvironmentVariable} is set but empty.") : new Result(variable, null);
        }

        if (Console.IsInputRedirected)
        {
            return new Result(null, $"no password: pass --password-stdin or set {EnvironmentVariable}.");
        }

        string password = await PromptAsync($"Password for {user}: ", cancellationToken).ConfigureAwait(false);
        if (password.Length == 0)
        {
            return new Result(null, "the password is empty.");
        }

        if (confirm && await PromptAsync("Repeat the password: ", cancellationToken).ConfigureAwait(false) != password)
        {
            return new Result(null, "the two passwords differ.");
        }

        return new Result(password, null);
    }

    private static async Task<string> PromptAsync(string prompt, CancellationToken cancellationToken)
    {
        // Console.ReadKey cannot be cancelled, so it runs on a thread of its own that Ctrl-C (which cancels the token)
        // simply abandons: it is a background thread and does not keep the process alive.
        var reading = Task.Factory.StartNew(
            static state => ReadHidden((string)state!),
            prompt,
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            return await reading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // End the prompt's line, so that what follows ("interrupted") does not continue it.
            await Console.Error.WriteLineAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string ReadHidden(string prompt)
    {
        // The prompt goes to stderr, like every other message of these commands: stdout carries only results.
        Console.Error.Write(prompt);
        var typed = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (typed.Length > 0)
                {
                    typed.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return typed.ToString();
    }
}
