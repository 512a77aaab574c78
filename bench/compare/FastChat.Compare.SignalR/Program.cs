using System.Globalization;
using System.Net;
using FastChat.Compare.SignalR;

// fastchat-compare-signalr [--port P]: serves the relay hub on 127.0.0.1 until stopped (SIGTERM or Ctrl+C). Port 0
// (the default) picks a free port; the first line on stdout names it, so scripts can read it back.
int port = 0;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--port" && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= IPEndPoint.MaxPort)
    {
        i++;
        continue;
    }

    await Console.Error.WriteLineAsync("usage: fastchat-compare-signalr [--port P]  (P in 0-65535; 0 picks a free port)").ConfigureAwait(false);
    return 2;
}

(Microsoft.AspNetCore.Builder.WebApplication app, int bound) = await SignalRRelay.StartAsync(port, CancellationToken.None).ConfigureAwait(false);
await using (app.ConfigureAwait(false))
{
    Console.WriteLine($"signalr relay listening on 127.0.0.1:{bound.ToString(CultureInfo.InvariantCulture)}{SignalRRelay.HubPath}");

    // The generic host stops on SIGTERM and Ctrl+C.
    await app.WaitForShutdownAsync().ConfigureAwait(false);
}

return 0;
