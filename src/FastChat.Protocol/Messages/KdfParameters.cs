using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>A user's key-derivation parameters: how the client turns the password into its keys.</summary>
/// <remarks>
/// <para>Opcode <c>0x11</c> (<see cref="Opcode.KdfParameters"/>), 4 fields. Wire form: <c>[0x11, requestId, userName, algorithm, salt, iterations]</c>.</para>
/// </remarks>
public readonly record struct KdfParameters : IMessage<KdfParameters>
{
    private const int V1FieldCount = 4;

    /// <summary>The user they belong to.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <summary>The key-derivation function; <c>pbkdf2-sha256</c> in version 1.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string Algorithm { get => field ?? string.Empty; init; }

    /// <summary>The account's salt.</summary>
    /// <remarks>Array element 4: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> Salt { get; init; }

    /// <summary>The iteration count.</summary>
    /// <remarks>Array element 5: int32.</remarks>
    public int Iterations { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.KdfParameters;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 4 fields, or a field is malformed; the message names it.</exception>
    public static KdfParameters Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(KdfParameters));
        var message = new KdfParameters
        {
            UserName = FieldReader.ReadName(ref reader, "KdfParameters.userName"),
            Algorithm = FieldReader.ReadName(ref reader, "KdfParameters.algorithm"),
            Salt = FieldReader.ReadBinary(ref reader, "KdfParameters.salt"),
            Iterations = FieldReader.ReadInt32(ref reader, "KdfParameters.iterations"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(KdfParameters));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
        writer.Write(Algorithm);
        writer.Write(Salt);
        writer.Write(Iterations);
    }
}
