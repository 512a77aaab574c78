using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using FastChat.Client.Crypto;
using FastChat.Client.History;
using FastChat.Client.Secure.Internal;
using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Client.Secure;

/// <summary>
/// A FastChat user with end-to-end encryption: everything sent to other users is signed and encrypted on this machine
/// (docs/security.md), everything received is verified and decrypted before the application sees it, contacts' keys are
/// pinned on first use, group keys are issued and rotated by the group's admin, and every message is recorded in the
/// user's <see cref="ChatHistory"/>. Built on <see cref="ChatClient"/>, which it uses for transport.
/// </summary>
/// <remarks>
/// <code>
/// await using var client = new SecureChatClient(new SecureChatOptions { Client = { BalancerHost = "chat.example.com" } });
/// await client.SignInAsync("alice", password, cancellationToken);
/// await client.SendTextAsync("bob", "hello", cancellationToken);     // completes when the server has taken it
/// await foreach (SecureChatEvent e in client.ReadEventsAsync(cancellationToken))
/// {
///     if (e is TextReceived text) { /* verified, decrypted, recorded */ }
/// }
/// </code>
/// <para>
/// Receiving: a message is acknowledged (so the server deletes it) only once it is verified, decrypted and recorded in
/// the history (a file: also saved), or once it is refused for good (bad signature, tampered, malformed), which a
/// <see cref="SecurityWarning"/> reports. Messages are processed only while the application reads
/// <see cref="ReadEventsAsync"/>: a program that never reads leaves them pending on the server for the next sign-in.
/// Group keys, membership changes and receipts are processed regardless. A group message sealed under an epoch whose
/// key has not arrived, or from a contact whose key changed, waits unacknowledged until the key arrives or is trusted.
/// Copies of a message already recorded are acknowledged and dropped silently.
/// </para>
/// <para>
/// Keys: a contact's keys are fetched once per sign-in and checked against the pin in <c>pins.json</c>. A changed key is
/// never used: sends throw <see cref="KeyChangedException"/>, a <see cref="KeyChanged"/> event reports it, and
/// <see cref="TrustNewKey"/> accepts it on the user's word.
/// </para>
/// <para>
/// Groups: the admin's client issues a new random group key for every key epoch (a new group; after a member is
/// removed or leaves, when the server advances the epoch) and wraps it for each member; members accept keys only from
/// the admin. Sends use the newest key, and refuse while the server announced a newer epoch than the newest key held.
/// </para>
/// <para>Thread safety: every member may be called concurrently. Events can be read by one or several readers.</para>
/// </remarks>
public sealed class SecureChatClient : IAsyncDisposable
{
    private readonly SecureChatOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly EventOutlet _outlet;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile SecureSession? _session;
    private volatile bool _disposed;

    /// <summary>Creates a client; it connects when it signs in or up.</summary>
    /// <param name="options">The settings; they are validated and copied.</param>
    /// <param name="loggerFactory">Where the client logs (categories <c>FastChat.Client.Secure</c>, <c>FastChat.Client</c>, <c>FastChat.Transport</c>); <see langword="null"/> logs nothing.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public SecureChatClient(SecureChatOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();

