using System.Collections.Concurrent;
using FastChat.Hosts.Storage;
using FastChat.Protocol;
using FastChat.Transport;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// The open links to other chat servers. A link is opened lazily, the first time a message must be relayed to a
/// server (its endpoint comes from the store, <see cref="IChatStore.GetServerAsync"/>), and again after it closes; a
/// failed attempt is not retried for <see cref="RetryDelay"/>, so a dead peer costs one connect timeout, not one per
/// message (meanwhile its users' messages are stored). Links other servers open to this one are used as well.
/// </summary>
internal sealed class PeerLinks
{
    /// <summary>How long after a failed attempt to a server no new attempt is made.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    // How long the PeerLink handshake may take once connected.
    private static readonly TimeSpan s_handshakeTimeout = TimeSpan.FromSeconds(5);

    // Outbound links ping this often so that neither side's idle timeout closes a quiet link.
    private static readonly TimeSpan s_pingInterval = TimeSpan.FromSeconds(30);

    private readonly ServerContext _context;
    private readonly ConnectorOptions _connectorOptions;
    private readonly ConcurrentDictionary<string, PeerConnection> _open = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<PeerConnection?>> _connecting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _retryAfter = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<PeerConnection, Task> _outbound = new();
    private readonly Lock _connectLock = new();
    private readonly long _retryDelayTicks;
    private volatile bool _closed;

