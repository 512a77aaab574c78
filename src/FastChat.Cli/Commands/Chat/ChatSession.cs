using System.Threading.Channels;
using FastChat.Client.Secure;
using Spectre.Console;

namespace FastChat.Cli.Commands.Chat;

/// <summary>
/// One signed-in chat: three loops over one screen. The input loop reads keys into the input line and turns submitted
/// lines and menu choices into requests; the request loop runs those against the server one after another (in the
/// order given, so "/group create" finishes before the "/group add" typed after it) without holding up typing; the
/// event loop prints what arrives. Each result, success or failure, is one coloured line.
/// </summary>
internal sealed partial class ChatSession
{
    // Messages sent longer than this before sign-in were waiting on the server: they are shown under a "while you
    // were away" heading. The margin absorbs clock differences between the sender's machine and this one.
    private static readonly TimeSpan s_awayMargin = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_signOutTimeout = TimeSpan.FromSeconds(5);

    private readonly SecureChatClient _client;
    private readonly ChatConsole _console;
    private readonly TerminalInput _input;
    private readonly ChatScreen _screen;
    private readonly ChatMenus _menus;
    private readonly string _server;
    private readonly string _me;
    private readonly DateTime _signedInAt;
    private readonly LineEditor _editor = new();
    private readonly Channel<ServerRequest> _requests = Channel.CreateUnbounded<ServerRequest>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    // Delivery receipts held until the send they belong to is printed (see SendAsync), and the count of sends under
    // way; the request loop and the event loop share both, under the list's lock.
    private readonly List<MessageDeliveredTo> _deliveries = [];
    private int _sendsUnderWay;
    private Conversation? _current;
    private Exception? _failure;
    private volatile bool _leaving;

    public ChatSession(SecureChatClient client, ChatConsole console, TerminalInput input, string server, DateTime signedInAt)
    {
        _client = client;
        _console = console;
        _input = input;
        _server = server;
        _me = client.UserName;
        _signedInAt = signedInAt;
        _screen = new ChatScreen(console);
        _menus = new ChatMenus(console);
    }

    private Glyphs Glyphs => _screen.Glyphs;

    /// <summary>Runs the chat until /quit, Logout, Ctrl-D or Ctrl-C (<paramref name="cancellationToken"/>), then signs out.</summary>
    /// <returns>0, or 1 if the chat broke down.</returns>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        PrintHeader();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task events = GuardAsync(ShowEventsAsync, stop);
        Task requests = GuardAsync(RunRequestsAsync, stop);
        _screen.Resume();
        UpdateInput();

        try
        {
            await ReadInputAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C, a broken loop (see GuardAsync) or the terminal's input ended: leave as for /quit.
        }

        // What was asked for before leaving still happens (a file on its way is not cut off), unless Ctrl-C said now.
        _requests.Writer.TryComplete();
        if (!stop.IsCancellationRequested)
        {
            _screen.Line("[grey]signing out…[/]");
            try
            {
                await requests.WaitAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C while waiting: sign out at once.
            }
        }

        _leaving = true;
        string farewell = await SignOutAsync().ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(events, requests).ConfigureAwait(false);
        _screen.Close();
        _console.MarkupLine(farewell);

        if (_failure is not null)
        {
            await Console.Error.WriteLineAsync($"fastchat: the chat stopped on an unexpected error: {_failure}").ConfigureAwait(false);
            return 1;
        }

