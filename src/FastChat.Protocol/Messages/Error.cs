using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A failure: the reply to a request that could not be served, or a notice sent before the connection is closed.</summary>
/// <remarks>
/// <para>Opcode <c>0x02</c> (<see cref="Opcode.Error"/>), 2 fields. Wire form: <c>[0x02, requestId, code, message]</c>.</para>
/// <para>Its request id is the failed request's, or 0 when it answers no request (for example a broken frame).</para>
/// </remarks>
public readonly record struct Error : IMessage<Error>
{
    private const int V1FieldCount = 2;

    /// <summary>Why it failed.</summary>
    /// <remarks>Array element 2: int32 (<see cref="Messages.ErrorCode"/>; unknown values are kept).</remarks>
    public ErrorCode Code { get; init; }

    /// <summary>A human-readable explanation, for logs; clients should act on <see cref="Code"/>.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Message { get => field ?? string.Empty; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Error;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 2 fields, or a field is malformed; the message names it.</exception>
    public static Error Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Error));
        var message = new Error
        {
            Code = (ErrorCode)FieldReader.ReadInt32(ref reader, "Error.code"),
            Message = FieldReader.ReadText(ref reader, "Error.message"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Error));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write((int)Code);
        writer.Write(Message);
    }
}
