using System.Threading.Channels;
using FastChat.Client.Crypto;
using FastChat.Client.History;
using Microsoft.Extensions.Logging;

namespace FastChat.Client.Secure.Internal;

/// <summary>
/// One signed-in user of a <see cref="SecureChatClient"/>: the transport client, the identity keys, the history, the
/// key pins, the groups' keys, and the loops that turn the transport's events into verified, decrypted, recorded
/// <see cref="SecureChatEvent"/>s.
/// </summary>
/// <remarks>
/// <para>
/// Three loops. The intake reads the transport's events and sorts them: received messages go to the message loop,
/// everything else (group keys, membership changes, receipts, connection changes) to the control loop. The control
/// loop always runs, so group keys are in place before the messages that need them; the message loop runs only while
/// the application reads events (<see cref="EventOutlet"/>), so a message is acknowledged only once it is verified,
/// decrypted and recorded, and only for an application that will see it.
/// </para>
/// <para>
/// Back-pressure: past <see cref="MessageBacklogLimit"/> unprocessed messages the intake stops reading, which stops the
/// transport reading from the server. Not while a request to the server is outstanding, though: its reply queues behind
/// the messages the server already sent, so the intake keeps draining until it arrives rather than deadlock.
/// </para>
/// </remarks>
internal sealed partial class SecureSession : IAsyncDisposable
{
    /// <summary>The key pin file's name inside the user's data folder.</summary>
    public const string PinFileName = "pins.json";

    // Unprocessed received messages before the intake waits for the message loop (when no request is outstanding).
    private const int MessageBacklogLimit = 256;

    private readonly SecureChatClient _owner;
    private readonly ChatClient _inner;
    private readonly IdentityKeys _keys;
    private readonly PublicIdentity _self;
    private readonly ChatHistory _history;
    private readonly KeyPinStore _pins;
    private readonly string _downloadDirectory;
    private readonly EventOutlet _outlet;
    private readonly ILogger _logger;
    private readonly ReplayGuard _replay = new();
    private readonly HeldMessages _held = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, PublicIdentity> _identities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PublicIdentity> _changedKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GroupState> _groups = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _background = [];
    private readonly SemaphoreSlim _keyGate = new(1, 1);
    private readonly Channel<IncomingMessage> _messages = Channel.CreateUnbounded<IncomingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<ChatEvent> _control = Channel.CreateUnbounded<ChatEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _messageBacklog;
    private int _serverWaits;
    private int _closed;
    private Task _intakeLoop = Task.CompletedTask;
    private Task _controlLoop = Task.CompletedTask;
    private Task _messageLoop = Task.CompletedTask;

    private SecureSession(
        SecureChatClient owner, ChatClient inner, IdentityKeys keys, string userName, ChatHistory history, KeyPinStore pins, string downloadDirectory, EventOutlet outlet, ILogger logger)
    {
        _owner = owner;
        _inner = inner;
        _keys = keys;
        UserName = userName;
        _self = keys.ToPublicIdentity(userName);
        _history = history;
        _pins = pins;
        _downloadDirectory = downloadDirectory;
        _outlet = outlet;
        _logger = logger;
    }

    public string UserName { get; }

    public string Fingerprint => _keys.FingerprintText;

    public ChatHistory History => _history;

    public ChatClient Inner => _inner;

    internal IdentityKeys Keys => _keys;

    internal KeyPinStore Pins => _pins;

