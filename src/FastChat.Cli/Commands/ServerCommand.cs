using System.CommandLine;
using FastChat.Hosts.Hosting;
using FastChat.Hosts.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FastChat.Cli.Commands;

/// <summary><c>fastchat server</c>: one chat server, registering with a balancer that runs elsewhere.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var id = new Option<string>("--id")
        {
            Description = "The server's id, unique in the cluster: 1-64 letters, digits, '.', '_' or '-'.",
            HelpName = "ID",
        };
        id.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>() ?? string.Empty;
            if (!IsValidId(value))
            {
                result.AddError($"--id must be 1-64 letters, digits, '.', '_' or '-', not '{value}'.");
            }
        });
        Option<string> host = RoleOptions.Host("the chat server listens");
        Option<int> port = RoleOptions.Port("The port clients and other servers connect to (default 0: a free one, which the balancer hands out).");
        Option<string> advertisedHost = RoleOptions.AdvertisedHost();
        var balancer = new Option<(string Host, int Port)?>("--balancer")
        {
            Description = "The balancer to register with, as HOST:PORT (default 127.0.0.1:7700).",
            HelpName = "HOST:PORT",
            CustomParser = EndPointArgument.Parse,
        };
        var shared = new SeparateRole();

        var command = new Command("server", "Run one chat server, registered with a balancer, until Ctrl-C.")
        {
            id,
            host,
            port,
            advertisedHost,
            balancer,
        };
        shared.AddTo(command);

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            parse.Override(id, ChatServerOptions.SectionName + ":Id", overrides);
            parse.Override(host, ChatServerOptions.SectionName + ":Host", overrides);
            parse.Override(port, ChatServerOptions.SectionName + ":Port", overrides);
            parse.Override(advertisedHost, ChatServerOptions.SectionName + ":AdvertisedHost", overrides);
            if (parse.GetValue(balancer) is { } target)
            {
                overrides[ChatServerOptions.SectionName + ":Balancer"] = target.Host.Contains(':', StringComparison.Ordinal)
                    ? $"[{target.Host}]:{target.Port}"
                    : $"{target.Host}:{target.Port}";
            }

            shared.Override(parse, overrides);

            HostApplicationBuilder builder = HostRunner.CreateBuilder(overrides);
            if (HostRunner.Setting(builder, ChatServerOptions.SectionName + ":Id") is null)
            {
                await Console.Error.WriteLineAsync("fastchat: the server needs an id that is unique in the cluster: pass --id ID (or set FASTCHAT__SERVER__ID).").ConfigureAwait(false);
                return Program.ExitBadUsage;
            }

            if (!await SeparateRole.RequireKeyAsync(builder, "server").ConfigureAwait(false))
            {
                return Program.ExitBadUsage;
            }

            string balancerTarget = HostRunner.Setting(builder, ChatServerOptions.SectionName + ":Balancer") ?? new ChatServerOptions().Balancer;
            builder.Services.AddFastChatServer();
            return await HostRunner.RunAsync(builder, services =>
            {
                ChatServer server = services.GetRequiredService<FastChatHostedService>().Servers[0];
                Console.WriteLine($"fastchat: server {server.Id} listening on {server.EndPoint} (balancer {balancerTarget})");
            }, cancellationToken).ConfigureAwait(false);
        });

        return command;
    }

    private static bool IsValidId(string id)
    {
        if (id.Length is 0 or > 64)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
