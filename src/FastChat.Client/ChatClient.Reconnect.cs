using System.Security.Cryptography;
using FastChat.Client.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client;

public sealed partial class ChatClient
{
    /// <summary>What installing a new session after a reconnection came to.</summary>
    private enum InstallResult
    {
        Installed,

        // The new session ended while the outbox was being resent: sign in again.
        Lost,

        // Signed out or disposed meanwhile: stop.
        Abandoned,
    }

    /// <summary>Awaited before each reconnection attempt when set: lets tests hold the client between servers. Null otherwise.</summary>
    internal Func<CancellationToken, Task>? ReconnectAttemptStarting { get; set; }

    /// <summary>A session's read loop has ended: unless it was closed on purpose, sign in again (or give up).</summary>
    internal void OnSessionEnded(ServerSession session)
    {
        ReconnectRequest? request = session.ReconnectRequest;
        string reason = request is not null
            ? $"the server asked the client to reconnect: {request.Reason}"
            : $"the connection closed ({session.CloseReason})";
        Credentials? credentials;
        CancellationTokenSource? signedIn;
        List<OutboxEntry> abandoned;
        TaskCompletionSource<ServerSession>? waiters;
        lock (_lock)
        {
            // Replaced, signed out or disposed: the session was closed on purpose.
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            _session = null;
            if (_options.AutoReconnect)
            {
                _state = ConnectionState.Reconnecting;
                _reconnecting = ReconnectLoopAsync(session, _credentials!, reason, request?.RetryAfterMilliseconds ?? 0, _signedIn!.Token);
                return;
            }

            _state = ConnectionState.Disconnected;
            credentials = _credentials;
            _credentials = null;
            signedIn = _signedIn;
            _signedIn = null;
            abandoned = TakeOutbox();
            waiters = _sessionWaiters;
            _sessionWaiters = null;
        }

        ChatClientLog.SessionEnded(_logger, session.ServerId, reason);
        var error = new ChatConnectionException($"The session on {session.Peer} ended ({reason}) and automatic reconnection is off.");
        waiters?.TrySetException(error);
        foreach (OutboxEntry entry in abandoned)
        {
            entry.Fail(error);
        }

        credentials?.Dispose();
        signedIn?.Dispose();

        // Disposing waits for this read loop, which is what is running: let it finish first (it never faults).
        _ = session.DisposeAsync().AsTask();
        PublishState(ConnectionState.Disconnected, reason);
    }

