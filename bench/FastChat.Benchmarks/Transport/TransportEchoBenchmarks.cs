using BenchmarkDotNet.Attributes;

namespace FastChat.Benchmarks.Transport;

/// <summary>
/// Framed echo over loopback: clients send bursts of frames, the server parses each frame and writes it back, one
/// flush per read batch. The same plain-socket client drives FastChat.Transport and Kestrel's socket transport, so
/// only the server transport differs. The time reported is per echoed frame (messages/s = 1 / Mean; MB/s =
/// PayloadSize × messages/s).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 12)]
public class TransportEchoBenchmarks
{
    private const int FramesPerInvoke = 4096;

    private IEchoServer? _server;
    private EchoClient[] _clients = [];

    [Params("FastChat", "Kestrel")]
    public string Server { get; set; } = "FastChat";

    [Params(64, 4096)]
    public int PayloadSize { get; set; }

    [Params(1, 8)]
    public int Connections { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = Server == "Kestrel" ? await KestrelEchoServer.StartAsync() : FastChatEchoServer.Start();
        _clients = new EchoClient[Connections];
        for (int i = 0; i < Connections; i++)
        {
            _clients[i] = await EchoClient.ConnectAsync(_server.EndPoint, PayloadSize, FramesPerInvoke / Connections);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (EchoClient client in _clients)
        {
            client.Dispose();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Every connection sends its share of 4,096 frames and waits for all of them to come back.</summary>
    [Benchmark(OperationsPerInvoke = FramesPerInvoke)]
    public Task EchoFrames()
    {
        if (_clients.Length == 1)
        {
            return _clients[0].RoundTripBurstAsync();
        }

        var bursts = new Task[_clients.Length];
        for (int i = 0; i < bursts.Length; i++)
        {
            bursts[i] = _clients[i].RoundTripBurstAsync();
        }

        return Task.WhenAll(bursts);
    }
}
