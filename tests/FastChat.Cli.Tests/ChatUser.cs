using System.Security.Cryptography;
using FastChat.Client;

namespace FastChat.Cli.Tests;

/// <summary>A signed-in <see cref="ChatClient"/> whose events are collected in the background, so tests can wait for them.</summary>
internal sealed class ChatUser : IAsyncDisposable
{
    public const string Password = "correct horse battery staple";

    private readonly List<ChatEvent> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _pump;

    private ChatUser(ChatClient client, string name)
    {
        Client = client;
        Name = name;
    }

    public ChatClient Client { get; }

    public string Name { get; }

    public SignInResult? Session { get; private set; }

    public static Task<ChatUser> SignUpAsync(int balancerPort, string name) => StartAsync(balancerPort, name, signUp: true);

    public static Task<ChatUser> SignInAsync(int balancerPort, string name) => StartAsync(balancerPort, name, signUp: false);

    /// <summary>Every event received so far, in order.</summary>
    public ChatEvent[] Events()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    /// <summary>The direct messages received so far, in order (the SDK drops duplicates by id: any repeat here is a bug).</summary>
    public DirectMessageReceived[] DirectMessages() => Events().OfType<DirectMessageReceived>().ToArray();

    /// <summary>Waits until an event of type <typeparamref name="T"/> matching <paramref name="predicate"/> has arrived.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> predicate, TimeSpan? timeout = null)
        where T : ChatEvent
    {
        T? found = null;
        await WaitUntilAsync(events =>
        {
            found = events.OfType<T>().FirstOrDefault(predicate);
            return found is not null;
        }, $"a {typeof(T).Name}", timeout);
        return found!;
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the events received.</summary>
    public async Task WaitUntilAsync(Func<ChatEvent[], bool> condition, string what, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? FastChatProcess.Timeout);
        while (true)
        {
            Task changed;
            lock (_events)
            {
                if (condition([.. _events]))
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name} did not receive {what}; events: {string.Join(", ", Events().Select(Describe))}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Client.DisposeAsync();
        if (_pump is not null)
        {
            await _pump.WaitAsync(FastChatProcess.Timeout);
        }

        _stop.Dispose();
    }

    private static async Task<ChatUser> StartAsync(int balancerPort, string name, bool signUp)
    {
        var client = new ChatClient(new ChatClientOptions
        {
            BalancerHost = "127.0.0.1",
            BalancerPort = balancerPort,
            KdfIterations = 100_000,
            RequestTimeout = TimeSpan.FromSeconds(20),
            ReconnectDelay = TimeSpan.FromMilliseconds(100),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        });
        var user = new ChatUser(client, name);
        user._pump = user.PumpAsync();
        try
        {
            user.Session = signUp
                ? await client.SignUpAsync(name, Password, new AccountKeys(RandomNumberGenerator.GetBytes(65), RandomNumberGenerator.GetBytes(65), RandomNumberGenerator.GetBytes(96))).WaitAsync(FastChatProcess.Timeout)
                : await client.SignInAsync(name, Password).WaitAsync(FastChatProcess.Timeout);
        }
        catch
        {
            await user.DisposeAsync();
            throw;
        }

        return user;
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (ChatEvent chatEvent in Client.ReadEventsAsync(_stop.Token))
            {
                lock (_events)
                {
                    _events.Add(chatEvent);
                    _changed.TrySetResult();
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private static string Describe(ChatEvent chatEvent) => chatEvent switch
    {
        DirectMessageReceived m => $"DM {m.From}:{System.Text.Encoding.UTF8.GetString(m.Body.Span)}",
        GroupMessageReceived m => $"group {m.Group} {m.From}:{System.Text.Encoding.UTF8.GetString(m.Body.Span)}",
        ConnectionStateChanged c => $"{c.State} ({c.Reason})",
        _ => chatEvent.GetType().Name,
    };
}
