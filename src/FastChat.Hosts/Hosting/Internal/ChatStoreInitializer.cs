using FastChat.Hosts.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FastChat.Hosts.Hosting.Internal;

/// <summary>
/// Initializes the process's one <see cref="IChatStore"/> once, whichever hosted service asks first: the roles
/// must not start before the schema exists, whatever order the services were registered in.
/// </summary>
internal sealed class ChatStoreInitializer
{
    private readonly IChatStore _store;
    private readonly string _provider;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private Task? _initialization;

    public ChatStoreInitializer(IChatStore store, IOptions<StorageOptions> options, ILogger<ChatStoreInitializer> logger)
    {
        _store = store;
        _provider = options.Value.Provider;
        _logger = logger;
    }

    public IChatStore Store => _store;

    public Task EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            // A failed or cancelled attempt is not cached: a host that is started again tries again.
            if (_initialization is null || _initialization.IsFaulted || _initialization.IsCanceled)
            {
                _initialization = InitializeAsync(cancellationToken);
            }

            return _initialization;
        }
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        HostingLog.StorageReady(_logger, _provider);
    }
}

/// <summary>Initializes the store when the host starts (for a host that uses the store without running a role).</summary>
internal sealed class ChatStoreHostedService : IHostedService
{
    private readonly ChatStoreInitializer _initializer;

    public ChatStoreHostedService(ChatStoreInitializer initializer) => _initializer = initializer;

    public Task StartAsync(CancellationToken cancellationToken) => _initializer.EnsureInitializedAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
