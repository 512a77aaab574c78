using System.Buffers;
using System.CommandLine;
using System.Diagnostics;
using System.Threading.Channels;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Cli.Commands;

/// <summary><c>fastchat ping HOST:PORT</c>: handshakes with an endpoint and measures Ping/Pong round trips.</summary>
internal static class PingCommand
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var target = new Argument<(string Host, int Port)?>("endpoint")
        {
            Description = "The endpoint as HOST:PORT, e.g. 127.0.0.1:7700.",
            CustomParser = EndPointArgument.Parse,
        };

        var count = new Option<int>("--count", "-c")
        {
            Description = "How many pings to send (1-100000).",
            DefaultValueFactory = _ => 5,
        };
        count.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 100_000)
            {
                result.AddError($"--count must be between 1 and 100000, not {value}.");
            }
        });

        var command = new Command("ping", "Connect to a FastChat endpoint, say Hello and time Ping/Pong round trips.")
        {
            target,
            count,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            (string host, int port) = parse.GetValue(target)!.Value;
            return await RunAsync(host, port, parse.GetValue(count), cancellationToken).ConfigureAwait(false);
        });

        return command;
    }

    private static async Task<int> RunAsync(string host, int port, int count, CancellationToken cancellationToken)
    {
        FastChatConnection connection;
        try
        {
            connection = await FastChatConnector.ConnectAsync(host, port, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FastChatException or System.Net.Sockets.SocketException)
        {
            await Console.Error.WriteLineAsync($"fastchat: cannot connect to {host}:{port}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        await using var framed = new FramedConnection(connection);
        var replies = new ReplyHandler();
        Task reading = replies.RunAsync(framed, cancellationToken);
        try
        {
            Send(framed, 1, new Hello { ProtocolVersion = ProtocolConstants.ProtocolVersion, Role = PeerRole.Client, Features = [], Agent = "fastchat-ping" });
            Reply hello = await replies.NextAsync(cancellationToken).ConfigureAwait(false);
            if (hello.Opcode != Opcode.Hello)
            {
                await Console.Error.WriteLineAsync($"fastchat: {host}:{port} refused the handshake: {hello.ErrorMessage}").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine($"connected to {connection.RemoteEndPoint} ({hello.Agent}, protocol {ProtocolConstants.ProtocolVersion})");
            var roundTrips = new double[count];
            for (int i = 0; i < count; i++)
            {
                long sentAt = Stopwatch.GetTimestamp();
                Send(framed, (uint)(i + 2), new Ping { Timestamp = sentAt });
                Reply pong = await replies.NextAsync(cancellationToken).ConfigureAwait(false);
                if (pong.Opcode != Opcode.Pong || pong.Timestamp != sentAt)
                {
                    await Console.Error.WriteLineAsync($"fastchat: unexpected reply {pong.Opcode} to ping {i + 1}").ConfigureAwait(false);
                    return 1;
                }

                roundTrips[i] = Stopwatch.GetElapsedTime(sentAt).TotalMicroseconds;
                Console.WriteLine($"pong {i + 1}: {roundTrips[i]:F0} µs");
            }

            Array.Sort(roundTrips);
            Console.WriteLine(
                $"{count} pings, {count} pongs: min {roundTrips[0]:F0} µs, median {roundTrips[count / 2]:F0} µs, max {roundTrips[^1]:F0} µs");
            return 0;
        }
        catch (TimeoutException)
        {
            await Console.Error.WriteLineAsync($"fastchat: no reply from {host}:{port} within {ReplyTimeout.TotalSeconds:F0} s").ConfigureAwait(false);
            return 1;
        }
        catch (ChannelClosedException)
        {
            await Console.Error.WriteLineAsync($"fastchat: {host}:{port} closed the connection ({framed.CloseReason})").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            await framed.CloseAsync().ConfigureAwait(false);
            await reading.WaitAsync(ReplyTimeout, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static void Send<T>(FramedConnection connection, uint requestId, in T message)
        where T : struct, IMessage<T>
    {
        connection.TryWriteMessage(requestId, in message);
        connection.TryFlush();
    }

    private readonly record struct Reply(Opcode Opcode, long Timestamp, string Agent, string ErrorMessage);

    // Decodes replies on the read loop and hands them to the command; the payload does not outlive the call.
    private sealed class ReplyHandler : IFrameHandler
    {
        private readonly Channel<Reply> _replies = Channel.CreateUnbounded<Reply>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

        public async ValueTask<Reply> NextAsync(CancellationToken cancellationToken) =>
            await _replies.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(ReplyTimeout, cancellationToken).ConfigureAwait(false);

        public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
        {
            var reader = new MessagePackReader(payload);
            MessageHeader header = MessageSerializer.ReadHeader(ref reader);
            Reply reply = header.Opcode switch
            {
                Opcode.Hello => new Reply(Opcode.Hello, 0, MessageSerializer.ReadBody<Hello>(ref reader, header).Agent, string.Empty),
                Opcode.Pong => new Reply(Opcode.Pong, MessageSerializer.ReadBody<Pong>(ref reader, header).Timestamp, string.Empty, string.Empty),
                Opcode.Error => new Reply(Opcode.Error, 0, string.Empty, MessageSerializer.ReadBody<Error>(ref reader, header).Message),
                _ => new Reply(header.Opcode, 0, string.Empty, string.Empty),
            };
            _replies.Writer.TryWrite(reply);
            return default;
        }

        /// <summary>Runs the read loop; once it ends, waiting for a reply fails at once instead of timing out.</summary>
        public async Task RunAsync(FramedConnection connection, CancellationToken cancellationToken)
        {
            try
            {
                await connection.RunAsync(this, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _replies.Writer.TryComplete();
            }
        }
    }
}
