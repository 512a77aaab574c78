using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using FastChat.Protocol.Framing;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FastChat.Benchmarks.Transport;

/// <summary>
/// The yardstick: the same framed echo as <see cref="FastChatEchoServer"/>, on Kestrel's socket transport
/// (ASP.NET Core's <see cref="SocketTransportFactory"/>) with its default options.
/// </summary>
internal sealed class KestrelEchoServer : IEchoServer
{
    private readonly IConnectionListener _listener;
    private readonly Task _acceptLoop;
    private readonly List<Task> _connections = [];

    private KestrelEchoServer(IConnectionListener listener)
    {
        _listener = listener;
        _acceptLoop = AcceptLoopAsync();
    }

    public EndPoint EndPoint => _listener.EndPoint;

    public static async Task<KestrelEchoServer> StartAsync()
    {
        var factory = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance);
        IConnectionListener listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        return new KestrelEchoServer(listener);
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.UnbindAsync();
        await _listener.DisposeAsync();
        await _acceptLoop;
        await Task.WhenAll(_connections);
    }

    private async Task AcceptLoopAsync()
    {
        while (await _listener.AcceptAsync() is { } connection)
        {
            lock (_connections)
            {
                _connections.Add(EchoAsync(connection));
            }
        }
    }

    private static async Task EchoAsync(ConnectionContext connection)
    {
        PipeReader input = connection.Transport.Input;
        PipeWriter output = connection.Transport.Output;
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                int frames = 0;
                try
                {
                    while (FrameReader.TryReadFrame(ref buffer, 1 << 20, out ReadOnlySequence<byte> payload))
                    {
                        FrameWriter.WriteFrame(output, payload);
                        frames++;
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                // One flush per read batch, exactly like the FastChat side.
                if (frames > 0)
                {
                    await output.FlushAsync();
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ConnectionResetException)
        {
            // The benchmark client closing its socket; nothing to report.
        }
        finally
        {
            await input.CompleteAsync();
            await output.CompleteAsync();
            await connection.DisposeAsync();
        }
    }
}

/// <summary>A framed echo server under benchmark.</summary>
internal interface IEchoServer : IAsyncDisposable
{
    EndPoint EndPoint { get; }
}
