using System.Globalization;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Hosting.Internal;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FastChat.Hosts.Hosting;

/// <summary>
/// Registers FastChat's roles with the generic host. Options are bound from the application's configuration
/// (<c>FastChat:Storage</c>, <c>FastChat:Cluster</c>, <c>FastChat:Balancer</c>, <c>FastChat:Server</c>; so
/// appsettings.json, <c>FASTCHAT__BALANCER__PORT</c>-style environment variables and any other source work),
/// then the code's <c>configure</c> callbacks run, then everything is validated when the host starts.
/// </summary>
/// <remarks>
/// <code>
/// var builder = Host.CreateApplicationBuilder(args);
/// builder.Services.AddFastChatBalancer(o => o.Strategy = "least-connections");
/// builder.Services.AddFastChatServer(o => o.Id = "a");
/// builder.Services.AddFastChatServer(o => o.Id = "b");
/// builder.Services.AddSystemdNotifier();
/// await builder.Build().RunAsync();
/// </code>
/// </remarks>
public static class FastChatServiceCollectionExtensions
{
    /// <summary>
    /// Adds the shared <see cref="IChatStore"/> (SQLite or PostgreSQL per <see cref="StorageOptions"/>, bound from
    /// <c>FastChat:Storage</c>), initialized (schema created or migrated) when the host starts and disposed with the host.
    /// Calling it again only adds <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options after configuration is bound.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFastChatStorage(this IServiceCollection services, Action<StorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddStorageCore(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services;
    }

    /// <summary>Adds the shared <see cref="IChatStore"/> like <see cref="AddFastChatStorage(IServiceCollection, Action{StorageOptions})"/>, binding its options from <paramref name="configuration"/> as well.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section to bind, e.g. <c>builder.Configuration.GetSection(StorageOptions.SectionName)</c>; it takes precedence over <c>FastChat:Storage</c>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="configuration"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFastChatStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddStorageCore(services);
        services.AddSingleton<IConfigureOptions<StorageOptions>>(new ConfigurationBinding<StorageOptions>(configuration, section: null));
        return services;
    }

    /// <summary>
    /// Adds the cluster key (a <see cref="ClusterKey"/> singleton) from <see cref="ClusterOptions"/>, bound from
    /// <c>FastChat:Cluster</c>: <see cref="ClusterOptions.Key"/> (base64) or <see cref="ClusterOptions.KeyFile"/>. Without
    /// either, starting the host fails with "FastChat:Cluster:Key or FastChat:Cluster:KeyFile is required".
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options after configuration is bound.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFastChatCluster(this IServiceCollection services, Action<ClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddClusterCore(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services;
    }

    /// <summary>Uses <paramref name="key"/> as the cluster key, replacing one read from configuration.</summary>
    /// <param name="services">The services.</param>
    /// <param name="key">The key every balancer and server of the cluster shares.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="key"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFastChatCluster(this IServiceCollection services, ClusterKey key)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(key);
        services.RemoveAll<ClusterKey>();
        services.AddSingleton(key);
        return services;
    }

    /// <summary>
    /// Adds the balancer, with <see cref="BalancerOptions"/> bound from <c>FastChat:Balancer</c> and validated at start
    /// (port range, strategy name, listen address, durations). Also adds the store and the cluster key from
    /// configuration unless they were added already. A process runs at most one balancer: calling this again only adds
    /// <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options after configuration is bound.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFastChatBalancer(this IServiceCollection services, Action<BalancerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddStorageCore(services);
        AddClusterCore(services);
        if (!IsRegistered<BalancerRegistration>(services))
        {
            services.AddSingleton(new BalancerRegistration());
            services.AddSingleton<IConfigureOptions<BalancerOptions>>(sp => new ConfigurationBinding<BalancerOptions>(sp.GetService<IConfiguration>(), BalancerOptions.SectionName));
            services.AddSingleton<IValidateOptions<BalancerOptions>>(new DataAnnotationsValidator<BalancerOptions>(BalancerOptions.SectionName));
            services.AddSingleton<IValidateOptions<BalancerOptions>, BalancerOptionsValidator>();
            services.AddOptions<BalancerOptions>().ValidateOnStart();
            AddRolesCore(services);
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return services;
    }

    /// <summary>
    /// Adds a chat server, with <see cref="ChatServerOptions"/> bound from <c>FastChat:Server</c>, then
    /// <paramref name="configure"/>, validated at start (id present and well formed, <c>Balancer</c> as HOST:PORT, port
    /// range, durations). Call it once per server: several servers can run in one process, each configured by its own
    /// callback (give each its own <see cref="ChatServerOptions.Id"/> and port). Also adds the store and the cluster key
    /// from configuration unless they were added already. When the process runs the balancer too, its servers register
    /// with that balancer.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts this server's options after configuration is bound.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddFastChatServer(this IServiceCollection services, Action<ChatServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddStorageCore(services);
        AddClusterCore(services);
        if (!IsRegistered<ChatServerRegistration>(services))
        {
            // Binding and validation apply to every server's named options instance.
            services.AddSingleton<IConfigureOptions<ChatServerOptions>>(sp => new ConfigurationBinding<ChatServerOptions>(sp.GetService<IConfiguration>(), ChatServerOptions.SectionName));
            services.AddSingleton<IValidateOptions<ChatServerOptions>>(new DataAnnotationsValidator<ChatServerOptions>(ChatServerOptions.SectionName));
            services.AddSingleton<IValidateOptions<ChatServerOptions>, ChatServerOptionsValidator>();
            AddRolesCore(services);
        }

        int index = 0;
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(ChatServerRegistration))
            {
                index++;
            }
        }

        string name = "fastchat-server-" + index.ToString(CultureInfo.InvariantCulture);
        services.AddSingleton(new ChatServerRegistration(name));
        OptionsBuilder<ChatServerOptions> options = services.AddOptions<ChatServerOptions>(name).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return services;
    }

    /// <summary>
    /// Adds <see cref="SystemdNotifier"/>: under systemd (<c>Type=notify</c>) the host reports <c>READY=1</c> once every
    /// hosted service has started, <c>STOPPING=1</c> when it begins to stop, and pings the watchdog when the unit sets
    /// <c>WatchdogSec</c>. Without <c>NOTIFY_SOCKET</c> in the environment it does nothing.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddSystemdNotifier(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!IsRegistered<SystemdNotifier>(services))
        {
            services.AddSingleton(sp => new SystemdNotifier(
                sp.GetRequiredService<IHostApplicationLifetime>(),
                sp.GetService<ILogger<SystemdNotifier>>()));
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<SystemdNotifier>());
        }

        return services;
    }

    private static void AddStorageCore(IServiceCollection services)
    {
        if (IsRegistered<StorageRegistration>(services))
        {
            return;
        }

        services.AddSingleton(new StorageRegistration());
        services.AddSingleton<IConfigureOptions<StorageOptions>>(sp => new ConfigurationBinding<StorageOptions>(sp.GetService<IConfiguration>(), StorageOptions.SectionName));
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddOptions<StorageOptions>().ValidateOnStart();
        services.TryAddSingleton(sp => ChatStoreFactory.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton(sp => new ChatStoreInitializer(
            sp.GetRequiredService<IChatStore>(),
            sp.GetRequiredService<IOptions<StorageOptions>>(),
            sp.GetService<ILogger<ChatStoreInitializer>>() ?? NullLogger<ChatStoreInitializer>.Instance));
        services.AddSingleton<IHostedService, ChatStoreHostedService>();
    }

    private static void AddClusterCore(IServiceCollection services)
    {
        if (IsRegistered<ClusterRegistration>(services))
        {
            return;
        }

        services.AddSingleton(new ClusterRegistration());
        services.AddSingleton<IConfigureOptions<ClusterOptions>>(sp => new ConfigurationBinding<ClusterOptions>(sp.GetService<IConfiguration>(), ClusterOptions.SectionName));
        services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>();

        // Not ValidateOnStart: a key given in code (AddFastChatCluster(ClusterKey)) replaces this registration, and then
        // the options are never read. The roles resolve the key first thing at start, which validates the options then.
        services.TryAddSingleton(sp =>
        {
            ClusterOptions options = sp.GetRequiredService<IOptions<ClusterOptions>>().Value;
            ClusterKey key = ClusterKeySource.Load(options);
            if (!string.IsNullOrWhiteSpace(options.KeyFile) && !OperatingSystem.IsWindows() &&
                (File.GetUnixFileMode(options.KeyFile) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                var logger = sp.GetService<ILogger<ClusterKey>>();
                if (logger is not null)
                {
                    HostingLog.KeyFileTooOpen(logger, options.KeyFile);
                }
            }

            return key;
        });
    }

    private static void AddRolesCore(IServiceCollection services)
    {
        if (IsRegistered<FastChatHostedService>(services))
        {
            return;
        }

        services.AddSingleton(sp => new FastChatHostedService(sp));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<FastChatHostedService>());
    }

    private static bool IsRegistered<T>(IServiceCollection services)
    {
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(T))
            {
                return true;
            }
        }

        return false;
    }
}