        // Acknowledgements are this client's decision: after verifying, decrypting and recording.
        _options.Client.AutoAck = false;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger("FastChat.Client.Secure");
        _outlet = new EventOutlet(_options.Client.EventCapacity);
    }

    /// <summary>The signed-in user.</summary>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    public string UserName => Session.UserName;

    /// <summary>The signed-in user's identity fingerprint, as others see it (<see cref="PublicIdentity.FingerprintText"/>): compare it out of band.</summary>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    public string Fingerprint => Session.Fingerprint;

    /// <summary>The signed-in user's message history, opened at sign-in and closed at sign-out.</summary>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    public ChatHistory History => Session.History;

    /// <summary>Whether a user is signed in (the session may be reconnecting).</summary>
    public bool IsSignedIn => _session is not null;

    /// <summary>Where the session stands: <see cref="ConnectionState.Disconnected"/> when not signed in.</summary>
    public ConnectionState State => _session?.Inner.State ?? ConnectionState.Disconnected;

    /// <summary>Sees every transport event as it arrives, before any processing (tests capture ciphertext with it). Set before signing in.</summary>
    internal Action<ChatEvent>? InnerEventObserved { get; set; }

    /// <summary>Called with (group, epoch) each time a group key is added to a ring.</summary>
    internal Action<string, int>? GroupKeyAdded { get; set; }

    internal IdentityKeys? IdentityKeys => _session?.Keys;

    internal ChatClient? InnerClient => _session?.Inner;

    internal KeyPinStore? Pins => _session?.Pins;

    private SecureSession Session => _session ?? throw new InvalidOperationException("The client is not signed in: call SignInAsync or SignUpAsync first.");

    /// <summary>
    /// Creates an account: new identity keys (the private ones wrapped under a key derived from the password, so that
    /// the server stores them without being able to read them), then signs in as with <see cref="SignInAsync"/>.
    /// </summary>
    /// <param name="userName">The new user name: 3 to 32 of <c>a-z 0-9 _ - .</c>, starting with a letter or digit.</param>
    /// <param name="password">The password; it never leaves the client.</param>
    /// <param name="cancellationToken">Cancels the sign-up.</param>
    /// <returns>A task that completes when the user is signed in.</returns>
    /// <exception cref="ArgumentException">The user name is empty or too long.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is already signed in.</exception>
    /// <exception cref="ChatException">The balancer refused: <see cref="ErrorCode.UserExists"/>, <see cref="ErrorCode.InvalidUserName"/>, <see cref="ErrorCode.NoServerAvailable"/>, ...</exception>
    /// <exception cref="ChatConnectionException">The balancer or the assigned server could not be reached.</exception>
    /// <exception cref="ChatHistoryException">The history in the data folder could not be opened (for example it belongs to another user).</exception>
    /// <exception cref="InvalidDataException">The key pin file in the data folder is damaged.</exception>
    /// <exception cref="IOException">The data folder could not be created or read.</exception>
    /// <exception cref="TimeoutException">A reply took longer than <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public async Task SignUpAsync(string userName, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        IdentityKeys? keys = IdentityKeys.Generate();
        var inner = new ChatClient(_options.Client, _loggerFactory);
        try
        {
            SignInResult result = await inner.SignUpAsync(userName, password, wrapKey => keys.ToAccountKeys(wrapKey.Span, userName), cancellationToken)
                .ConfigureAwait(false);
            Wipe(result.WrapKey);
            _session = await SecureSession.StartAsync(this, inner, keys, userName, _options, _outlet, _logger, cancellationToken).ConfigureAwait(false);
            keys = null;
        }
        catch
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            keys?.Dispose();
            _gate.Release();
        }
    }

    /// <summary>
    /// Signs in: proves the password to the balancer, unwraps the account's private keys with a key derived from the
    /// password (checking them against the published public keys), opens the history and the key pins in
    /// <see cref="SecureChatOptions.DataDirectory"/>, and starts receiving. Stored messages follow as events.
    /// </summary>
    /// <param name="userName">The user name.</param>
    /// <param name="password">The password; it never leaves the client, and the client does not keep it.</param>
    /// <param name="cancellationToken">Cancels the sign-in.</param>
    /// <returns>A task that completes when the user is signed in.</returns>
    /// <exception cref="ArgumentException">The user name is empty or too long.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is already signed in.</exception>
    /// <exception cref="ChatException">
    /// The balancer refused: <see cref="ErrorCode.AuthenticationFailed"/> (wrong user name or password), <see cref="ErrorCode.RateLimited"/>,
    /// <see cref="ErrorCode.NoServerAvailable"/>, ...; <see cref="ErrorCode.ProtocolViolation"/>, the balancer asked for too few
    /// PBKDF2 iterations; or <see cref="ErrorCode.Unexpected"/>, the account's stored keys do not open with the password or do
    /// not match its published keys (the server's copy is damaged or was replaced).
    /// </exception>
    /// <exception cref="ChatConnectionException">The balancer or the assigned server could not be reached.</exception>
    /// <exception cref="ChatHistoryException">The history in the data folder could not be opened (for example it belongs to another user).</exception>
    /// <exception cref="InvalidDataException">The key pin file in the data folder is damaged.</exception>
    /// <exception cref="IOException">The data folder could not be created or read.</exception>
    /// <exception cref="TimeoutException">A reply took longer than <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public async Task SignInAsync(string userName, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        IdentityKeys? keys = null;
        var inner = new ChatClient(_options.Client, _loggerFactory);
        try
        {
            SignInResult result = await inner.SignInAsync(userName, password, cancellationToken).ConfigureAwait(false);
            try
            {
                keys = IdentityKeys.FromAccountKeys(result.Keys, result.WrapKey.Span, userName);
            }
            catch (EnvelopeException ex)
            {
                // The balancer accepted the password, so the keys it returned are what is wrong.
                throw new ChatException(
                    ErrorCode.Unexpected,
                    $"The account's stored keys cannot be used ({ex.Failure}): {ex.Message} The server's copy is damaged or was replaced; nothing was sent.");
            }
            finally
            {
                Wipe(result.WrapKey);
            }

            _session = await SecureSession.StartAsync(this, inner, keys, userName, _options, _outlet, _logger, cancellationToken).ConfigureAwait(false);
            keys = null;
        }
        catch
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            keys?.Dispose();
            _gate.Release();
        }
    }

    /// <summary>
    /// Signs out: stops processing, tells the server (which keeps new messages for the next sign-in), closes the history
    /// and forgets the keys. Messages not yet processed stay pending on the server. Does nothing when not signed in.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the server's reply; the client signs out locally anyway.</param>
    /// <returns>A task that completes when the session is closed.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the client is signed out regardless).</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public async Task SignOutAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            SecureSession? session = _session;
            if (session is null)
            {
                return;
            }

            _session = null;
            try
            {
                await session.CloseAsync(signOut: true, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _outlet.TryNotify(new ConnectionChanged(ConnectionState.Disconnected, "Signed out."));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends a text message to a user, signed and encrypted for the user's pinned key, and records it in the history.</summary>
    /// <param name="recipient">The receiving user.</param>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Stops waiting; the message is then no longer resent (it may already have reached the server) and is recorded as failed.</param>
    /// <returns>The message id, once the server has taken responsibility for the message (delivered or stored).</returns>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is empty, or <paramref name="text"/> is not valid Unicode or too long for one message once encrypted.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or the outbox is full.</exception>
    /// <exception cref="KeyChangedException">The recipient's key differs from the pinned one: nothing was sent.</exception>
    /// <exception cref="ChatException">The server refused, e.g. <see cref="ErrorCode.UserNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<MessageId> SendTextAsync(string recipient, string text, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentNullException.ThrowIfNull(text);
        return Session.SendTextAsync(recipient, text, cancellationToken);
    }

    /// <summary>Sends a file or image to a user: its name, size and SHA-256 are signed and sealed for the user, its content encrypted chunk by chunk.</summary>
    /// <param name="recipient">The receiving user.</param>
    /// <param name="path">The file to send; only its name (not its folder) is sent.</param>
    /// <param name="cancellationToken">Stops the transfer; the file is then recorded as failed.</param>
    /// <returns>The file id, once the server has stored the whole file for the recipient.</returns>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> or <paramref name="path"/> is empty, or <paramref name="path"/> names a folder.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or the outbox is full.</exception>
    /// <exception cref="KeyChangedException">The recipient's key differs from the pinned one: nothing was sent.</exception>
    /// <exception cref="ChatException">The file is too large (<see cref="ErrorCode.FileTooLarge"/>, by this client's or the server's limit), or the server refused, e.g. <see cref="ErrorCode.UserNotFound"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file could not be read, or changed while it was being encrypted.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<MessageId> SendFileAsync(string recipient, string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Session.SendFileAsync(recipient, path, cancellationToken);
    }

    /// <summary>Sends a text message to a group under the group's newest key, and records it in the history.</summary>
    /// <param name="group">The group.</param>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Stops waiting; the message is then recorded as failed.</param>
    /// <returns>The message id, once every member's copy is delivered or stored.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty, or <paramref name="text"/> is not valid Unicode or too long for one message once encrypted.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or the outbox is full.</exception>
    /// <exception cref="ChatException">
    /// <see cref="ErrorCode.NotMember"/>: this client holds no key for the group (not a member, or the admin has not sent the key yet);
    /// <see cref="ErrorCode.Unexpected"/>: waiting for the admin to rotate the group key after a member left;
    /// or the server refused, e.g. <see cref="ErrorCode.GroupNotFound"/>.
    /// </exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<MessageId> SendGroupTextAsync(string group, string text, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentNullException.ThrowIfNull(text);
        return Session.SendGroupTextAsync(group, text, cancellationToken);
    }

    /// <summary>Sends a file or image to a group, its manifest sealed under the group's newest key.</summary>
    /// <param name="group">The group.</param>
    /// <param name="path">The file to send; only its name (not its folder) is sent.</param>
    /// <param name="cancellationToken">Stops the transfer; the file is then recorded as failed.</param>
    /// <returns>The file id, once the server has stored the whole file for every member.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="path"/> is empty, or <paramref name="path"/> names a folder.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or the outbox is full.</exception>
    /// <exception cref="ChatException">As <see cref="SendGroupTextAsync"/>; or <see cref="ErrorCode.FileTooLarge"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file could not be read, or changed while it was being encrypted.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="ChatConnectionException">The client signed out, or gave up reconnecting, before the acknowledgement.</exception>
    /// <exception cref="TimeoutException">No acknowledgement within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<MessageId> SendGroupFileAsync(string group, string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Session.SendGroupFileAsync(group, path, cancellationToken);
    }

    /// <summary>Creates a group with this user as its admin, and issues its first key.</summary>
    /// <param name="group">The new group's name: 3 to 32 of <c>a-z 0-9 _ - .</c>, starting with a letter or digit.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the group exists and its key is stored for this user.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.GroupExists"/>, <see cref="ErrorCode.InvalidUserName"/>, ...</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task CreateGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        return Session.CreateGroupAsync(group, cancellationToken);
    }

    /// <summary>Adds a member (admin only): pins the member's key first, then wraps the group's current key for it.</summary>
    /// <param name="group">The group.</param>
    /// <param name="member">The user to add.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the member is added and its key envelope stored.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="KeyChangedException">The member's key differs from the pinned one: the member was not added.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotAdmin"/>, <see cref="ErrorCode.GroupFull"/>, <see cref="ErrorCode.AlreadyMember"/>, <see cref="ErrorCode.UserNotFound"/>, <see cref="ErrorCode.GroupNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task AddMemberAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(member);
        return Session.AddMemberAsync(group, member, cancellationToken);
    }

    /// <summary>Removes a member (admin only), then issues a new group key for the remaining members, so the removed one cannot read what follows.</summary>
    /// <param name="group">The group.</param>
    /// <param name="member">The member to remove.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the member is removed and the new key is stored for the others.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> or <paramref name="member"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotAdmin"/>, <see cref="ErrorCode.NotMember"/>, <see cref="ErrorCode.GroupNotFound"/>, ...</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task RemoveMemberAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        ArgumentException.ThrowIfNullOrEmpty(member);
        return Session.RemoveMemberAsync(group, member, cancellationToken);
    }

    /// <summary>Leaves a group. If this user was the admin, the server hands the group to another member, whose client issues the next key.</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the server has removed this user from the group.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotMember"/>, <see cref="ErrorCode.GroupNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task LeaveGroupAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        return Session.LeaveGroupAsync(group, cancellationToken);
    }

    /// <summary>Lists a group's admin, key epoch and members (admin only).</summary>
    /// <param name="group">The group.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The group's members, the admin included.</returns>
    /// <exception cref="ArgumentException"><paramref name="group"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.NotAdmin"/>, <see cref="ErrorCode.GroupNotFound"/>.</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<GroupMembersInfo> GetMembersAsync(string group, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(group);
        return Session.GetMembersAsync(group, cancellationToken);
    }

    /// <summary>
    /// A user's public identity: fetched from the server once per sign-in, pinned the first time it is seen (trust on
    /// first use), and checked against the pin afterwards. Compare its <see cref="PublicIdentity.FingerprintText"/> with
    /// the user's out of band to rule out a substituted key.
    /// </summary>
    /// <param name="userName">The user; this user itself is answered from its own keys.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The identity, pinned.</returns>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in.</exception>
    /// <exception cref="KeyChangedException">The keys differ from the pinned ones (a <see cref="KeyChanged"/> event reports it too).</exception>
    /// <exception cref="ChatException">The server refused: <see cref="ErrorCode.UserNotFound"/>.</exception>
    /// <exception cref="EnvelopeException">The server returned keys that are not P-256 public keys (<see cref="EnvelopeFailure.Malformed"/>).</exception>
    /// <exception cref="ChatConnectionException">The session was lost before the reply.</exception>
    /// <exception cref="TimeoutException">No reply within <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<PublicIdentity> GetIdentityAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        return Session.GetTrustedIdentityAsync(userName, cancellationToken);
    }

    /// <summary>
    /// Accepts a contact's changed key, after the user compared the new fingerprint with the contact: it replaces the
    /// pin, messages from the contact held meanwhile are processed, and group keys held back from it are sent.
    /// </summary>
    /// <param name="userName">The contact, as reported by <see cref="KeyChanged"/> or <see cref="KeyChangedException"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="userName"/> is empty.</exception>
    /// <exception cref="InvalidOperationException">The client is not signed in, or no changed key of this user was seen in this session.</exception>
    /// <exception cref="IOException">The pin file could not be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The pin file may not be written.</exception>
    public void TrustNewKey(string userName)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        Session.TrustNewKey(userName);
    }

    /// <summary>
    /// Reads what happens: messages and files received (verified, decrypted, recorded), delivery receipts, group
    /// changes, key changes, refused messages and connection changes. Reading is what lets received messages be
    /// processed; the sequence ends when the client is disposed. Events of successive sign-ins follow each other.
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration; events not yet read stay queued for the next reader.</param>
    /// <returns>The events.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    public async IAsyncEnumerable<SecureChatEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        _outlet.AddReader();
        try
        {
            ChannelReader<SecureChatEvent> reader = _outlet.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out SecureChatEvent? item))
                {
                    yield return item;
                }
            }
        }
        finally
        {
            _outlet.RemoveReader();
        }
    }

    /// <summary>
    /// Closes the session without signing out (the server keeps what arrives for the next sign-in), closes the history,
    /// and ends <see cref="ReadEventsAsync"/> once the events already queued are read.
    /// </summary>
    /// <returns>A task that completes when everything is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            SecureSession? session = _session;
            _session = null;
            if (session is not null)
            {
                await session.CloseAsync(signOut: false, CancellationToken.None).ConfigureAwait(false);
                _outlet.TryNotify(new ConnectionChanged(ConnectionState.Disconnected, "The client was disposed."));
            }
        }
        finally
        {
            _outlet.Complete();
            _gate.Release();
        }
    }

    /// <summary>The group key ring of a group this session knows, for tests that check what a member can open.</summary>
    internal GroupKeyRing? GetGroupKeyRing(string group) => _session?.GetGroupKeyRing(group);

    private static void Wipe(ReadOnlyMemory<byte> key)
    {
        // The transport hands over a copy of the wrap key: once the private keys are unwrapped (or wrapped) it is
        // no longer needed.
        if (MemoryMarshal.TryGetArray(key, out ArraySegment<byte> segment))
        {
            CryptographicOperations.ZeroMemory(segment);
        }
    }

    private async Task EnterAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_disposed || _session is not null)
        {
            string? signedInAs = _session?.UserName;
            _gate.Release();
            ObjectDisposedException.ThrowIf(_disposed, this);
            throw new InvalidOperationException($"The client is already signed in as {signedInAs}; sign out first.");
        }
    }
}
