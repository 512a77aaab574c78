using System.Buffers;
using FastChat.Protocol.MessagePack;

namespace FastChat.Protocol.Messages;

/// <summary>The balancer's answer to <see cref="SignUp"/> or <see cref="SignIn"/>: which chat server to use and the token to present there.</summary>
/// <remarks>
/// <para>Opcode <c>0x14</c> (<see cref="Opcode.Assigned"/>), 9 fields. Wire form: <c>[0x14, requestId, userName, serverId, host, port, sessionToken, expiresAt, wrappedPrivateKeys, agreementPublicKey, signingPublicKey]</c>.</para>
/// <para>The client closes the balancer connection and opens one to <see cref="Host"/>:<see cref="Port"/>, where it sends <see cref="Resume"/>.</para>
/// </remarks>
public readonly record struct Assigned : IMessage<Assigned>
{
    private const int V1FieldCount = 9;

    /// <summary>The signed-in user.</summary>
    /// <remarks>Array element 2: str (nil reads as empty).</remarks>
    public string UserName { get => field ?? string.Empty; init; }

    /// <summary>The assigned chat server's id.</summary>
    /// <remarks>Array element 3: str (nil reads as empty).</remarks>
    public string ServerId { get => field ?? string.Empty; init; }

    /// <summary>The assigned chat server's host name or address.</summary>
    /// <remarks>Array element 4: str (nil reads as empty).</remarks>
    public string Host { get => field ?? string.Empty; init; }

    /// <summary>The assigned chat server's port.</summary>
    /// <remarks>Array element 5: int32.</remarks>
    public int Port { get; init; }

    /// <summary>The session token to present in <see cref="Resume"/> (opaque to the client).</summary>
    /// <remarks>Array element 6: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> SessionToken { get; init; }

    /// <summary>When the session token expires (UTC).</summary>
    /// <remarks>Array element 7: timestamp (extension type -1).</remarks>
    public DateTime ExpiresAt { get; init; }

    /// <summary>The user's wrapped private keys, as stored at sign-up.</summary>
    /// <remarks>Array element 8: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> WrappedPrivateKeys { get; init; }

    /// <summary>The user's ECDH P-256 public key.</summary>
    /// <remarks>Array element 9: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> AgreementPublicKey { get; init; }

    /// <summary>The user's ECDSA P-256 public key.</summary>
    /// <remarks>Array element 10: bin (nil reads as empty). When read, it is a slice of the frame payload, valid until the payload's buffer is released (for a pipe, until <c>AdvanceTo</c>); copy it to keep it.</remarks>
    public ReadOnlySequence<byte> SigningPublicKey { get; init; }

    /// <inheritdoc/>
    public static Opcode Opcode => Opcode.Assigned;

    /// <inheritdoc/>
    public static int FieldCount => V1FieldCount;

    /// <inheritdoc/>
    /// <exception cref="ProtocolViolationException">The payload has fewer than 9 fields, or a field is malformed; the message names it.</exception>
    public static Assigned Read(ref MessagePackReader reader, int fieldCount)
    {
        FieldReader.EnsureFieldCount(fieldCount, V1FieldCount, nameof(Assigned));
        var message = new Assigned
        {
            UserName = FieldReader.ReadName(ref reader, "Assigned.userName"),
            ServerId = FieldReader.ReadName(ref reader, "Assigned.serverId"),
            Host = FieldReader.ReadName(ref reader, "Assigned.host"),
            Port = FieldReader.ReadInt32(ref reader, "Assigned.port"),
            SessionToken = FieldReader.ReadBinary(ref reader, "Assigned.sessionToken"),
            ExpiresAt = FieldReader.ReadTimestamp(ref reader, "Assigned.expiresAt"),
            WrappedPrivateKeys = FieldReader.ReadBinary(ref reader, "Assigned.wrappedPrivateKeys"),
            AgreementPublicKey = FieldReader.ReadBinary(ref reader, "Assigned.agreementPublicKey"),
            SigningPublicKey = FieldReader.ReadBinary(ref reader, "Assigned.signingPublicKey"),
        };
        FieldReader.SkipExtraFields(ref reader, fieldCount, V1FieldCount, nameof(Assigned));
        return message;
    }

    /// <inheritdoc/>
    public void Write(ref MessagePackWriter writer)
    {
        writer.Write(UserName);
        writer.Write(ServerId);
        writer.Write(Host);
        writer.Write(Port);
        writer.Write(SessionToken);
        writer.Write(ExpiresAt);
        writer.Write(WrappedPrivateKeys);
        writer.Write(AgreementPublicKey);
        writer.Write(SigningPublicKey);
    }
}