    private async Task ReconnectLoopAsync(ServerSession lost, Credentials credentials, string reason, int retryAfterMilliseconds, CancellationToken cancellationToken)
    {
        // Off the read loop that reported the loss: it has to finish before the old session can be released.
        await Task.Yield();
        ChatClientLog.SessionLost(_logger, lost.ServerId, reason);
        PublishState(ConnectionState.Reconnecting, reason);
        await lost.DisposeAsync().ConfigureAwait(false);

        TimeSpan delay = TimeSpan.FromMilliseconds(retryAfterMilliseconds);
        for (int attempt = 1; ; attempt++)
        {
            Exception? failure = null;
            try
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }

                if (ReconnectAttemptStarting is { } hold)
                {
                    await hold(cancellationToken).ConfigureAwait(false);
                }

                Assignment assignment = await SignInAgainAsync(credentials, cancellationToken).ConfigureAwait(false);
                (ServerSession session, _) = await ServerSession.OpenAsync(this, assignment, cancellationToken).ConfigureAwait(false);
                (InstallResult result, int resent) = await InstallAsync(session, credentials, cancellationToken).ConfigureAwait(false);
                if (result == InstallResult.Installed)
                {
                    ChatClientLog.Reconnected(_logger, credentials.UserName, session.ServerId, resent);
                    return;
                }

                if (result == InstallResult.Abandoned)
                {
                    return;
                }

                failure = new ChatConnectionException($"{session.Peer} closed the connection right after the client resumed.");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Signed out or disposed.
                return;
            }
            catch (ChatException ex) when (ex.ErrorCode == ErrorCode.AuthenticationFailed)
            {
                // The password changed or the account is gone: trying again cannot help.
                GiveUp(credentials, ex);
                return;
            }
#pragma warning disable CA1031 // Any failure of one attempt (unreachable balancer or server, refused token, timeout) is retried with backoff.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
            }

            delay = NextReconnectDelay(attempt);
            ChatClientLog.ReconnectAttemptFailed(_logger, attempt, failure.Message, delay, failure);
        }
    }

    private async Task<Assignment> SignInAgainAsync(Credentials credentials, CancellationToken cancellationToken)
    {
        BalancerConnection balancer = await BalancerConnection.OpenAsync(_options, _connectorOptions, _logger, cancellationToken).ConfigureAwait(false);
        try
        {
            return await balancer.SignInAsync(credentials.UserName, credentials.AuthKey, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await balancer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Resends the outbox on a new session, oldest first, then makes it the client's. Messages sent meanwhile join the
    /// resend, so the order the application sent in is kept across the reconnection.
    /// </summary>
    private async Task<(InstallResult Result, int Resent)> InstallAsync(ServerSession session, Credentials credentials, CancellationToken cancellationToken)
    {
        int generation;
        lock (_lock)
        {
            if (_disposed || !ReferenceEquals(_credentials, credentials))
            {
                generation = 0;
            }
            else
            {
                generation = ++_generation;
                session.Generation = generation;
            }
        }

        if (generation == 0)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            return (InstallResult.Abandoned, 0);
        }

        int resent = 0;
        var batch = new List<OutboxEntry>();
        try
        {
            while (true)
            {
                TaskCompletionSource<ServerSession>? waiters = null;
                InstallResult? result = null;
                batch.Clear();
                lock (_lock)
                {
                    if (_disposed || !ReferenceEquals(_credentials, credentials))
                    {
                        result = InstallResult.Abandoned;
                    }
                    else if (session.IsEnded)
                    {
                        result = InstallResult.Lost;
                    }
                    else
                    {
                        foreach (OutboxEntry entry in _outbox.Values)
                        {
                            if (!entry.IsFile && entry.Generation != generation)
                            {
                                entry.Generation = generation;
                                batch.Add(entry);
                            }
                        }

                        if (batch.Count == 0)
                        {
                            _session = session;
                            _state = ConnectionState.Connected;
                            waiters = _sessionWaiters;
                            _sessionWaiters = null;
                            result = InstallResult.Installed;
                            PublishState(ConnectionState.Connected, $"Reconnected on server {session.ServerId}.");
                        }
                    }
                }

                if (result is { } done)
                {
                    if (done == InstallResult.Installed)
                    {
                        waiters?.TrySetResult(session);
                    }
                    else
                    {
                        await session.DisposeAsync().ConfigureAwait(false);
                    }

                    return (done, resent);
                }

                batch.Sort(static (left, right) => left.Sequence.CompareTo(right.Sequence));
                foreach (OutboxEntry entry in batch)
                {
                    session.TryWriteMessage(entry);
                }

                resent += batch.Count;
                await session.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            // Cancelled (signed out or disposed) while resending: the session is nobody's.
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reconnecting failed for good: sign out locally and fail what waits.</summary>
    private void GiveUp(Credentials credentials, ChatException error)
    {
        CancellationTokenSource? signedIn;
        List<OutboxEntry> abandoned;
        TaskCompletionSource<ServerSession>? waiters;
        lock (_lock)
        {
            if (!ReferenceEquals(_credentials, credentials))
            {
                return;
            }

            _credentials = null;
            signedIn = _signedIn;
            _signedIn = null;
            _state = ConnectionState.Disconnected;
            abandoned = TakeOutbox();
            waiters = _sessionWaiters;
            _sessionWaiters = null;
        }

        ChatClientLog.ReconnectGaveUp(_logger, credentials.UserName, error.Message, error);
        var failure = new ChatConnectionException($"Signing in again as {credentials.UserName} failed: {error.Message}", error);
        waiters?.TrySetException(failure);
        foreach (OutboxEntry entry in abandoned)
        {
            entry.Fail(failure);
        }

        credentials.Dispose();

        // This loop runs under its token; it returns right after, so the source can go.
        signedIn?.Dispose();
        PublishState(ConnectionState.Disconnected, failure.Message, error);
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: doubling from <see cref="ChatClientOptions.ReconnectDelay"/>, capped, with ±20 % jitter so that the clients of a stopped server do not all return at once.</summary>
    private TimeSpan NextReconnectDelay(int attempt)
    {
        double milliseconds = _options.ReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        milliseconds = Math.Min(milliseconds, _options.MaxReconnectDelay.TotalMilliseconds);
        double jitter = RandomNumberGenerator.GetInt32(800, 1201) / 1000.0;
        return TimeSpan.FromMilliseconds(milliseconds * jitter);
    }
}