    public PeerLinks(ServerContext context)
    {
        _context = context;
        ChatServerOptions options = context.Options;
        _connectorOptions = new ConnectorOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            MaxFrameSize = options.MaxFrameSize,

            // A link carries many users' traffic: allow it a deeper backlog than one client before it counts as stuck.
            MaxPendingSendBytes = Math.Max(16L * 1024 * 1024, 2L * (options.MaxFrameSize + 4)),
            LoggerFactory = context.LoggerFactory,
        };
        _retryDelayTicks = (long)(RetryDelay.TotalSeconds * context.TimeProvider.TimestampFrequency);
    }

    /// <summary>An open, authenticated link to <paramref name="serverId"/>, if there is one (no I/O).</summary>
    public PeerConnection? TryGetOpen(string serverId) =>
        _open.TryGetValue(serverId, out PeerConnection? link) && link.IsOpen ? link : null;

    /// <summary>An open link to <paramref name="serverId"/>, opening one if needed; <see langword="null"/> if the server cannot be reached now.</summary>
    public ValueTask<PeerConnection?> GetAsync(string serverId, CancellationToken cancellationToken)
    {
        PeerConnection? open = TryGetOpen(serverId);
        if (open is not null)
        {
            return new ValueTask<PeerConnection?>(open);
        }

        if (_closed || string.Equals(serverId, _context.ServerId, StringComparison.Ordinal))
        {
            return new ValueTask<PeerConnection?>((PeerConnection?)null);
        }

        Task<PeerConnection?> connecting;
        using (_connectLock.EnterScope())
        {
            if (_retryAfter.TryGetValue(serverId, out long retryAfter) && _context.TimeProvider.GetTimestamp() < retryAfter)
            {
                return new ValueTask<PeerConnection?>((PeerConnection?)null);
            }

            // A finished attempt (failed, or its link closed since) is replaced by a new one.
            if (!_connecting.TryGetValue(serverId, out connecting!) || connecting.IsCompleted)
            {
                connecting = ConnectAsync(serverId);
                _connecting[serverId] = connecting;
            }
        }

        return new ValueTask<PeerConnection?>(connecting.WaitAsync(cancellationToken));
    }

    /// <summary>A link finished its handshake (either direction): it becomes the one used for its server.</summary>
    public void OnReady(PeerConnection link)
    {
        _open[link.RemoteId] = link;
        _retryAfter.TryRemove(link.RemoteId, out _);
        ServerLog.PeerLinkOpened(_context.Logger, link.RemoteId, link.IsOutbound ? "outbound" : "inbound");
    }

    /// <summary>A link's read loop ended: forget it, and store the copies relayed to its server that got no receipt.</summary>
    public async Task OnClosedAsync(PeerConnection link)
    {
        link.OnClosed();
        if (!link.IsReady)
        {
            return;
        }

        _open.TryRemove(new KeyValuePair<string, PeerConnection>(link.RemoteId, link));
        _context.RemotePresence.ForgetServer(link.RemoteId);
        var copies = new List<RelayedCopy>();
        _context.Relayed.TakeWhere(link.RemoteId, 0, copies);
        var batch = new FlushBatch();
        await _context.Router.StoreRelayedAsync(copies, $"the link to {link.RemoteId} closed", batch, _context.Stopping).ConfigureAwait(false);
        batch.Flush();
        ServerLog.PeerLinkClosed(_context.Logger, link.RemoteId, link.Connection.CloseReason, copies.Count);
    }

    /// <summary>Tells every linked server that a user left this one, so their presence caches stop pointing here.</summary>
    public void BroadcastOffline(string userName)
    {
        foreach (KeyValuePair<string, PeerConnection> entry in _open)
        {
            PeerConnection link = entry.Value;
            if (link.TrySendPresence(userName, online: false, _context.ServerId))
            {
                link.Connection.TryFlush();
            }
        }
    }

    /// <summary>Sends a receipt to a server, opening a link if needed, in the background.</summary>
    public async Task SendReceiptAsync(string serverId, string sender, Protocol.Messages.MessageId id, string deliveredTo)
    {
        try
        {
            PeerConnection? link = await GetAsync(serverId, _context.Stopping).ConfigureAwait(false);
            if (link is not null && link.TrySendReceipt(sender, id, deliveredTo))
            {
                link.Connection.TryFlush();
                return;
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        // The peer times the copy out and stores it itself.
        ServerLog.ReceiptDropped(_context.Logger, sender, serverId);
    }

    /// <summary>Closes every link and waits for the outbound ones to end.</summary>
    public async Task CloseAllAsync()
    {
        _closed = true;
        foreach (KeyValuePair<string, PeerConnection> entry in _open)
        {
            _ = entry.Value.Connection.CloseAsync(CloseReason.Shutdown).AsTask();
        }

        foreach (KeyValuePair<PeerConnection, Task> entry in _outbound)
        {
            _ = entry.Key.Connection.CloseAsync(CloseReason.Shutdown).AsTask();
        }

        var running = new List<Task>(_outbound.Values);
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task<PeerConnection?> ConnectAsync(string serverId)
    {
        // Run the rest off the caller's stack: the caller holds the connect lock.
        await Task.Yield();
        FramedConnection? framed = null;
        try
        {
            ServerRecord? server = await _context.Store.GetServerAsync(serverId, _context.Stopping).ConfigureAwait(false)
                ?? throw new TransportException($"server '{serverId}' is not in the server directory", null);
            FastChatConnection connection = await FastChatConnector.ConnectAsync(server.Host, server.Port, _connectorOptions, _context.Stopping).ConfigureAwait(false);
            framed = new FramedConnection(connection);
            var link = PeerConnection.Outbound(_context, framed, serverId);
            _outbound[link] = RunOutboundAsync(link);
            link.StartHandshake();
            if (!await link.Authenticated.WaitAsync(s_handshakeTimeout, _context.TimeProvider, _context.Stopping).ConfigureAwait(false))
            {
                throw new TransportException("the peer refused the link", null);
            }

            OnReady(link);
            return link;
        }
        catch (Exception ex) when (ex is FastChatException or TimeoutException or OperationCanceledException or ArgumentException)
        {
            if (framed is not null)
            {
                _ = framed.CloseAsync(CloseReason.Aborted).AsTask();
            }

            _retryAfter[serverId] = _context.TimeProvider.GetTimestamp() + _retryDelayTicks;
            if (!_context.Stopping.IsCancellationRequested)
            {
                ServerLog.PeerLinkFailed(_context.Logger, serverId, ex.Message);
            }

            return null;
        }
    }

    private async Task RunOutboundAsync(PeerConnection link)
    {
        // Off the connecting caller's stack.
        await Task.Yield();
        using var stopPing = new CancellationTokenSource();
        Task ping = PingLoopAsync(link, stopPing.Token);
        try
        {
            await link.Connection.RunAsync(link, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await stopPing.CancelAsync().ConfigureAwait(false);
            await ping.ConfigureAwait(false);
            await OnClosedAsync(link).ConfigureAwait(false);
            await link.Connection.DisposeAsync().ConfigureAwait(false);
            _outbound.TryRemove(link, out _);
        }
    }

    private async Task PingLoopAsync(PeerConnection link, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(s_pingInterval, _context.TimeProvider, cancellationToken).ConfigureAwait(false);
                if (link.IsReady && !link.TrySendPing())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The link ended.
        }
    }
}
