using System.Security.Cryptography;
using FastChat.Client.Internal;
using FastChat.Protocol;
using FastChat.Protocol.Messages;

namespace FastChat.Client;

public sealed partial class ChatClient
{
    // A balancer asking for more PBKDF2 rounds than this is broken or hostile: deriving would pin a core for minutes.
    private const int MaxKdfIterations = 10_000_000;

    // The salt is chosen by the client at sign-up (16 bytes); the balancer accepts 16 to 64.
    private const int MaxKdfSaltSize = 1024;

    /// <summary>
    /// Creates an account and signs in: derives the auth and wrap keys from the password with a new random salt and
    /// <see cref="ChatClientOptions.KdfIterations"/>, sends the auth key and <paramref name="keys"/> to the balancer,
    /// then resumes on the assigned server.
    /// </summary>
    /// <param name="userName">The new user name: 3 to 32 of <c>a-z 0-9 _ - .</c>, starting with a letter or digit.</param>
    /// <param name="password">The password; it never leaves the client.</param>
    /// <param name="keys">The account's public keys and wrapped private keys (opaque to the servers).</param>
    /// <param name="cancellationToken">Cancels the sign-up.</param>
    /// <returns>Who is signed in, where, and the derived wrap key.</returns>
    /// <exception cref="ArgumentException">The user name is empty or too long.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> or <paramref name="keys"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is already signed in.</exception>
    /// <exception cref="ChatException">The balancer refused: <see cref="ErrorCode.UserExists"/>, <see cref="ErrorCode.InvalidUserName"/>, <see cref="ErrorCode.NoServerAvailable"/>, ...</exception>
    /// <exception cref="ChatConnectionException">The balancer or the assigned server could not be reached.</exception>
    /// <exception cref="TimeoutException">A reply took longer than <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<SignInResult> SignUpAsync(string userName, string password, AccountKeys keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return SignUpCoreAsync(userName, password, keys, null, cancellationToken);
    }

    /// <summary>
    /// Creates an account and signs in, letting the caller build the account's keys from the wrap key derived from the
    /// password (to wrap the new private keys with it) before anything is sent.
    /// </summary>
    /// <param name="userName">The new user name: 3 to 32 of <c>a-z 0-9 _ - .</c>, starting with a letter or digit.</param>
    /// <param name="password">The password; it never leaves the client.</param>
    /// <param name="createKeys">Given the 32-byte wrap key (valid only during the call), returns the account's public keys and wrapped private keys.</param>
    /// <param name="cancellationToken">Cancels the sign-up.</param>
    /// <returns>Who is signed in, where, and the derived wrap key.</returns>
    /// <exception cref="ArgumentException">The user name is empty or too long.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> or <paramref name="createKeys"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is already signed in, or <paramref name="createKeys"/> returned <see langword="null"/>.</exception>
    /// <exception cref="ChatException">The balancer refused: <see cref="ErrorCode.UserExists"/>, <see cref="ErrorCode.InvalidUserName"/>, <see cref="ErrorCode.NoServerAvailable"/>, ...</exception>
    /// <exception cref="ChatConnectionException">The balancer or the assigned server could not be reached.</exception>
    /// <exception cref="TimeoutException">A reply took longer than <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public Task<SignInResult> SignUpAsync(string userName, string password, Func<ReadOnlyMemory<byte>, AccountKeys> createKeys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(createKeys);
        return SignUpCoreAsync(userName, password, null, createKeys, cancellationToken);
    }

    /// <summary>
    /// Signs in: fetches the account's KDF parameters from the balancer, derives the auth and wrap keys from the
    /// password, proves the auth key, then resumes on the assigned server. Stored messages follow as events.
    /// </summary>
    /// <param name="userName">The user name.</param>
    /// <param name="password">The password; it never leaves the client, and the client does not keep it.</param>
    /// <param name="cancellationToken">Cancels the sign-in.</param>
    /// <returns>Who is signed in, where, the account's keys and the derived wrap key.</returns>
    /// <exception cref="ArgumentException">The user name is empty or too long.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The client is already signed in.</exception>
    /// <exception cref="ChatException">The balancer refused: <see cref="ErrorCode.AuthenticationFailed"/> (wrong user name or password), <see cref="ErrorCode.RateLimited"/>, <see cref="ErrorCode.NoServerAvailable"/>, ...; or <see cref="ErrorCode.ProtocolViolation"/>: the balancer asked for fewer than <see cref="ChatClientOptions.MinimumKdfIterations"/> PBKDF2 iterations, and the client refused to derive the password's keys with them.</exception>
    /// <exception cref="ChatConnectionException">The balancer or the assigned server could not be reached.</exception>
    /// <exception cref="ProtocolViolationException">The balancer asked for a key-derivation function or parameters this client does not support.</exception>
    /// <exception cref="TimeoutException">A reply took longer than <see cref="ChatClientOptions.RequestTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public async Task<SignInResult> SignInAsync(string userName, string password, CancellationToken cancellationToken = default)
    {
        ValidateName(userName, nameof(userName));
        ArgumentNullException.ThrowIfNull(password);
        await EnterSignInAsync(cancellationToken).ConfigureAwait(false);
        byte[] authKey = new byte[PasswordKeys.KeySize];
        byte[] wrapKey = new byte[PasswordKeys.KeySize];
        bool signedIn = false;
        try
        {
            using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
            Assignment assignment;
            BalancerConnection balancer = await BalancerConnection.OpenAsync(_options, _connectorOptions, _logger, linked.Token).ConfigureAwait(false);
            try
            {
                KdfParameterSet kdf = await balancer.GetKdfParametersAsync(userName, _options.RequestTimeout, linked.Token).ConfigureAwait(false);
                CheckKdfParameters(kdf);
                PasswordKeys.Derive(password, kdf.Salt, kdf.Iterations, authKey, wrapKey);
                assignment = await balancer.SignInAsync(userName, authKey, _options.RequestTimeout, linked.Token).ConfigureAwait(false);
            }
            finally
            {
                await balancer.DisposeAsync().ConfigureAwait(false);
            }

            SignInResult result = await StartSessionAsync(assignment, authKey, wrapKey, linked.Token).ConfigureAwait(false);
            signedIn = true;
            return result;
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw ThrowHelper.CreateDisposed();
        }
        finally
        {
            if (!signedIn)
            {
                // On success the credentials own the auth key (to sign in again after a reconnect).
                CryptographicOperations.ZeroMemory(authKey);
            }

            CryptographicOperations.ZeroMemory(wrapKey);
            _signInGate.Release();
        }
    }

    /// <summary>
    /// Signs out: tells the server (which stops delivering to this client and keeps new messages for the next
    /// sign-in), closes the session and forgets the credentials. Sends still waiting for an acknowledgement fail with
    /// <see cref="ChatConnectionException"/>. Does nothing when not signed in.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the server's reply; the client signs out locally anyway.</param>
    /// <returns>A task that completes when the session is closed.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the client is signed out regardless).</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public async Task SignOutAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ServerSession? session;
        Credentials? credentials;
        CancellationTokenSource? signedIn;
        List<OutboxEntry> abandoned;
        TaskCompletionSource<ServerSession>? waiters;
        Task reconnecting;
        lock (_lock)
        {
            credentials = _credentials;
            if (credentials is null)
            {
                return;
            }

            session = _session;
            _session = null;
            _credentials = null;
            signedIn = _signedIn;
            _signedIn = null;
            _state = ConnectionState.Disconnected;
            abandoned = TakeOutbox();
            waiters = _sessionWaiters;
            _sessionWaiters = null;
            reconnecting = _reconnecting;
        }

        if (signedIn is not null)
        {
            // Stops a reconnection in progress.
            await signedIn.CancelAsync().ConfigureAwait(false);
        }

        waiters?.TrySetException(new ChatConnectionException("The client signed out."));
        var error = new ChatConnectionException("The client signed out before the server acknowledged the message.");
        foreach (OutboxEntry entry in abandoned)
        {
            entry.Fail(error);
        }

        try
        {
            await reconnecting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (session is not null)
            {
                try
                {
                    await session.RequestAsync(new OkRequest(), new SignOut(), _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ChatException or ChatConnectionException or TimeoutException)
                {
                    // The server is gone or refused: closing the connection signs out just the same (it clears the
                    // presence on disconnect).
                }
            }
        }
        finally
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            credentials.Dispose();
            signedIn?.Dispose();
            ChatClientLog.SignedOut(_logger, credentials.UserName);
            PublishState(ConnectionState.Disconnected, "Signed out.");
        }
    }

    private async Task<SignInResult> SignUpCoreAsync(string userName, string password, AccountKeys? keys, Func<ReadOnlyMemory<byte>, AccountKeys>? createKeys, CancellationToken cancellationToken)
    {
        ValidateName(userName, nameof(userName));
        ArgumentNullException.ThrowIfNull(password);
        await EnterSignInAsync(cancellationToken).ConfigureAwait(false);
        byte[] authKey = new byte[PasswordKeys.KeySize];
        byte[] wrapKey = new byte[PasswordKeys.KeySize];
        bool signedIn = false;
        try
        {
            using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
            byte[] salt = PasswordKeys.NewSalt();
            PasswordKeys.Derive(password, salt, _options.KdfIterations, authKey, wrapKey);
            keys ??= createKeys!(wrapKey) ?? throw new InvalidOperationException("The key factory passed to SignUpAsync returned null.");
            int keyBytes = keys.AgreementPublicKey.Length + keys.SigningPublicKey.Length + keys.WrappedPrivateKeys.Length;
            if (keyBytes > MaxBodySize)
            {
                ThrowHelper.ThrowTooLarge(nameof(keys), keyBytes, MaxBodySize);
            }

            var signUp = new SignUp
            {
                UserName = userName,
                KdfAlgorithm = PasswordKeys.Algorithm,
                KdfSalt = new(salt),
                KdfIterations = _options.KdfIterations,
                AuthKey = new(authKey),
                AgreementPublicKey = new(keys.AgreementPublicKey),
                SigningPublicKey = new(keys.SigningPublicKey),
                WrappedPrivateKeys = new(keys.WrappedPrivateKeys),
            };

            Assignment assignment;
            BalancerConnection balancer = await BalancerConnection.OpenAsync(_options, _connectorOptions, _logger, linked.Token).ConfigureAwait(false);
            try
            {
                assignment = await balancer.SignUpAsync(signUp, _options.RequestTimeout, linked.Token).ConfigureAwait(false);
            }
            finally
            {
                await balancer.DisposeAsync().ConfigureAwait(false);
            }

            SignInResult result = await StartSessionAsync(assignment, authKey, wrapKey, linked.Token).ConfigureAwait(false);
            signedIn = true;
            return result;
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw ThrowHelper.CreateDisposed();
        }
        finally
        {
            if (!signedIn)
            {
                CryptographicOperations.ZeroMemory(authKey);
            }

            CryptographicOperations.ZeroMemory(wrapKey);
            _signInGate.Release();
        }
    }

    // One sign-in at a time, and only when signed out.
    private async ValueTask EnterSignInAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await _signInGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        string? signedInAs = null;
        bool disposed;
        lock (_lock)
        {
            disposed = _disposed;
            if (!disposed && _credentials is not null)
            {
                signedInAs = _credentials.UserName;
            }
        }

        if (disposed || signedInAs is not null)
        {
            _signInGate.Release();
            if (disposed)
            {
                ThrowHelper.ThrowDisposed();
            }

            throw new InvalidOperationException($"The client is already signed in as {signedInAs}; sign out first.");
        }
    }

    private static void CheckKdfParameters(KdfParameterSet kdf)
    {
        if (!string.Equals(kdf.Algorithm, PasswordKeys.Algorithm, StringComparison.Ordinal))
        {
            throw new ProtocolViolationException($"The balancer asked for key-derivation function '{kdf.Algorithm}'; this client supports only '{PasswordKeys.Algorithm}'.");
        }

        if (kdf.Iterations < ChatClientOptions.MinimumKdfIterations)
        {
            // Deriving with fewer rounds would hand the balancer an auth key that is cheap to attack offline: a
            // downgrade the client refuses rather than trusting the balancer's parameters.
            throw new ChatException(
                ErrorCode.ProtocolViolation,
                $"The balancer asked for only {kdf.Iterations} PBKDF2 iterations for this account; this client refuses fewer than {ChatClientOptions.MinimumKdfIterations}, since that would make the password cheap to guess. The balancer is misconfigured or hostile.");
        }

        if (kdf.Iterations > MaxKdfIterations)
        {
            throw new ProtocolViolationException($"The balancer asked for {kdf.Iterations} PBKDF2 iterations; this client accepts {ChatClientOptions.MinimumKdfIterations} to {MaxKdfIterations}.");
        }

        if (kdf.Salt.Length is 0 or > MaxKdfSaltSize)
        {
            throw new ProtocolViolationException($"The balancer sent a {kdf.Salt.Length}-byte salt; this client accepts 1 to {MaxKdfSaltSize} bytes.");
        }
    }

    /// <summary>Opens the session on the assigned server and makes it the client's.</summary>
    private async Task<SignInResult> StartSessionAsync(Assignment assignment, byte[] authKey, byte[] wrapKey, CancellationToken cancellationToken)
    {
        (ServerSession session, Resumed resumed) = await ServerSession.OpenAsync(this, assignment, cancellationToken).ConfigureAwait(false);
        bool installed = false;
        try
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    ThrowHelper.ThrowDisposed();
                }

                // Checked under the lock that OnSessionEnded takes: either the loss is seen here, or OnSessionEnded
                // finds the session installed and reconnects.
                if (session.IsEnded)
                {
                    throw new ChatConnectionException($"{session.Peer} closed the connection right after sign-in ({session.CloseReason}).");
                }

                _credentials = new Credentials(assignment.UserName, authKey);
                _signedIn = new CancellationTokenSource();
                session.Generation = ++_generation;
                _session = session;
                _state = ConnectionState.Connected;
                installed = true;

                // Queued under the lock, so a loss reported right after cannot overtake it.
                PublishState(ConnectionState.Connected, $"Signed in as {assignment.UserName} on server {assignment.ServerId}.");
            }
        }
        finally
        {
            if (!installed)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }

        ChatClientLog.SignedIn(_logger, assignment.UserName, assignment.ServerId, assignment.Host, assignment.Port, resumed.PendingCount);
        return new SignInResult(
            assignment.UserName,
            assignment.ServerId,
            assignment.Host,
            assignment.Port,
            assignment.ExpiresAt,
            resumed.PendingCount,
            assignment.Keys,
            wrapKey.ToArray());
    }
}
