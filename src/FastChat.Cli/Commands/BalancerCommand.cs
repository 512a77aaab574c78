using System.CommandLine;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FastChat.Cli.Commands;

/// <summary><c>fastchat balancer</c>: the balancer alone, for a cluster of separate processes sharing PostgreSQL (or one SQLite file on one machine).</summary>
internal static class BalancerCommand
{
    public static Command Create()
    {
        Option<string> host = RoleOptions.Host("the balancer listens");
        Option<int> port = RoleOptions.Port("The port clients and chat servers connect to (default 7700; 0 picks a free one).");
        Option<string> strategy = RoleOptions.Strategy();
        var shared = new SeparateRole();

        var command = new Command("balancer", "Run the balancer alone (sign-up, sign-in, server assignment) until Ctrl-C; chat servers run as 'fastchat server'.")
        {
            host,
            port,
            strategy,
        };
        shared.AddTo(command);

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            parse.Override(host, BalancerOptions.SectionName + ":Host", overrides);
            parse.Override(port, BalancerOptions.SectionName + ":Port", overrides);
            parse.Override(strategy, BalancerOptions.SectionName + ":Strategy", overrides);
            shared.Override(parse, overrides);

            HostApplicationBuilder builder = HostRunner.CreateBuilder(overrides);
            if (!await SeparateRole.RequireKeyAsync(builder, "balancer").ConfigureAwait(false))
            {
                return Program.ExitBadUsage;
            }

            builder.Services.AddFastChatBalancer();
            return await HostRunner.RunAsync(builder, services =>
            {
                ChatBalancer balancer = services.GetRequiredService<FastChatHostedService>().Balancer!;
                string strategyName = services.GetRequiredService<IOptions<BalancerOptions>>().Value.Strategy;
                Console.WriteLine($"fastchat: balancer listening on {balancer.EndPoint} (strategy {strategyName})");
            }, cancellationToken).ConfigureAwait(false);
        });

        return command;
    }
}
