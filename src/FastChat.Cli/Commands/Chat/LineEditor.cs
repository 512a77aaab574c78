using System.Globalization;
using System.Text;

namespace FastChat.Cli.Commands.Chat;

/// <summary>What a key did to the line being typed.</summary>
internal enum LineEdit
{
    /// <summary>Nothing changed.</summary>
    None,

    /// <summary>The text changed: redraw the line.</summary>
    Changed,

    /// <summary>Enter: <see cref="LineEditor.Submitted"/> holds the line, and the editor is empty again.</summary>
    Submit,

    /// <summary>F2: open the menus.</summary>
    Menu,

    /// <summary>Ctrl-D on an empty line: leave, as in a shell.</summary>
    EndOfInput,

    /// <summary>Ctrl-L: clear the screen.</summary>
    ClearScreen,
}

/// <summary>
/// The input line: the text typed so far, with the cursor at its end, and the earlier lines for ↑/↓. A line that is
/// being written is never lost to incoming messages: they are printed above it and it is drawn again.
/// </summary>
internal sealed class LineEditor
{
    private const int MaxLength = 64 * 1024;
    private const int MaxRecall = 100;

    private readonly StringBuilder _text = new();
    private readonly List<string> _recall = [];
    private int _recallIndex;
    private string _draft = string.Empty;

    /// <summary>The line being typed.</summary>
    public string Text => _text.ToString();

    /// <summary>The last line Enter submitted.</summary>
    public string Submitted { get; private set; } = string.Empty;

    public LineEdit Apply(ConsoleKeyInfo key)
    {
        bool control = (key.Modifiers & ConsoleModifiers.Control) != 0;
        switch (key.Key)
        {
            case ConsoleKey.Enter:
                Submitted = _text.ToString();
                _text.Clear();
                Remember(Submitted);
                return LineEdit.Submit;
            case ConsoleKey.Backspace:
                return RemoveLastCharacter();
            case ConsoleKey.Escape:
                return Clear();
            case ConsoleKey.F2:
                return LineEdit.Menu;
            case ConsoleKey.UpArrow:
                return Recall(-1);
            case ConsoleKey.DownArrow:
                return Recall(+1);
            case ConsoleKey.U when control:
                return Clear();
            case ConsoleKey.W when control:
                return RemoveLastWord();
            case ConsoleKey.D when control:
                return _text.Length == 0 ? LineEdit.EndOfInput : LineEdit.None;
            case ConsoleKey.L when control:
                return LineEdit.ClearScreen;
        }

        // Some terminals report the control characters without the Control modifier: go by the character as well.
        switch (key.KeyChar)
        {
            case '\u0015':
                return Clear();
            case '\u0017':
                return RemoveLastWord();
            case '\u0004':
                return _text.Length == 0 ? LineEdit.EndOfInput : LineEdit.None;
            case '\b' or '\u007f':
                return RemoveLastCharacter();
        }

        char c = key.KeyChar;
        if (c == '\0' || char.IsControl(c) || _text.Length >= MaxLength)
        {
            return LineEdit.None;
        }

        _text.Append(c);
        return LineEdit.Changed;
    }

    private LineEdit Clear()
    {
        if (_text.Length == 0)
        {
            return LineEdit.None;
        }

        _text.Clear();
        return LineEdit.Changed;
    }

    private LineEdit RemoveLastCharacter()
    {
        if (_text.Length == 0)
        {
            return LineEdit.None;
        }

        // One whole character, whatever it is made of (a surrogate pair, a letter with its accents).
        string text = _text.ToString();
        int[] starts = StringInfo.ParseCombiningCharacters(text);
        _text.Length = starts[^1];
        return LineEdit.Changed;
    }

    private LineEdit RemoveLastWord()
    {
        int end = _text.Length;
        while (end > 0 && _text[end - 1] == ' ')
        {
            end--;
        }

        while (end > 0 && _text[end - 1] != ' ')
        {
            end--;
        }

        if (end == _text.Length)
        {
            return LineEdit.None;
        }

        _text.Length = end;
        return LineEdit.Changed;
    }

    private void Remember(string line)
    {
        if (line.Trim().Length > 0 && (_recall.Count == 0 || _recall[^1] != line))
        {
            if (_recall.Count == MaxRecall)
            {
                _recall.RemoveAt(0);
            }

            _recall.Add(line);
        }

        _recallIndex = _recall.Count;
        _draft = string.Empty;
    }

    private LineEdit Recall(int step)
    {
        int index = _recallIndex + step;
        if (index < 0 || index > _recall.Count)
        {
            return LineEdit.None;
        }

        if (_recallIndex == _recall.Count)
        {
            // Leaving the line being written for an earlier one: keep it to come back to with ↓.
            _draft = _text.ToString();
        }

        _recallIndex = index;
        _text.Clear().Append(index == _recall.Count ? _draft : _recall[index]);
        return LineEdit.Changed;
    }
}
