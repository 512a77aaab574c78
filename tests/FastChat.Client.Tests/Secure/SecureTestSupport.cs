using System.Security.Cryptography;
using FastChat.Client.Crypto;
using FastChat.Client.Secure;
using FastChat.Client.Tests.TestSupport;

namespace FastChat.Client.Tests.Secure;

/// <summary>Reads a secure client's events in the background (which is what lets it process messages) and lets a test wait for the ones it expects.</summary>
internal sealed class SecureEventLog : IAsyncDisposable
{
    private readonly List<SecureChatEvent> _events = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    public SecureEventLog(SecureChatClient client, string name)
    {
        Name = name;
        _pump = PumpAsync(client, _stop.Token);
    }

    public string Name { get; }

    public IReadOnlyList<T> All<T>()
        where T : SecureChatEvent
    {
        lock (_lock)
        {
            return _events.OfType<T>().ToList();
        }
    }

    public async Task<T> WaitForAsync<T>(Func<T, bool>? predicate = null)
        where T : SecureChatEvent => (await WaitForCountAsync(1, predicate))[0];

    public async Task<IReadOnlyList<T>> WaitForCountAsync<T>(int count, Func<T, bool>? predicate = null)
        where T : SecureChatEvent
    {
        DateTime deadline = DateTime.UtcNow + EventLog.DefaultTimeout;
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                List<T> matches = _events.OfType<T>().Where(e => predicate is null || predicate(e)).ToList();
                if (matches.Count >= count)
                {
                    return matches;
                }

                changed = _changed.Task;
            }

            TimeSpan remaining = deadline - DateTime.UtcNow;
            try
            {
                if (remaining <= TimeSpan.Zero)
                {
                    throw new TimeoutException();
                }

                await changed.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{Name}: expected {count} {typeof(T).Name} event(s); saw: {Describe()}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private string Describe()
    {
        lock (_lock)
        {
            return _events.Count == 0 ? "(nothing)" : string.Join("; ", _events.Select(e => e.ToString()));
        }
    }

    private async Task PumpAsync(SecureChatClient client, CancellationToken cancellationToken)
    {
        await Task.Yield();
        await foreach (SecureChatEvent e in client.ReadEventsAsync(cancellationToken))
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                _events.Add(e);
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }
    }
}

/// <summary>A signed-up secure user with its own data and download folders, its client and its event log.</summary>
internal sealed class SecureUser : IAsyncDisposable
{
    private SecureUser(string name, string password, string folder, Func<ChatClientOptions> clientOptions)
    {
        Name = name;
        Password = password;
        Folder = folder;
        ClientOptions = clientOptions;
    }

    public string Name { get; }

    public string Password { get; }

    /// <summary>The user's data folder (history.db, pins.json).</summary>
    public string Folder { get; }

    public string Downloads => Path.Combine(Folder, "downloads");

    public string PinFile => Path.Combine(Folder, "pins.json");

    public Func<ChatClientOptions> ClientOptions { get; }

    public SecureChatClient Client { get; private set; } = null!;

    public SecureEventLog Events { get; private set; } = null!;

    /// <summary>Signs up a new user, reading its events.</summary>
    public static async Task<SecureUser> SignUpAsync(TestCluster cluster, string root, string prefix) =>
        await SignUpAsync(() => cluster.ClientOptions(), root, prefix);

    public static async Task<SecureUser> SignUpAsync(Func<ChatClientOptions> clientOptions, string root, string prefix)
    {
        string name = TestCluster.NewName(prefix);
        var user = new SecureUser(name, "pw-" + Guid.NewGuid().ToString("N"), Path.Combine(root, name), clientOptions);
        user.Open();
        await user.Client.SignUpAsync(name, user.Password).WaitAsync(EventLog.DefaultTimeout);
        return user;
    }

