using System.CommandLine;
using FastChat.Hosts.Security;
using FastChat.Hosts.Storage;
using Microsoft.Extensions.Hosting;

namespace FastChat.Cli.Commands;

/// <summary>What <c>fastchat balancer</c> and <c>fastchat server</c> share: storage and cluster-key options, and the key check.</summary>
internal sealed class SeparateRole
{
    private readonly Option<string> _storage = RoleOptions.Storage();
    private readonly Option<string> _connectionString = RoleOptions.ConnectionString();
    private readonly Option<string> _data = RoleOptions.Data();
    private readonly Option<string> _clusterKeyFile = RoleOptions.ClusterKeyFile();

    public void AddTo(Command command)
    {
        command.Options.Add(_storage);
        command.Options.Add(_connectionString);
        command.Options.Add(_data);
        command.Options.Add(_clusterKeyFile);
    }

    public void Override(ParseResult parse, Dictionary<string, string?> overrides)
    {
        parse.Override(_storage, StorageOptions.SectionName + ":Provider", overrides);
        parse.Override(_connectionString, StorageOptions.SectionName + ":ConnectionString", overrides);
        parse.Override(_data, StorageOptions.SectionName + ":DataDirectory", overrides);
        if (parse.IsGiven(_clusterKeyFile))
        {
            // The command line wins over a key from configuration rather than clashing with it.
            overrides[ClusterOptions.SectionName + ":KeyFile"] = Path.GetFullPath(parse.GetValue(_clusterKeyFile)!);
            overrides[ClusterOptions.SectionName + ":Key"] = string.Empty;
        }
    }

    /// <summary>
    /// Separate processes must share one key, so they never generate one (a balancer and a server that each made their
    /// own could not talk to each other): without a key the command stops with this sentence.
    /// </summary>
    public static async Task<bool> RequireKeyAsync(HostApplicationBuilder builder, string role)
    {
        if (HostRunner.Setting(builder, ClusterOptions.SectionName + ":Key") is not null ||
            HostRunner.Setting(builder, ClusterOptions.SectionName + ":KeyFile") is not null)
        {
            return true;
        }

        await Console.Error.WriteLineAsync(
            $"fastchat: the {role} needs the cluster key shared by every balancer and server: pass --cluster-key-file FILE or set FASTCHAT__CLUSTER__KEY ('openssl rand -base64 32 > FILE' makes one).").ConfigureAwait(false);
        return false;
    }
}
