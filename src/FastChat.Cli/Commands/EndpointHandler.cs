using System.Buffers;
using FastChat.Protocol;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Cli.Commands;

/// <summary>
/// One connection's protocol state for <c>fastchat serve</c>: <c>Hello</c> first (version checked), then <c>Ping</c>
/// is answered with <c>Pong</c>. Errors follow docs/protocol.md §4: an unknown opcode is skipped, a message this endpoint
/// does not serve gets an <c>Error</c> reply, a broken frame gets an <c>Error</c> and the connection is closed.
/// </summary>
internal sealed class EndpointHandler : IFrameHandler
{
    private static readonly string Agent = "fastchat/" + typeof(EndpointHandler).Assembly.GetName().Version?.ToString(3);

    private bool _greeted;

    public ValueTask OnFrameAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var reader = new MessagePackReader(payload);
        MessageHeader header = MessageSerializer.ReadHeader(ref reader);

        if (!_greeted)
        {
            if (header.Opcode != Opcode.Hello)
            {
                Fail(connection, header.RequestId, ErrorCode.Unexpected, $"The first frame must be Hello, not {header.Opcode}.");
                return default;
            }

            Hello hello = MessageSerializer.ReadBody<Hello>(ref reader, header);
            if (hello.ProtocolVersion != ProtocolConstants.ProtocolVersion)
            {
                Fail(connection, header.RequestId, ErrorCode.UnsupportedVersion, $"Protocol version {hello.ProtocolVersion} is not supported; this endpoint speaks version {ProtocolConstants.ProtocolVersion}.");
                return default;
            }

            _greeted = true;
            Write(connection, header.RequestId, new Hello
            {
                ProtocolVersion = ProtocolConstants.ProtocolVersion,
                Role = PeerRole.Server,
                Features = [],
                Agent = Agent,
            });
            return default;
        }

        switch (header.Opcode)
        {
            case Opcode.Ping:
                Ping ping;
                try
                {
                    ping = MessageSerializer.ReadBody<Ping>(ref reader, header);
                }
                catch (ProtocolViolationException ex)
                {
                    // A bad message, not a broken frame: say so and keep the connection.
                    Write(connection, header.RequestId, new Error { Code = ErrorCode.ProtocolViolation, Message = ex.Message });
                    return default;
                }

                Write(connection, header.RequestId, new Pong { Timestamp = ping.Timestamp });
                return default;

            case Opcode.Pong:
                return default;

            default:
                if (Enum.IsDefined(header.Opcode))
                {
                    Write(connection, header.RequestId, new Error { Code = ErrorCode.Unexpected, Message = $"{header.Opcode} is not served by this endpoint." });
                }

                // Unknown opcodes come from newer peers: skipped, as docs/protocol.md §3 says.
                return default;
        }
    }

    public ValueTask OnBatchCompletedAsync(FramedConnection connection, CancellationToken cancellationToken)
    {
        connection.TryFlush();
        return default;
    }

    public void OnProtocolViolation(FramedConnection connection, ProtocolViolationException exception)
    {
        ErrorCode code = exception is FrameTooLargeException ? ErrorCode.FrameTooLarge : ErrorCode.ProtocolViolation;
        Write(connection, 0, new Error { Code = code, Message = exception.Message });
    }

    private static void Fail(FramedConnection connection, uint requestId, ErrorCode code, string message)
    {
        Write(connection, requestId, new Error { Code = code, Message = message });
        // Closing waits for the read loop, which is running this very call: let it finish in the background
        // (CloseAsync never faults). The Error frame is flushed before the FIN.
        _ = connection.CloseAsync(CloseReason.ProtocolViolation).AsTask();
    }

    // Replies are flushed once per read batch (OnBatchCompletedAsync); a closed connection just drops them.
    private static void Write<T>(FramedConnection connection, uint requestId, in T message)
        where T : struct, IMessage<T> =>
        connection.TryWriteMessage(requestId, in message);
}
