using System.Globalization;
using FastChat.Hosts.Security;

namespace FastChat.Cli.Tests;

/// <summary>
/// A cluster of separate <c>fastchat</c> processes on loopback: one <c>fastchat balancer</c> and one <c>fastchat server</c>
/// per id, sharing a cluster key file and either one SQLite file (one data folder) or a PostgreSQL database. Every process
/// is killed on dispose.
/// </summary>
internal sealed class SeparateCluster : IAsyncDisposable
{
    // Short heartbeats so a killed server drops out of the balancer's rotation quickly.
    private static readonly Dictionary<string, string?> s_environment = new()
    {
        ["FASTCHAT__BALANCER__SERVERTIMEOUT"] = "00:00:01",
        ["FASTCHAT__SERVER__LOADREPORTINTERVAL"] = "00:00:00.200",
        ["FASTCHAT__SERVER__SHUTDOWNTIMEOUT"] = "00:00:02",
    };

    private readonly TestFolder _folder = new();
    private readonly string[] _storageArguments;
    private readonly string _keyFile;
    private readonly Dictionary<string, FastChatProcess> _servers = new(StringComparer.Ordinal);
    private readonly List<FastChatProcess> _all = [];

    private SeparateCluster(string? postgresConnectionString)
    {
        string data = _folder.Combine("data");
        _storageArguments = postgresConnectionString is null
            ? ["--data", data]
            : ["--data", data, "--storage", "postgres", "--connection-string", postgresConnectionString];
        _keyFile = _folder.Combine("cluster.key");
        File.WriteAllText(_keyFile, ClusterKey.Generate().ToBase64() + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public FastChatProcess Balancer { get; private set; } = null!;

    public int BalancerPort { get; private set; }

    public static async Task<SeparateCluster> StartAsync(string? postgresConnectionString, params string[] serverIds)
    {
        var cluster = new SeparateCluster(postgresConnectionString);
        try
        {
            await cluster.StartBalancerAsync(0);
            await Task.WhenAll(serverIds.Select(cluster.StartServerAsync));
            await cluster.WaitForLiveServersAsync(serverIds);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public FastChatProcess Server(string id) => _servers[id];

    /// <summary>Starts the balancer (on <paramref name="port"/>, 0 for a free one) and waits until it listens.</summary>
    public async Task StartBalancerAsync(int port)
    {
        FastChatProcess balancer = Start(["balancer", "--port", port.ToString(CultureInfo.InvariantCulture), .. _storageArguments, "--cluster-key-file", _keyFile]);
        await balancer.WaitForReadyAsync();
        Balancer = balancer;
        BalancerPort = balancer.BalancerPort;
    }

    public async Task StartServerAsync(string id)
    {
        FastChatProcess server = Start(["server", "--id", id, "--port", "0", "--balancer", $"127.0.0.1:{BalancerPort}", .. _storageArguments, "--cluster-key-file", _keyFile]);
        lock (_servers)
        {
            _servers[id] = server;
        }

        await server.WaitForReadyAsync();
    }

    public Task WaitForLiveServersAsync(params string[] ids) => ClusterProbe.WaitForLiveServersAsync(BalancerPort, ids);

    /// <summary>Every process's output, for assertion messages.</summary>
    public string Output()
    {
        lock (_all)
        {
            return string.Join("\n", _all.Select(p => $"=== process {p.Id}\n{p.Output}"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        FastChatProcess[] all;
        lock (_all)
        {
            all = [.. _all];
        }

        foreach (FastChatProcess process in all)
        {
            await process.DisposeAsync();
        }

        _folder.Dispose();
    }

    private FastChatProcess Start(string[] arguments)
    {
        FastChatProcess process = FastChatProcess.StartIn(_folder.Path, s_environment, arguments);
        lock (_all)
        {
            _all.Add(process);
        }

        return process;
    }
}
