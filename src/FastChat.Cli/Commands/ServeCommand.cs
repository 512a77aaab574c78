using System.CommandLine;
using System.Net;
using FastChat.Transport;

namespace FastChat.Cli.Commands;

/// <summary>
/// <c>fastchat serve</c>: runs a FastChat protocol endpoint on the transport. It performs the <c>Hello</c> handshake
/// and answers <c>Ping</c>; the chat roles (balancer, chat servers, storage) plug into the same endpoint.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var host = new Option<string>("--host")
        {
            Description = "The address to listen on.",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        host.Validators.Add(result =>
        {
            if (!IPAddress.TryParse(result.GetValueOrDefault<string>(), out _))
            {
                result.AddError($"--host must be an IP address such as 127.0.0.1 or 0.0.0.0, not '{result.GetValueOrDefault<string>()}'.");
            }
        });

        var port = new Option<int>("--port")
        {
            Description = "The TCP port to listen on (0 picks a free one).",
            DefaultValueFactory = _ => 7700,
        }.WithPortValidation();

        var maxFrameSize = new Option<int>("--max-frame-size")
        {
            Description = "The largest frame accepted, in bytes.",
            DefaultValueFactory = _ => TransportOptions.DefaultMaxFrameSize,
        };
        maxFrameSize.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 64 or > 64 * 1024 * 1024)
            {
                result.AddError($"--max-frame-size must be between 64 B and 64 MiB, not {value}.");
            }
        });

        var command = new Command("serve", "Run a FastChat endpoint (Hello handshake, Ping/Pong) until Ctrl-C.")
        {
            host,
            port,
            maxFrameSize,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new ListenerOptions
            {
                EndPoint = new IPEndPoint(IPAddress.Parse(parse.GetValue(host)!), parse.GetValue(port)),
                MaxFrameSize = parse.GetValue(maxFrameSize),
            };

            FastChatListener listener;
            try
            {
                listener = FastChatListener.Bind(options);
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                await Console.Error.WriteLineAsync($"fastchat: cannot listen on {options.EndPoint}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            await using (listener.ConfigureAwait(false))
            {
                // The line tests and scripts wait for; keep its shape.
                Console.WriteLine($"fastchat: listening on {listener.EndPoint} (Ctrl-C to stop)");
                await FramedServer.RunAsync(listener, _ => new EndpointHandler(), cancellationToken).ConfigureAwait(false);
            }

            Console.WriteLine("fastchat: stopped");
            return 0;
        });

        return command;
    }
}
