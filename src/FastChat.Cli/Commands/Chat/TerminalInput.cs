using System.Threading.Channels;
using Spectre.Console;

namespace FastChat.Cli.Commands.Chat;

/// <summary>
/// The terminal's keys, read by one background thread and queued, so that reading never blocks anything that has to
/// stop (a cancelled read returns at once) and so that the chat's own input line and Spectre's prompts take keys from
/// the same queue: two readers blocked in <see cref="Console.ReadKey(bool)"/> at once would each get half the keys.
/// </summary>
internal sealed class TerminalInput : IAnsiConsoleInput
{
    private const int EmptyKeysAtEnd = 64;

    private readonly Channel<ConsoleKeyInfo> _keys = Channel.CreateUnbounded<ConsoleKeyInfo>(new UnboundedChannelOptions { SingleWriter = true });
    private Thread? _reader;

    /// <summary>Starts reading keys. The thread is a background one: it sits in a blocking read that only a key or the process's end can finish.</summary>
    public void Start()
    {
        if (_reader is not null)
        {
            return;
        }

        _reader = new Thread(ReadKeys) { IsBackground = true, Name = "fastchat terminal keys" };
        _reader.Start();
    }

    /// <summary>Waits for the next key.</summary>
    /// <exception cref="OperationCanceledException">Cancelled, or the terminal can no longer be read.</exception>
    public async ValueTask<ConsoleKeyInfo> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _keys.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException ex)
        {
            // The terminal went away (its end of input): for every reader that is the end of the conversation.
            throw new OperationCanceledException("The terminal's input ended.", ex);
        }
    }

    /// <summary>Takes a key that is already queued, without waiting (to handle a paste as one batch).</summary>
    public bool TryRead(out ConsoleKeyInfo key) => _keys.Reader.TryRead(out key);

    /// <inheritdoc/>
    public bool IsKeyAvailable() => _keys.Reader.TryPeek(out _);

    /// <inheritdoc/>
    public ConsoleKeyInfo? ReadKey(bool intercept) => ReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public async Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken) =>
        await ReadAsync(cancellationToken).ConfigureAwait(false);

    private void ReadKeys()
    {
        try
        {
            int empty = 0;
            while (true)
            {
                ConsoleKeyInfo key = Console.ReadKey(intercept: true);
                if (key == default)
                {
                    // A closed terminal reads as an endless run of empty keys rather than an error; a person never
                    // types this many in a row (an unknown escape sequence yields one).
                    if (++empty == EmptyKeysAtEnd)
                    {
                        _keys.Writer.TryComplete();
                        return;
                    }

                    continue;
                }

                empty = 0;
                _keys.Writer.TryWrite(key);
            }
        }
        catch (InvalidOperationException ex)
        {
            // Standard input stopped being a terminal.
            _keys.Writer.TryComplete(ex);
        }
        catch (IOException ex)
        {
            // The terminal was closed.
            _keys.Writer.TryComplete(ex);
        }
    }
}
