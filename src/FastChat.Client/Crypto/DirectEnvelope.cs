using FastChat.Client.Crypto.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto;

/// <summary>
/// Seals and opens the body of a direct message (<c>DirectMessage.Body</c>): encrypted for the recipient's agreement
/// key with a fresh ephemeral key per message, and signed by the sender.
/// </summary>
/// <remarks>
/// <para>Format (docs/security.md has it byte by byte):</para>
/// <code>
/// version 0x01 (1) | recipient key id (8) | ephemeral P-256 point (65) | nonce (12) | ciphertext (n) | tag (16) | signature (64)
/// key = HKDF-SHA256(ECDH(ephemeral, recipient), salt = id, info = str("fastchat dm v1") || str(sender) || str(recipient))
/// </code>
/// <para>
/// The signature covers the version, the sender and recipient names, the id, the send time, the key id, the ephemeral
/// key, the nonce and the ciphertext, so none of the message's header fields can be changed without detection.
/// <see cref="Open(IdentityKeys, string, PublicIdentity, MessageId, DateTime, ReadOnlySpan{byte})"/> verifies the
/// signature before anything else. Replays are the receiver's to reject, with <see cref="ReplayGuard"/>.
/// </para>
/// <para>Times are bound at 100 ns resolution in UTC: pass the same <see cref="DateTime"/> that the frame carries.</para>
/// </remarks>
public static class DirectEnvelope
{
    /// <summary>The format's version byte.</summary>
    public const byte Version = SealedBox.Version;

    /// <summary>The envelope's size beyond the plaintext: 166 bytes.</summary>
    public const int Overhead = SealedBox.Overhead;

    private const string What = "direct message";

    /// <summary>The envelope size for a plaintext of <paramref name="plaintextLength"/> bytes.</summary>
    /// <param name="plaintextLength">The plaintext's length.</param>
    /// <returns><paramref name="plaintextLength"/> plus <see cref="Overhead"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="plaintextLength"/> is negative or too large.</exception>
    public static int GetEnvelopeLength(int plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(plaintextLength, int.MaxValue - Overhead);
        return plaintextLength + Overhead;
    }

    /// <summary>Seals a message for one recipient.</summary>
    /// <param name="sender">The sender's keys (signs the envelope).</param>
    /// <param name="senderName">The sender's user name, as the server will fill it into the message.</param>
    /// <param name="recipient">The recipient's public identity (its agreement key encrypts the message).</param>
    /// <param name="id">The message id.</param>
    /// <param name="sentAt">The send time the message will carry.</param>
    /// <param name="plaintext">The message.</param>
    /// <returns>The envelope: <see cref="GetEnvelopeLength"/> bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> or <paramref name="recipient"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="senderName"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="sender"/> was disposed.</exception>
    public static byte[] Seal(IdentityKeys sender, string senderName, PublicIdentity recipient, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext) =>
        Seal(sender, senderName, recipient, id, sentAt, plaintext, CryptoRandom.Default);

    /// <summary>Seals a message for one recipient into the caller's buffer.</summary>
    /// <param name="sender">The sender's keys (signs the envelope).</param>
    /// <param name="senderName">The sender's user name, as the server will fill it into the message.</param>
    /// <param name="recipient">The recipient's public identity (its agreement key encrypts the message).</param>
    /// <param name="id">The message id.</param>
    /// <param name="sentAt">The send time the message will carry.</param>
    /// <param name="plaintext">The message.</param>
    /// <param name="destination">Receives the envelope; at least <see cref="GetEnvelopeLength"/> bytes, not overlapping <paramref name="plaintext"/>.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> or <paramref name="recipient"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="senderName"/> is empty or not valid text, or <paramref name="destination"/> is too small or overlaps <paramref name="plaintext"/>.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="sender"/> was disposed.</exception>
    public static int Seal(IdentityKeys sender, string senderName, PublicIdentity recipient, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext, Span<byte> destination) =>
        Seal(sender, senderName, recipient, id, sentAt, plaintext, destination, CryptoRandom.Default);