    /// <summary>
    /// Opens the user's history and pins, pins the user's own identity, starts the loops and waits for the group keys
    /// stored on the server. On failure nothing is left open (<paramref name="inner"/> and <paramref name="keys"/> may be
    /// disposed already; disposing them again is harmless).
    /// </summary>
    public static async Task<SecureSession> StartAsync(
        SecureChatClient owner, ChatClient inner, IdentityKeys keys, string userName, SecureChatOptions options, EventOutlet outlet, ILogger logger, CancellationToken cancellationToken)
    {
        string directory = options.DataDirectory ?? Path.GetDirectoryName(ChatHistory.DefaultPath(userName))!;
        string downloads = Path.GetFullPath(options.DownloadDirectory);
        ChatHistory history = await ChatHistory.OpenAsync(Path.Combine(directory, ChatHistory.FileName), userName, cancellationToken).ConfigureAwait(false);
        SecureSession session;
        try
        {
            KeyPinStore pins = KeyPinStore.Open(Path.Combine(directory, PinFileName));
            PublicIdentity self = keys.ToPublicIdentity(userName);
            if (pins.Check(self) == KeyPinStatus.Changed)
            {
                // The private keys opened with the password and match the published public keys: they are this
                // account's own, whatever an older pin (from an account of the same name re-created) says.
                pins.Accept(self);
                SecureChatLog.OwnKeyRepinned(logger, userName, self.FingerprintText);
            }

            session = new SecureSession(owner, inner, keys, userName, history, pins, downloads, outlet, logger);
        }
        catch
        {
            await history.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        session.Start();
        try
        {
            // Returning only once the group keys the server stored are loaded, so that a group send right after
            // sign-in finds its key (and an admin never issues a second key for an epoch it already has one for).
            await session.WaitForResumeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            // The session works; group operations wait for the keys themselves.
            SecureChatLog.BackgroundFailed(logger, "Loading the stored group keys", ex.Message, ex);
        }
        catch
        {
            await session.CloseAsync(signOut: false, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        SecureChatLog.SignedIn(logger, userName, keys.FingerprintText);
        return session;
    }

    /// <summary>
    /// Completes once the key envelopes the server delivers at <c>Resume</c> are processed (after the first sign-in of
    /// the session); group key decisions wait for it.
    /// </summary>
    /// <exception cref="TimeoutException">Not within the request timeout.</exception>
    public async Task WaitForResumeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _resumed.Task.WaitAsync(_inner.Options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(
                $"The group keys stored on the server were not loaded within {_inner.Options.RequestTimeout.TotalSeconds:0.###} s of the sign-in; try again.");
        }
    }

    /// <summary>
    /// Ends the session: stops the loops and background work, signs out on the server if asked (otherwise only closes
    /// the connection, and the server keeps what arrives), then closes the history and wipes the keys. Messages not
    /// yet processed stay pending on the server.
    /// </summary>
    public async Task CloseAsync(bool signOut, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            if (signOut)
            {
                await _inner.SignOutAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await _inner.DisposeAsync().ConfigureAwait(false);
            await Task.WhenAll(_intakeLoop, _controlLoop, _messageLoop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Task[] background;
            lock (_lock)
            {
                background = [.. _background];
                _background.Clear();
            }

            await Task.WhenAll(background).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _history.DisposeAsync().ConfigureAwait(false);
            _keys.Dispose();
            _keyGate.Dispose();
            _stopping.Dispose();
        }
    }

    /// <summary>Closes the session without signing out (see <see cref="CloseAsync"/>).</summary>
    public ValueTask DisposeAsync() => new(CloseAsync(signOut: false, CancellationToken.None));

    /// <summary>The key ring of a group, if this session knows the group.</summary>
    internal GroupKeyRing? GetGroupKeyRing(string group)
    {
        lock (_lock)
        {
            return _groups.TryGetValue(group, out GroupState? state) ? state.Ring : null;
        }
    }

    private static bool IsRecoverable(Exception exception) =>
        exception is ChatException or ChatConnectionException or TimeoutException or ChatHistoryException
            or IOException or UnauthorizedAccessException or InvalidDataException or System.Security.Cryptography.CryptographicException
            or ObjectDisposedException or InvalidOperationException or ArgumentException;

    private void Start()
    {
        _intakeLoop = IntakeLoopAsync(_stopping.Token);
        _controlLoop = ControlLoopAsync(_stopping.Token);
        _messageLoop = MessageLoopAsync(_stopping.Token);
    }

    private GroupState GetOrAddGroup(string group)
    {
        lock (_lock)
        {
            if (!_groups.TryGetValue(group, out GroupState? state))
            {
                state = new GroupState(group);
                _groups.Add(group, state);
            }

            return state;
        }
    }

    private GroupState? TryGetGroup(string group)
    {
        lock (_lock)
        {
            return _groups.TryGetValue(group, out GroupState? state) ? state : null;
        }
    }

    private void RemoveGroup(string group)
    {
        lock (_lock)
        {
            _groups.Remove(group);
        }
    }

    // ---- Loops -------------------------------------------------------------------------------------------------

    private async Task IntakeLoopAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (ChatEvent item in _inner.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
            {
                _owner.InnerEventObserved?.Invoke(item);
                if (item is IncomingMessage message)
                {
                    _messages.Writer.TryWrite(message);
                    if (Interlocked.Increment(ref _messageBacklog) >= MessageBacklogLimit)
                    {
                        await WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    _control.Writer.TryWrite(item);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closing.
        }
        finally
        {
            _messages.Writer.TryComplete();
            _control.Writer.TryComplete();
        }
    }

    private async Task ControlLoopAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (ChatEvent item in _control.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await HandleControlAsync(item, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsRecoverable(ex))
                {
                    // One event that could not be handled (the server unreachable, the history failing) must not stop
                    // the session; group keys come again at the next sign-in.
                    SecureChatLog.EventFailed(_logger, item.GetType().Name, ex.Message, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closing.
        }
    }

    private async Task MessageLoopAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (IncomingMessage message in _messages.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Interlocked.Decrement(ref _messageBacklog) == MessageBacklogLimit - 1)
                {
                    SignalRoom();
                }

                // Only for an application that reads: otherwise the message stays pending, unacknowledged.
                await _outlet.WaitForReaderAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await ProcessAsync(message, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsRecoverable(ex))
                {
                    // A failure that says nothing about the message (the server unreachable for its sender's keys,
                    // the history or the disk failing): leave it unacknowledged, to be delivered again.
                    LeavePending(message, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closing: what was not processed stays pending on the server.
        }
    }

    private async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Taken before the checks, so a signal between the checks and the wait is not missed.
            Task room = Volatile.Read(ref _room).Task;
            if (Volatile.Read(ref _messageBacklog) < MessageBacklogLimit || Volatile.Read(ref _serverWaits) > 0)
            {
                return;
            }

            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void SignalRoom()
    {
        TaskCompletionSource previous = Interlocked.Exchange(ref _room, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }

    /// <summary>Awaits a request to the server while letting the intake read past its limit (the reply queues behind what the server sent before it).</summary>
    private async Task<T> ServerRequestAsync<T>(Task<T> request)
    {
        Interlocked.Increment(ref _serverWaits);
        SignalRoom();
        try
        {
            return await request.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _serverWaits);
        }
    }

    private async Task ServerRequestAsync(Task request)
    {
        Interlocked.Increment(ref _serverWaits);
        SignalRoom();
        try
        {
            await request.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _serverWaits);
        }
    }

    /// <summary>Puts messages taken from the hold back in the message queue.</summary>
    private void Requeue(List<IncomingMessage> messages)
    {
        foreach (IncomingMessage message in messages)
        {
            if (_messages.Writer.TryWrite(message))
            {
                Interlocked.Increment(ref _messageBacklog);
            }
        }
    }

    /// <summary>Runs work off the loops (key rotations, the post-resume check); it is awaited when the session closes.</summary>
    private void StartBackground(Func<CancellationToken, Task> work, string operation)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        Task task = RunBackgroundAsync(work, operation, _stopping.Token);
        lock (_lock)
        {
            _background.RemoveWhere(static t => t.IsCompleted);
            if (!task.IsCompleted)
            {
                _background.Add(task);
            }
        }
    }

    private async Task RunBackgroundAsync(Func<CancellationToken, Task> work, string operation, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await work(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closing.
        }
        catch (Exception ex) when (IsRecoverable(ex))
        {
            SecureChatLog.BackgroundFailed(_logger, operation, ex.Message, ex);
        }
    }
}
