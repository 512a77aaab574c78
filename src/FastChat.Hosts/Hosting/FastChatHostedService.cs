using System.Diagnostics.Metrics;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Hosting.Internal;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FastChat.Hosts.Hosting;

/// <summary>
/// Runs the roles registered with <see cref="FastChatServiceCollectionExtensions.AddFastChatBalancer"/> and
/// <see cref="FastChatServiceCollectionExtensions.AddFastChatServer"/> for the generic host: one hosted service for all
/// of them, so that start and stop happen in the order the cluster needs whatever order they were registered in.
/// </summary>
/// <remarks>
/// <para>Start: the store is initialized, then the balancer starts, then every chat server. When the balancer runs in
/// the same process, its servers register with it (at its bound endpoint, whatever <see cref="ChatServerOptions.Balancer"/>
/// says), and start-up waits (up to 10 s) until they have, so a client that signs in as soon as the host is started
/// finds a server.</para>
/// <para>Stop: the chat servers stop first, together (each tells its clients to reconnect, stores what it could not
/// deliver and drains up to its <see cref="ChatServerOptions.ShutdownTimeout"/>), then the balancer.</para>
/// <para>Resolve it from the host's services to read the bound endpoints once the host has started.</para>
/// </remarks>
public sealed class FastChatHostedService : IHostedService, IAsyncDisposable
{
    // How long start-up waits for in-process servers to appear live in the in-process balancer: a registration
    // takes one round trip on loopback, so this only runs out when something is wrong (it is logged, not fatal).
    private static readonly TimeSpan s_registrationTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_registrationPoll = TimeSpan.FromMilliseconds(20);

    private readonly IServiceProvider _services;
    private readonly bool _hasBalancer;
    private readonly IReadOnlyList<ChatServerRegistration> _serverRegistrations;
    private readonly ILogger _logger;
    private readonly List<ChatServer> _servers = [];
    private readonly Lock _lock = new();
    private ChatBalancer? _balancer;
    private bool _stopped;