    /// <summary>Verifies and opens a direct message.</summary>
    /// <param name="recipient">The recipient's keys.</param>
    /// <param name="recipientName">The user the message is addressed to (its <c>recipient</c> field), normally this user.</param>
    /// <param name="sender">The public identity of the user the message claims to be from (its <c>sender</c> field).</param>
    /// <param name="id">The message's id.</param>
    /// <param name="sentAt">The message's send time.</param>
    /// <param name="envelope">The message's body.</param>
    /// <returns>The plaintext.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="recipient"/> or <paramref name="sender"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="recipientName"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="recipient"/> was disposed.</exception>
    /// <exception cref="EnvelopeException">
    /// <see cref="EnvelopeFailure.Malformed"/>, <see cref="EnvelopeFailure.UnsupportedVersion"/>,
    /// <see cref="EnvelopeFailure.BadSignature"/> (modified, forged, or a header field differs),
    /// <see cref="EnvelopeFailure.WrongRecipient"/> (sealed for another key) or <see cref="EnvelopeFailure.Tampered"/>
    /// (signed but undecryptable).
    /// </exception>
    public static byte[] Open(IdentityKeys recipient, string recipientName, PublicIdentity sender, MessageId id, DateTime sentAt, ReadOnlySpan<byte> envelope)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentException.ThrowIfNullOrEmpty(recipientName);
        byte[] plaintext = new byte[SealedBox.CheckFormat(What, envelope)];
        OpenCore(recipient, recipientName, sender, id, sentAt, envelope, plaintext);
        return plaintext;
    }

    /// <summary>Verifies and opens a direct message into the caller's buffer.</summary>
    /// <param name="recipient">The recipient's keys.</param>
    /// <param name="recipientName">The user the message is addressed to (its <c>recipient</c> field), normally this user.</param>
    /// <param name="sender">The public identity of the user the message claims to be from (its <c>sender</c> field).</param>
    /// <param name="id">The message's id.</param>
    /// <param name="sentAt">The message's send time.</param>
    /// <param name="envelope">The message's body.</param>
    /// <param name="destination">Receives the plaintext: at least <c>envelope.Length - </c><see cref="Overhead"/> bytes. Nothing readable is left in it if the envelope is rejected.</param>
    /// <returns>The number of plaintext bytes written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="recipient"/> or <paramref name="sender"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="recipientName"/> is empty or not valid text, or <paramref name="destination"/> is too small.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="recipient"/> was disposed.</exception>
    /// <exception cref="EnvelopeException">As <see cref="Open(IdentityKeys, string, PublicIdentity, MessageId, DateTime, ReadOnlySpan{byte})"/>.</exception>
    public static int Open(IdentityKeys recipient, string recipientName, PublicIdentity sender, MessageId id, DateTime sentAt, ReadOnlySpan<byte> envelope, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentException.ThrowIfNullOrEmpty(recipientName);
        int length = SealedBox.CheckFormat(What, envelope);
        if (destination.Length < length)
        {
            CryptoThrowHelper.ThrowDestinationTooSmall(nameof(destination), destination.Length, length);
        }

        OpenCore(recipient, recipientName, sender, id, sentAt, envelope, destination[..length]);
        return length;
    }

    internal static byte[] Seal(IdentityKeys sender, string senderName, PublicIdentity recipient, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext, CryptoRandom random)
    {
        byte[] envelope = new byte[GetEnvelopeLength(plaintext.Length)];
        Seal(sender, senderName, recipient, id, sentAt, plaintext, envelope, random);
        return envelope;
    }

    internal static int Seal(IdentityKeys sender, string senderName, PublicIdentity recipient, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext, Span<byte> destination, CryptoRandom random)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentException.ThrowIfNullOrEmpty(senderName);
        int length = GetEnvelopeLength(plaintext.Length);
        if (destination.Length < length)
        {
            CryptoThrowHelper.ThrowDestinationTooSmall(nameof(destination), destination.Length, length);
        }

        if (plaintext.Overlaps(destination))
        {
            CryptoThrowHelper.ThrowOverlap(nameof(destination));
        }

        Span<byte> context = stackalloc byte[MessageContext.Size];
        MessageContext.Write(context, id, sentAt);
        Span<byte> salt = stackalloc byte[MessageId.Size];
        id.TryWriteBytes(salt);
        SealedBox.Seal(Labels.DirectMessage, sender, senderName, recipient, context, salt, plaintext, destination[..length], random);
        return length;
    }

    private static void OpenCore(IdentityKeys recipient, string recipientName, PublicIdentity sender, MessageId id, DateTime sentAt, ReadOnlySpan<byte> envelope, Span<byte> plaintext)
    {
        Span<byte> context = stackalloc byte[MessageContext.Size];
        MessageContext.Write(context, id, sentAt);
        Span<byte> salt = stackalloc byte[MessageId.Size];
        id.TryWriteBytes(salt);
        SealedBox.Open(Labels.DirectMessage, What, recipient, recipientName, sender, context, salt, envelope, plaintext);
    }
}
