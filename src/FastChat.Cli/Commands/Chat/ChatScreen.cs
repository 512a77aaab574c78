using Spectre.Console;
using Spectre.Console.Rendering;

namespace FastChat.Cli.Commands.Chat;

/// <summary>
/// The chat's terminal: a scrolling log of messages and feedback with the input line always last. Anything printed
/// while the person types erases the input line, prints above it and draws it again, text and all, so typing is never
/// interrupted. While a menu or prompt has the terminal, prints are held back and shown when it is done.
/// </summary>
internal sealed class ChatScreen
{
    private readonly ChatConsole _console;
    private readonly Lock _lock = new();
    private readonly List<IRenderable> _held = [];
    private string _prompt = string.Empty;
    private int _promptWidth;
    private string _text = string.Empty;
    private bool _inputShown;
    private bool _suspended = true;

    public ChatScreen(ChatConsole console)
    {
        _console = console;
        Glyphs = console.Unicode ? Glyphs.Unicode : Glyphs.Ascii;
    }

    /// <summary>The symbols this terminal can show.</summary>
    public Glyphs Glyphs { get; }

    /// <summary>Prints one line of markup above the input line.</summary>
    public void Line(string markup) => Print(new Markup(markup + "\n"));

    /// <summary>Prints a block (a table, a panel) above the input line.</summary>
    public void Print(IRenderable renderable)
    {
        lock (_lock)
        {
            if (_suspended)
            {
                _held.Add(renderable);
                return;
            }

            EraseInput();
            _console.Write(renderable);
            DrawInput();
        }
    }

    /// <summary>Shows the input line with <paramref name="promptMarkup"/> (<paramref name="promptWidth"/> cells wide) and the text typed so far.</summary>
    public void SetInput(string promptMarkup, int promptWidth, string text)
    {
        lock (_lock)
        {
            _prompt = promptMarkup;
            _promptWidth = promptWidth;
            _text = text;
            if (!_suspended)
            {
                EraseInput();
                DrawInput();
            }
        }
    }

    /// <summary>Hands the terminal to a prompt or menu: the input line goes, and prints wait until <see cref="Resume"/>.</summary>
    public void Suspend()
    {
        lock (_lock)
        {
            EraseInput();
            _suspended = true;
        }
    }

    /// <summary>Takes the terminal back: prints what was held, then the input line.</summary>
    public void Resume()
    {
        lock (_lock)
        {
            _suspended = false;
            foreach (IRenderable held in _held)
            {
                _console.Write(held);
            }

            _held.Clear();
            DrawInput();
        }
    }

    /// <summary>Clears the terminal (Ctrl-L) and draws the input line at the top.</summary>
    public void ClearScreen()
    {
        lock (_lock)
        {
            if (!_suspended)
            {
                _console.Clear(home: true);
                _inputShown = false;
                DrawInput();
            }
        }
    }

    /// <summary>Removes the input line for good (on the way out).</summary>
    public void Close()
    {
        lock (_lock)
        {
            EraseInput();
            _suspended = true;
        }
    }

    private void EraseInput()
    {
        if (!_inputShown)
        {
            return;
        }

        if (_console.Ansi)
        {
            // Back to the line's start and erase it: the input line is kept to one row (see DrawInput), so this is all of it.
            _console.Write(new ControlCode("\r\u001b[2K"));
        }
        else
        {
            Console.Out.Write("\r" + new string(' ', Math.Max(0, _console.Profile.Width - 1)) + "\r");
        }

        _inputShown = false;
    }

    private void DrawInput()
    {
        // One row, always: a longer line scrolls sideways (its end stays visible, where the cursor is), so erasing
        // it never leaves wrapped rows behind. The last cell stays free so the terminal does not wrap early.
        int room = Math.Max(8, _console.Profile.Width - _promptWidth - 1);
        ReadOnlySpan<char> visible = _text;
        string shown = TerminalText.Width(visible) <= room
            ? _text
            : Glyphs.Ellipsis + TerminalText.Tail(visible, room - 1).ToString();

        _console.Write(new Markup(_prompt));

        // Raw, not through a renderable: Spectre may drop trailing spaces, and the cursor must stay where typing goes on.
        Console.Out.Write(shown);
        Console.Out.Flush();
        _inputShown = true;
    }
}

/// <summary>The symbols of the chat's feedback, with plain-ASCII stand-ins for terminals without Unicode.</summary>
internal sealed record Glyphs(string Sent, string Delivered, string Failed, string Warning, string Arrow, string Ellipsis, string Prompt)
{
    public static readonly Glyphs Unicode = new("✓", "✓✓", "✗", "⚠", "→", "…", "›");

    public static readonly Glyphs Ascii = new("+", "++", "x", "!", "->", "~", ">");
}
