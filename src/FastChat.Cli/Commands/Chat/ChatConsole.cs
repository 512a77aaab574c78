using Spectre.Console;
using Spectre.Console.Rendering;

namespace FastChat.Cli.Commands.Chat;

/// <summary>
/// Spectre's terminal console with the keys coming from <see cref="TerminalInput"/> instead of its own
/// <see cref="Console.ReadKey(bool)"/> calls, so prompts and the chat's input line share one reader.
/// </summary>
internal sealed class ChatConsole : IAnsiConsole
{
    private readonly IAnsiConsole _inner;

    public ChatConsole(TerminalInput input)
    {
        Input = input;
        _inner = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(Console.Out),
        });
    }

    public Profile Profile => _inner.Profile;

    public IAnsiConsoleCursor Cursor => _inner.Cursor;

    public IAnsiConsoleInput Input { get; }

    public IExclusivityMode ExclusivityMode => _inner.ExclusivityMode;

    public RenderPipeline Pipeline => _inner.Pipeline;

    /// <summary>Whether the terminal understands escape sequences (to erase and redraw the input line in place).</summary>
    public bool Ansi => _inner.Profile.Capabilities.Ansi;

    /// <summary>Whether the terminal shows characters such as ✓ (otherwise plain ASCII stands in).</summary>
    public bool Unicode => _inner.Profile.Capabilities.Unicode;

    public void Clear(bool home) => _inner.Clear(home);

    public void Write(IRenderable renderable) => _inner.Write(renderable);
}