        return 0;
    }

    private async Task ReadInputAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ConsoleKeyInfo key = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            bool changed = false;

            // Everything already typed (a paste) is taken in one go and drawn once.
            do
            {
                switch (_editor.Apply(key))
                {
                    case LineEdit.Changed:
                        changed = true;
                        break;
                    case LineEdit.Submit:
                        // The line leaves the input line before its outcome is printed above it.
                        UpdateInput();
                        if (!await HandleAsync(ChatCommandLine.Parse(_editor.Submitted, _current), cancellationToken).ConfigureAwait(false))
                        {
                            return;
                        }

                        break;
                    case LineEdit.Menu:
                        if (!await HandleAsync(new OpenMenu(), cancellationToken).ConfigureAwait(false))
                        {
                            return;
                        }

                        break;
                    case LineEdit.EndOfInput:
                        return;
                    case LineEdit.ClearScreen:
                        _screen.ClearScreen();
                        break;
                }
            }
            while (_input.TryRead(out key));

            if (changed)
            {
                UpdateInput();
            }
        }
    }

    /// <summary>Acts on a request; <see langword="false"/> when it is the one to leave.</summary>
    private async Task<bool> HandleAsync(ChatRequest? request, CancellationToken cancellationToken)
    {
        switch (request)
        {
            case null:
                return true;
            case ServerRequest serverRequest:
                _requests.Writer.TryWrite(serverRequest);
                return true;
            case SwitchTo { To: { } to }:
                _current = to;
                _screen.Line($"[grey]now talking to[/] {TerminalText.Conversation(to)}[grey]: plain lines go there (/to alone stops, //text sends a line starting with /)[/]");
                return true;
            case SwitchTo:
                _current = null;
                _screen.Line("[grey]no conversation chosen: send with /dm USER TEXT or choose one with /to[/]");
                return true;
            case OpenMenu:
                ChatRequest? chosen;
                _screen.Suspend();
                try
                {
                    chosen = await _menus.ShowAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _screen.Resume();
                }

                return await HandleAsync(chosen, cancellationToken).ConfigureAwait(false);
            case ShowHelp:
                PrintHelp();
                return true;
            case Quit:
                return false;
            case Unusable unusable:
                _screen.Line($"[yellow]{Markup.Escape(unusable.Message)}[/]");
                return true;
            default:
                return true;
        }
    }

    private void UpdateInput()
    {
        string me = _me;
        string prompt;
        string plain;
        if (_current is { } to)
        {
            prompt = $"[grey]{Markup.Escape(me)}[/] {Glyphs.Arrow} {TerminalText.Conversation(to)} [grey]{Glyphs.Prompt}[/] ";
            plain = $"{me} {Glyphs.Arrow} {to} {Glyphs.Prompt} ";
        }
        else
        {
            prompt = $"[grey]{Markup.Escape(me)} {Glyphs.Prompt}[/] ";
            plain = $"{me} {Glyphs.Prompt} ";
        }

        _screen.SetInput(prompt, TerminalText.Width(plain), _editor.Text);
    }

    private void PrintHeader()
    {
        var details = new Grid();
        details.AddColumn(new GridColumn().NoWrap().PadRight(2));
        details.AddColumn();
        details.AddRow("[grey]signed in as[/]", TerminalText.User(_me));
        details.AddRow("[grey]server[/]", Markup.Escape(_server));
        details.AddRow("[grey]your key[/]", $"[bold]{Markup.Escape(_client.Fingerprint)}[/]");
        var header = new Panel(details)
            .Header("[bold] FastChat [/][grey]end-to-end encrypted[/] ")
            .Border(BoxBorder.Rounded)
            .BorderColor(Color.Grey);
        _console.Write(header);
        _console.MarkupLine("[grey]/help lists the commands · F2 or /menu opens the menus · /to bob chooses who plain lines go to · /quit signs out[/]");
    }

    private void PrintHelp()
    {
        var table = new Table().Border(TableBorder.None).HideHeaders().AddColumn(string.Empty).AddColumn(string.Empty);
        foreach ((string usage, string description) in ChatCommandLine.Commands)
        {
            table.AddRow($"[bold]{Markup.Escape(usage)}[/]", $"[grey]{Markup.Escape(description)}[/]");
        }

        _screen.Print(table);
    }

    private async Task<string> SignOutAsync()
    {
        using var timeout = new CancellationTokenSource(s_signOutTimeout);
        try
        {
            await _client.SignOutAsync(timeout.Token).ConfigureAwait(false);
            return $"[grey]signed out. Bye, {Markup.Escape(_me)}![/]";
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or FastChat.Protocol.FastChatException)
        {
            // The server is gone or slow: the session ends anyway and its token expires on its own.
            return $"[yellow]left without signing out cleanly ({TerminalText.Safe(ex.Message)})[/]";
        }
    }

    /// <summary>Runs a loop; if it breaks on something unexpected, keeps the error and stops the chat instead of hanging it.</summary>
    private async Task GuardAsync(Func<CancellationToken, Task> loop, CancellationTokenSource stop)
    {
        try
        {
            await loop(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Leaving.
        }
#pragma warning disable CA1031 // The last resort: whatever broke is reported on the way out (exit code 1), not lost on a background task.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Interlocked.CompareExchange(ref _failure, ex, null);
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }
}