    internal FastChatHostedService(IServiceProvider services)
    {
        _services = services;
        _hasBalancer = services.GetService<BalancerRegistration>() is not null;
        _serverRegistrations = [.. services.GetServices<ChatServerRegistration>()];
        _logger = services.GetService<ILogger<FastChatHostedService>>() ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The balancer, once started; <see langword="null"/> before that, after the host stopped, or when this host runs no balancer.</summary>
    public ChatBalancer? Balancer
    {
        get
        {
            lock (_lock)
            {
                return _balancer;
            }
        }
    }

    /// <summary>The chat servers started so far, in registration order; empty again once the host stopped.</summary>
    public IReadOnlyList<ChatServer> Servers
    {
        get
        {
            lock (_lock)
            {
                return [.. _servers];
            }
        }
    }

    /// <summary>Initializes the store and starts the balancer, then the chat servers.</summary>
    /// <param name="cancellationToken">Aborts the start.</param>
    /// <returns>A task that completes when every role is listening.</returns>
    /// <exception cref="OptionsValidationException">The configuration is invalid (for example no cluster key, or two servers with one id).</exception>
    /// <exception cref="ChatStoreException">The store cannot be reached or migrated.</exception>
    /// <exception cref="Transport.TransportException">An endpoint cannot be bound (e.g. the port is in use).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var initializer = _services.GetRequiredService<ChatStoreInitializer>();
        ClusterKey clusterKey = _services.GetRequiredService<ClusterKey>();
        var loggerFactory = _services.GetService<ILoggerFactory>();
        var timeProvider = _services.GetService<TimeProvider>() ?? TimeProvider.System;
        var meterFactory = _services.GetService<IMeterFactory>();

        // Read (and so validate) every server's options before anything binds a port.
        var serverOptions = new List<ChatServerOptions>(_serverRegistrations.Count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var monitor = _services.GetRequiredService<IOptionsMonitor<ChatServerOptions>>();
        foreach (ChatServerRegistration registration in _serverRegistrations)
        {
            ChatServerOptions options = monitor.Get(registration.Name);
            if (!ids.Add(options.Id))
            {
                throw new OptionsValidationException(registration.Name, typeof(ChatServerOptions), [$"Two chat servers in this process have the id '{options.Id}'; every server needs its own."]);
            }

            serverOptions.Add(options);
        }

        BalancerOptions? balancerOptions = _hasBalancer ? _services.GetRequiredService<IOptions<BalancerOptions>>().Value : null;

        await initializer.EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        IChatStore store = initializer.Store;
        try
        {
            if (balancerOptions is not null)
            {
                var balancer = new ChatBalancer(balancerOptions, store, clusterKey, loggerFactory, timeProvider, meterFactory);
                lock (_lock)
                {
                    _balancer = balancer;
                }

                await balancer.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (ChatServerOptions configured in serverOptions)
            {
                ChatServerOptions options = configured;
                if (_balancer is { } local)
                {
                    // The effective setting, written back so that the options this host reports are the ones in use
                    // (the port may only be known now, when the balancer was configured with port 0).
                    options.Balancer = EndPointText.Format(EndPointText.Connectable(local.EndPoint));
                }

                var server = new ChatServer(options, store, clusterKey, loggerFactory, timeProvider, meterFactory);
                lock (_lock)
                {
                    _servers.Add(server);
                }

                await server.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_balancer is not null && _servers.Count > 0)
            {
                await WaitForRegistrationAsync(_balancer, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            // The host does not stop a service whose start failed: release what did start (ports, links) here.
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the chat servers (together), then the balancer, and releases them.</summary>
    /// <param name="cancellationToken">Signalled when the host's shutdown timeout runs out: the engines then stop abruptly.</param>
    /// <returns>A task that completes when every role has stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        ChatBalancer? balancer;
        ChatServer[] servers;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            balancer = _balancer;
            servers = [.. _servers];
            _balancer = null;
            _servers.Clear();
        }

        HostingLog.Stopping(_logger);
        var stopping = new Task[servers.Length];
        for (int i = 0; i < servers.Length; i++)
        {
            ChatServer server = servers[i];
            stopping[i] = StopQuietlyAsync(server.StopAsync, "chat server " + server.Id, cancellationToken);
        }

        await Task.WhenAll(stopping).ConfigureAwait(false);
        if (balancer is not null)
        {
            await StopQuietlyAsync(balancer.StopAsync, "balancer", cancellationToken).ConfigureAwait(false);
        }

        await ReleaseAsync(servers, balancer).ConfigureAwait(false);
        HostingLog.Stopped(_logger);
    }

    /// <summary>Releases the engines without the graceful protocol (used when the host is disposed without being stopped).</summary>
    /// <returns>A task that completes when everything is released.</returns>
    public async ValueTask DisposeAsync()
    {
        ChatBalancer? balancer;
        ChatServer[] servers;
        lock (_lock)
        {
            balancer = _balancer;
            servers = [.. _servers];
            _balancer = null;
            _servers.Clear();
            _stopped = true;
        }

        await ReleaseAsync(servers, balancer).ConfigureAwait(false);
    }

    private async Task WaitForRegistrationAsync(ChatBalancer balancer, CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            string missing = MissingServers(balancer);
            if (missing.Length == 0)
            {
                return;
            }

            if (TimeProvider.System.GetElapsedTime(started) > s_registrationTimeout)
            {
                HostingLog.RegistrationSlow(_logger, missing, s_registrationTimeout);
                return;
            }

            await Task.Delay(s_registrationPoll, cancellationToken).ConfigureAwait(false);
        }
    }

    private string MissingServers(ChatBalancer balancer)
    {
        IReadOnlyList<Protocol.Messages.ServerStatus> registered = balancer.GetServers();
        string missing = string.Empty;
        foreach (ChatServer server in Servers)
        {
            bool live = false;
            for (int i = 0; i < registered.Count; i++)
            {
                if (registered[i].Live && string.Equals(registered[i].ServerId, server.Id, StringComparison.Ordinal))
                {
                    live = true;
                    break;
                }
            }

            if (!live)
            {
                missing = missing.Length == 0 ? server.Id : missing + ", " + server.Id;
            }
        }

        return missing;
    }

    private async Task StopQuietlyAsync(Func<CancellationToken, Task> stop, string role, CancellationToken cancellationToken)
    {
        try
        {
            await stop(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's shutdown timeout ran out: the engine is released below all the same.
        }
        catch (Exception ex)
        {
            // One role failing to stop cleanly must not keep the others (or the balancer after the servers) running.
            HostingLog.StopFailed(_logger, role, ex);
        }
    }

    private async Task ReleaseAsync(ChatServer[] servers, ChatBalancer? balancer)
    {
        foreach (ChatServer server in servers)
        {
            await ReleaseQuietlyAsync(server, "chat server " + server.Id).ConfigureAwait(false);
        }

        if (balancer is not null)
        {
            await ReleaseQuietlyAsync(balancer, "balancer").ConfigureAwait(false);
        }
    }

    private async Task ReleaseQuietlyAsync(IAsyncDisposable engine, string role)
    {
        try
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Release the rest regardless; the failure is logged with the role it came from.
            HostingLog.StopFailed(_logger, role, ex);
        }
    }
}
