using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FastChat.Cli.Commands.Chat;

/// <summary>
/// Makes sure <c>fastchat chat</c> has a terminal to read keys from and write to, and reads a password piped to
/// standard input (<c>--password-stdin</c>) without giving up the keyboard: once the password line is read, the
/// terminal itself (<c>/dev/tty</c>) takes standard input's place.
/// </summary>
internal static class ChatTerminal
{
    private const int StandardInput = 0;
    private const int MaxPasswordBytes = 4096;

    /// <summary>Whether standard input is a terminal, asked without touching <see cref="Console"/>, which caches its answer for good.</summary>
    public static bool IsInputTerminal() =>
        OperatingSystem.IsWindows() ? !Console.IsInputRedirected : IsATty(StandardInput) == 1;

    /// <summary>
    /// Reads one line from standard input, byte by byte so nothing after it is consumed, without <see cref="Console"/>
    /// (its first look at standard input would fix it as redirected).
    /// </summary>
    /// <returns>The line without its line break; <see langword="null"/> at the end of input with nothing read.</returns>
    /// <exception cref="IOException">Standard input cannot be read.</exception>
    public static string? ReadLineFromStandardInput()
    {
        using var handle = new SafeFileHandle(StandardInput, ownsHandle: false);
        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        var bytes = new List<byte>(64);
        Span<byte> one = stackalloc byte[1];
        while (bytes.Count < MaxPasswordBytes)
        {
            if (stream.Read(one) == 0)
            {
                if (bytes.Count == 0)
                {
                    return null;
                }

                break;
            }

            if (one[0] == (byte)'\n')
            {
                break;
            }

            bytes.Add(one[0]);
        }

        if (bytes.Count > 0 && bytes[^1] == (byte)'\r')
        {
            bytes.RemoveAt(bytes.Count - 1);
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// Puts the process's terminal (<c>/dev/tty</c>) on standard input, after a password was piped in, and sets it to
    /// deliver keys one by one without echoing them. .NET configures the terminal itself only if standard input was one
    /// when the process started, so here the chat does it (with <c>stty</c>, on the terminal it inherits).
    /// </summary>
    /// <returns>
    /// What puts the terminal's settings back, to dispose on the way out; <see langword="null"/> if there is no terminal
    /// to take (no controlling terminal, no <c>stty</c>, or Windows).
    /// </returns>
    public static IDisposable? AttachTerminalToStandardInput()
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        try
        {
            using (SafeFileHandle terminal = File.OpenHandle("/dev/tty", FileMode.Open, FileAccess.ReadWrite))
            {
                if (Dup2((int)terminal.DangerousGetHandle(), StandardInput) != StandardInput)
                {
                    return null;
                }
            }

            string? saved = Stty("-g");
            if (saved is null || Stty("-icanon", "-echo", "-icrnl", "-ixon", "min", "1", "time", "0") is null)
            {
                return null;
            }

            return new TerminalSettings(saved);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            // No controlling terminal (a service, a detached process) or no stty: the caller says a terminal is needed.
            return null;
        }
    }

    /// <summary>Runs <c>stty</c> on the terminal standard input now is; returns what it printed, or <see langword="null"/> if it failed.</summary>
    private static string? Stty(params string[] arguments)
    {
        var info = new ProcessStartInfo("stty") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process stty = Process.Start(info) ?? throw new IOException("stty did not start.");
        string output = stty.StandardOutput.ReadToEnd();
        stty.WaitForExit();
        return stty.ExitCode == 0 ? output.Trim() : null;
    }

    /// <summary>The terminal's settings from before the chat changed them, put back on dispose.</summary>
    private sealed class TerminalSettings(string saved) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                Stty(saved);
            }
            catch (Exception ex) when (ex is IOException or System.ComponentModel.Win32Exception)
            {
                // The terminal is gone: nothing left to put back.
            }
        }
    }

    // DllImport rather than LibraryImport: the generated marshalling needs unsafe code, and two int-only calls need no marshalling.
    [DllImport("libc", EntryPoint = "isatty")]
    private static extern int IsATty(int fileDescriptor);

    [DllImport("libc", EntryPoint = "dup2")]
    private static extern int Dup2(int fileDescriptor, int newFileDescriptor);
}