    /// <summary>Signs out and closes the client: the user is offline, and the server stores what arrives.</summary>
    public async Task GoOfflineAsync()
    {
        await Client.SignOutAsync().WaitAsync(EventLog.DefaultTimeout);
        await Events.DisposeAsync();
        await Client.DisposeAsync();
    }

    /// <summary>Signs in again on a new client over the same folders, optionally with a hook set before the sign-in.</summary>
    public async Task SignInAgainAsync(Action<SecureChatClient>? beforeSignIn = null)
    {
        Open();
        beforeSignIn?.Invoke(Client);
        await Client.SignInAsync(Name, Password).WaitAsync(EventLog.DefaultTimeout);
    }

    /// <summary>Waits until this user's client holds the key of a group epoch.</summary>
    public async Task WaitForGroupKeyAsync(string group, int epoch)
    {
        var added = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Client.GroupKeyAdded = (g, e) =>
        {
            if (g == group && e == epoch)
            {
                added.TrySetResult();
            }
        };
        if (Client.GetGroupKeyRing(group)?.TryGetKey(epoch, out _) == true)
        {
            return;
        }

        await added.Task.WaitAsync(EventLog.DefaultTimeout);
    }

    public async ValueTask DisposeAsync()
    {
        await Events.DisposeAsync();
        await Client.DisposeAsync();
    }

    private void Open()
    {
        Client = new SecureChatClient(new SecureChatOptions { Client = ClientOptions(), DataDirectory = Folder, DownloadDirectory = Downloads });
        Events = new SecureEventLog(Client, Name);
    }
}

/// <summary>A raw transport user with real identity keys, for sending what the secure client never would.</summary>
internal sealed class RawUser : IAsyncDisposable
{
    private RawUser(string name, ChatClient client, IdentityKeys keys)
    {
        Name = name;
        Client = client;
        Keys = keys;
    }

    public string Name { get; }

    public ChatClient Client { get; }

    public IdentityKeys Keys { get; }

    public PublicIdentity Identity => Keys.ToPublicIdentity(Name);

    public static async Task<RawUser> SignUpAsync(TestCluster cluster, string prefix)
    {
        string name = TestCluster.NewName(prefix);
        IdentityKeys keys = IdentityKeys.Generate();
        var client = new ChatClient(cluster.ClientOptions());
        await client.SignUpAsync(name, "pw-" + Guid.NewGuid().ToString("N"), wrapKey => keys.ToAccountKeys(wrapKey.Span, name)).WaitAsync(EventLog.DefaultTimeout);
        return new RawUser(name, client, keys);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        Keys.Dispose();
    }
}

/// <summary>A temporary folder, deleted at dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fastchat-secure-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open for a moment: the temp folder is cleaned up eventually.
        }
    }
}

internal static class SecretBytes
{
    /// <summary>
    /// The two private scalars of identity keys (agreement d, then signing d: 64 bytes), recovered through the public
    /// wrapping API with a known wrap key and the documented layout (docs/security.md §4).
    /// </summary>
    public static byte[] PrivateScalars(IdentityKeys keys, string userName)
    {
        byte[] wrapKey = new byte[32];
        byte[] blob = keys.WrapPrivateKeys(wrapKey, userName);
        byte[] label = "fastchat identity v1"u8.ToArray();
        byte[] user = System.Text.Encoding.UTF8.GetBytes(userName);
        byte[] associated = [1, (byte)(label.Length >> 8), (byte)label.Length, .. label, (byte)(user.Length >> 8), (byte)user.Length, .. user];
        byte[] scalars = new byte[64];
        using var aes = new AesGcm(wrapKey, 16);
        aes.Decrypt(blob.AsSpan(1, 12), blob.AsSpan(13, 64), blob.AsSpan(77, 16), scalars, associated);
        return scalars;
    }

    /// <summary>Whether <paramref name="needle"/> occurs anywhere in <paramref name="haystack"/>.</summary>
    public static bool Contains(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle) >= 0;
}
