using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastChat.Compare.SignalR;

/// <summary>Builds and starts the relay app: Kestrel on 127.0.0.1, the hub at <see cref="HubPath"/>, WebSockets only.</summary>
internal static class SignalRRelay
{
    /// <summary>Where the hub is mapped.</summary>
    public const string HubPath = "/hub";

    /// <summary>The largest hub message accepted: a 1 MiB body as base64 plus the invocation around it.</summary>
    public const long MaxMessageSize = 2L * 1024 * 1024;

    /// <summary>Starts the app on 127.0.0.1:<paramref name="port"/> (0 picks a free port); returns it with the port it got.</summary>
    /// <exception cref="IOException">The port is taken.</exception>
    public static async Task<(WebApplication App, int Port)> StartAsync(int port, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options => options.Listen(IPAddress.Loopback, port));
        builder.Services.AddSignalR(options =>
        {
            options.MaximumReceiveMessageSize = MaxMessageSize;
            options.EnableDetailedErrors = true;
        });

        WebApplication app = builder.Build();
        app.UseWebSockets();
        app.MapHub<RelayHub>(HubPath, options => options.Transports = HttpTransportType.WebSockets);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        IServerAddressesFeature addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        int bound = new Uri(addresses.Addresses.First()).Port;
        return (app, bound);
    }
}
