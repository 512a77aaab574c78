using System.CommandLine;
using System.Globalization;
using System.Net;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Hosting;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FastChat.Cli.Commands;

/// <summary>
/// <c>fastchat serve</c>: the whole service in one process — the balancer on <c>--port</c> and <c>--servers</c> chat
/// servers on the ports right above it (<c>--port 0</c>: every port picked by the system), sharing one store (SQLite in
/// the data folder unless told otherwise) and a cluster key kept in the data folder (generated on first run).
/// </summary>
internal static class ServeCommand
{
    private const int MaxServers = 64;

    public static Command Create()
    {
        Option<string> data = RoleOptions.Data();
        Option<string> host = RoleOptions.Host("the balancer and the chat servers listen");
        Option<int> port = RoleOptions.Port("The balancer's port (default 7700); chat servers take the next ports up. 0 picks free ports for all.");
        var servers = new Option<int>("--servers")
        {
            Description = $"How many chat servers to run (1-{MaxServers}).",
            HelpName = "N",
            DefaultValueFactory = _ => 2,
        };
        servers.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 1 or > MaxServers)
            {
                result.AddError($"--servers must be between 1 and {MaxServers}, not {value}.");
            }
        });
        Option<string> strategy = RoleOptions.Strategy();
        Option<string> storage = RoleOptions.Storage();
        Option<string> connectionString = RoleOptions.ConnectionString();
        Option<string> advertisedHost = RoleOptions.AdvertisedHost();

        var command = new Command("serve", "Run the balancer and N chat servers in one process (SQLite in ./fastchat-data by default) until Ctrl-C.")
        {
            data,
            host,
            port,
            servers,
            strategy,
            storage,
            connectionString,
            advertisedHost,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            parse.Override(data, StorageOptions.SectionName + ":DataDirectory", overrides);
            parse.Override(host, BalancerOptions.SectionName + ":Host", overrides);
            parse.Override(port, BalancerOptions.SectionName + ":Port", overrides);
            parse.Override(strategy, BalancerOptions.SectionName + ":Strategy", overrides);
            parse.Override(storage, StorageOptions.SectionName + ":Provider", overrides);
            parse.Override(connectionString, StorageOptions.SectionName + ":ConnectionString", overrides);
            return await RunAsync(overrides, parse.GetValue(servers), parse.IsGiven(advertisedHost) ? parse.GetValue(advertisedHost) : null, cancellationToken).ConfigureAwait(false);
        });

        return command;
    }

    private static async Task<int> RunAsync(Dictionary<string, string?> overrides, int serverCount, string? advertisedHost, CancellationToken cancellationToken)
    {
        HostApplicationBuilder builder = HostRunner.CreateBuilder(overrides);

        // Where the servers listen follows from where the balancer does, so read that as the host will.
        string listenHost = HostRunner.Setting(builder, BalancerOptions.SectionName + ":Host") ?? new BalancerOptions().Host;
        string? portText = HostRunner.Setting(builder, BalancerOptions.SectionName + ":Port");
        int balancerPort = new BalancerOptions().Port;
        if (portText is not null && !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out balancerPort))
        {
            // Left to the options validation at start, which names the setting; the servers then take free ports.
            balancerPort = 0;
        }

        if (balancerPort > 0 && balancerPort + serverCount > IPEndPoint.MaxPort)
        {
            await Console.Error.WriteLineAsync($"fastchat: the balancer's port {balancerPort} leaves no room for {serverCount} chat servers on the ports above it; use a port up to {IPEndPoint.MaxPort - serverCount}.").ConfigureAwait(false);
            return Program.ExitBadUsage;
        }

        string dataDirectory = Path.GetFullPath(HostRunner.Setting(builder, StorageOptions.SectionName + ":DataDirectory") ?? new StorageOptions().DataDirectory);
        string keyDescription;
        if (HostRunner.Setting(builder, ClusterOptions.SectionName + ":Key") is null &&
            HostRunner.Setting(builder, ClusterOptions.SectionName + ":KeyFile") is null)
        {
            // All-in-one: the key only has to outlive restarts (so session tokens stay valid), so it lives with the data.
            string keyFile = Path.Combine(dataDirectory, "cluster.key");
            bool existed = File.Exists(keyFile);
            try
            {
                CreatePrivateDirectory(dataDirectory);
                _ = ClusterKey.LoadOrCreate(keyFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                await Console.Error.WriteLineAsync($"fastchat: cannot use the cluster key file {keyFile}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            builder.Configuration.AddInMemoryCollection([new(ClusterOptions.SectionName + ":KeyFile", keyFile)]);
            keyDescription = existed ? keyFile : keyFile + " (generated)";
        }
        else
        {
            keyDescription = "from configuration";
        }

        builder.Services.AddFastChatBalancer();
        for (int i = 1; i <= serverCount; i++)
        {
            string id = "server-" + i.ToString(CultureInfo.InvariantCulture);
            int serverPort = balancerPort == 0 ? 0 : balancerPort + i;
            builder.Services.AddFastChatServer(options =>
            {
                options.Id = id;
                options.Host = listenHost;
                options.Port = serverPort;
                if (advertisedHost is not null)
                {
                    options.AdvertisedHost = advertisedHost;
                }
            });
        }

        string provider = HostRunner.Setting(builder, StorageOptions.SectionName + ":Provider") ?? new StorageOptions().Provider;
        return await HostRunner.RunAsync(builder, services =>
        {
            var roles = services.GetRequiredService<FastChatHostedService>();
            ChatBalancer balancer = roles.Balancer!;
            string strategyName = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<BalancerOptions>>().Value.Strategy;
            Console.WriteLine($"fastchat: balancer listening on {balancer.EndPoint} (strategy {strategyName})");
            foreach (ChatServer server in roles.Servers)
            {
                Console.WriteLine($"fastchat: server {server.Id} listening on {server.EndPoint}");
            }

            string where = string.Equals(provider, "postgres", StringComparison.OrdinalIgnoreCase) ? "PostgreSQL" : dataDirectory;
            Console.WriteLine($"fastchat: storage {provider.ToLowerInvariant()} ({where}); cluster key {keyDescription}");
        }, cancellationToken).ConfigureAwait(false);
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        // The folder holds the database and the cluster key: readable by the service's user only.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
