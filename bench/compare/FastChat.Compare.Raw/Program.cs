using System.Globalization;
using System.Net;
using FastChat.Compare.Raw;

// fastchat-compare-raw [--port P]: forwards on 127.0.0.1 until stopped (SIGTERM or Ctrl+C). Port 0 (the default)
// picks a free port; the first line on stdout names it, so scripts can read it back.
int port = 0;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--port" && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= IPEndPoint.MaxPort)
    {
        i++;
        continue;
    }

    await Console.Error.WriteLineAsync("usage: fastchat-compare-raw [--port P]  (P in 0-65535; 0 picks a free port)").ConfigureAwait(false);
    return 2;
}

using var stop = new CancellationTokenSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

await using RawForwarder forwarder = RawForwarder.Start(new IPEndPoint(IPAddress.Loopback, port));
Console.WriteLine($"raw forwarder listening on {forwarder.EndPoint}");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
}
catch (OperationCanceledException)
{
    // Asked to stop.
}

return 0;
