using FastChat.Hosts.Balancer;
using FastChat.Hosts.Hosting;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Protocol.Messages;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FastChat.Cli.Tests;

/// <summary>The generic-host wiring of FastChat.Hosts, in process: registration, configuration binding, validation at start.</summary>
public sealed class HostingTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task AddFastChat_BalancerAndTwoServersInOneHost_StartRegisteredAndStopInOrder()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["FastChat:Balancer:Port"] = "0",
            ["FastChat:Balancer:Strategy"] = "least-connections",
            ["FastChat:Server:LoadReportInterval"] = "00:00:00.100",
            ["FastChat:Cluster:Key"] = ClusterKey.Generate().ToBase64(),
        });
        builder.Services.AddFastChatBalancer();
        builder.Services.AddFastChatServer(o => o.Id = "alpha");
        builder.Services.AddFastChatServer(o => o.Id = "beta");

        await using var host = new StartedHost(builder.Build());
        await host.Host.StartAsync().WaitAsync(FastChatProcess.Timeout);
        var roles = host.Host.Services.GetRequiredService<FastChatHostedService>();
        try
        {
            ChatBalancer balancer = Assert.IsType<ChatBalancer>(roles.Balancer);
            Assert.Equal(["alpha", "beta"], roles.Servers.Select(s => s.Id));
            Assert.NotEqual(0, balancer.EndPoint.Port);

            // Start returns once the in-process servers registered with the in-process balancer (whose port was only
            // known after it bound): a client could sign in right away.
            IReadOnlyList<ServerStatus> registered = balancer.GetServers();
            Assert.Equal(["alpha", "beta"], registered.Where(s => s.Live).Select(s => s.ServerId));
            Assert.Equal(balancer.EndPoint.ToString(), host.Host.Services.GetRequiredService<IOptionsMonitor<ChatServerOptions>>().Get("fastchat-server-0").Balancer);
            Assert.Equal("least-connections", host.Host.Services.GetRequiredService<IOptions<BalancerOptions>>().Value.Strategy);
        }
        finally
        {
            await host.Host.StopAsync().WaitAsync(FastChatProcess.Timeout);
        }

        Assert.Empty(roles.Servers);
        Assert.Null(roles.Balancer);
    }

    [Theory]
    [InlineData("strategy", "FastChat:Balancer:Strategy 'fastest' is not a balancing strategy; use one of round-robin, random, least-connections, least-cpu, least-memory, power-of-two.")]
    [InlineData("port", "FastChat:Balancer:Port is invalid")]
    [InlineData("server-id", "FastChat:Server:Id is required")]
    [InlineData("server-id-form", "FastChat:Server:Id 'a/b' is not valid")]
    [InlineData("server-balancer", "FastChat:Server:Balancer 'localhost' is not HOST:PORT")]
    [InlineData("duplicate-id", "Two chat servers in this process have the id 'same'")]
    [InlineData("no-key", "FastChat:Cluster:Key or FastChat:Cluster:KeyFile is required")]
    [InlineData("both-keys", "Set FastChat:Cluster:Key or FastChat:Cluster:KeyFile, not both.")]
    [InlineData("storage", "FastChat:Storage:Provider 'mongodb' is not a storage provider; use sqlite or postgres.")]
    [InlineData("postgres", "FastChat:Storage:ConnectionString is required when FastChat:Storage:Provider is postgres.")]
    [InlineData("duration", "FastChat:Server:LoadReportInterval must be positive")]
    public async Task AddFastChat_InvalidConfiguration_FailsAtStartWithAClearMessage(string kind, string expected)
    {
        Dictionary<string, string?> settings = new()
        {
            ["FastChat:Balancer:Port"] = "0",
            ["FastChat:Cluster:Key"] = ClusterKey.Generate().ToBase64(),
        };
        Action<ChatServerOptions> first = o => o.Id = "one";
        Action<ChatServerOptions> second = o => o.Id = "two";
        switch (kind)
        {
            case "strategy": settings["FastChat:Balancer:Strategy"] = "fastest"; break;
            case "port": settings["FastChat:Balancer:Port"] = "70000"; break;
            case "server-id": first = _ => { }; break;
            case "server-id-form": first = o => o.Id = "a/b"; break;
            case "server-balancer": settings["FastChat:Server:Balancer"] = "localhost"; break;
            case "duplicate-id": first = o => o.Id = "same"; second = o => o.Id = "same"; break;
            case "no-key": settings["FastChat:Cluster:Key"] = null; break;
            case "both-keys": settings["FastChat:Cluster:KeyFile"] = _folder.Combine("cluster.key"); break;
            case "storage": settings["FastChat:Storage:Provider"] = "mongodb"; break;
            case "postgres": settings["FastChat:Storage:Provider"] = "postgres"; break;
            default: settings["FastChat:Server:LoadReportInterval"] = "00:00:00"; break;
        }

        HostApplicationBuilder builder = CreateBuilder(settings);
        builder.Services.AddFastChatBalancer();
        builder.Services.AddFastChatServer(first);
        builder.Services.AddFastChatServer(second);
        await using var host = new StartedHost(builder.Build());

        Exception error = await Record.ExceptionAsync(() => host.Host.StartAsync().WaitAsync(FastChatProcess.Timeout));

        // One validation exception per failing options instance (each server's is one), gathered in an aggregate when several fail.
        Exception[] errors = error is AggregateException aggregate ? [.. aggregate.InnerExceptions] : [error];
        Assert.All(errors, e => Assert.IsType<OptionsValidationException>(e));
        Assert.Contains(errors.Cast<OptionsValidationException>().SelectMany(e => e.Failures), failure => failure.StartsWith(expected, StringComparison.Ordinal));

        // Nothing was left listening or running.
        Assert.Null(host.Host.Services.GetRequiredService<FastChatHostedService>().Balancer);
    }

    [Fact]
    public async Task AddFastChatCluster_KeyFromCode_ReplacesTheConfiguredOne()
    {
        ClusterKey key = ClusterKey.Generate();
        HostApplicationBuilder builder = CreateBuilder(new() { ["FastChat:Balancer:Port"] = "0" });
        builder.Services.AddFastChatBalancer();
        builder.Services.AddFastChatCluster(key);
        await using var host = new StartedHost(builder.Build());

        await host.Host.StartAsync().WaitAsync(FastChatProcess.Timeout);
        try
        {
            Assert.Same(key, host.Host.Services.GetRequiredService<ClusterKey>());
            Assert.NotNull(host.Host.Services.GetRequiredService<FastChatHostedService>().Balancer);
        }
        finally
        {
            await host.Host.StopAsync().WaitAsync(FastChatProcess.Timeout);
        }
    }

    [SkippableFact]
    public async Task AddSystemdNotifier_WithoutNotifySocket_IsANoOp()
    {
        Skip.If(Environment.GetEnvironmentVariable(SystemdNotifier.NotifySocketVariable) is not null, "the tests themselves run under systemd");
        HostApplicationBuilder builder = CreateBuilder([]);
        builder.Services.AddSystemdNotifier();
        builder.Services.AddSystemdNotifier();
        await using var host = new StartedHost(builder.Build());

        await host.Host.StartAsync().WaitAsync(FastChatProcess.Timeout);
        var notifier = host.Host.Services.GetRequiredService<SystemdNotifier>();
        Assert.False(notifier.IsEnabled);
        Assert.Null(notifier.WatchdogInterval);
        Assert.False(notifier.Notify("READY=1"));
        Assert.Single(host.Host.Services.GetServices<IHostedService>().OfType<SystemdNotifier>());
        await host.Host.StopAsync().WaitAsync(FastChatProcess.Timeout);
    }

    /// <summary>Disposes the host asynchronously: the store is only <see cref="IAsyncDisposable"/>, so a synchronous dispose would throw.</summary>
    private sealed class StartedHost(IHost host) : IAsyncDisposable
    {
        public IHost Host { get; } = host;

        public ValueTask DisposeAsync() => ((IAsyncDisposable)Host).DisposeAsync();
    }

    private HostApplicationBuilder CreateBuilder(Dictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        settings.TryAdd("FastChat:Storage:DataDirectory", _folder.Combine("data"));
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        return builder;
    }
}
