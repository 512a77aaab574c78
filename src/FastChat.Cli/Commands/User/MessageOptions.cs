using System.CommandLine;
using System.CommandLine.Parsing;

namespace FastChat.Cli.Commands.User;

/// <summary><c>--text "..."</c> or <c>--file PATH</c>, exactly one of them: what <c>dm</c> and <c>group send</c> send.</summary>
internal sealed class MessageOptions
{
    public MessageOptions()
    {
        Text = new Option<string>("--text")
        {
            Description = "The message text.",
            HelpName = "TEXT",
        };
        Text.Validators.Add(result =>
        {
            if (string.IsNullOrEmpty(result.GetValueOrDefault<string>()))
            {
                result.AddError("--text must not be empty.");
            }
        });

        File = new Option<string>("--file")
        {
            Description = "A file or image to send instead of text (encrypted in 64 KiB chunks; the servers' size limit applies, 16 MiB by default).",
            HelpName = "PATH",
        };
        File.Validators.Add(result =>
        {
            string path = result.GetValueOrDefault<string>() ?? string.Empty;
            if (path.Length == 0)
            {
                result.AddError("--file must not be empty.");
            }
            else if (Directory.Exists(path))
            {
                result.AddError($"--file '{path}' is a folder, not a file.");
            }
            else if (!System.IO.File.Exists(path))
            {
                result.AddError($"--file '{path}' does not exist.");
            }
        });
    }

    public Option<string> Text { get; }

    public Option<string> File { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(Text);
        command.Options.Add(File);
        command.Validators.Add(result =>
        {
            bool text = result.GetResult(Text) is not null;
            bool file = result.GetResult(File) is not null;
            if (text && file)
            {
                result.AddError("pass either --text or --file, not both.");
            }
            else if (!text && !file)
            {
                result.AddError("say what to send: --text \"...\" or --file PATH.");
            }
        });
    }

    /// <summary>The file to send (a full path), or <see langword="null"/> when the message is text.</summary>
    public string? FileOf(ParseResult parse) => parse.GetValue(File) is { } path ? Path.GetFullPath(path) : null;

    /// <summary>The text to send, or <see langword="null"/> when the message is a file.</summary>
    public string? TextOf(ParseResult parse) => parse.GetValue(Text);
}
