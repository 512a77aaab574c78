using FastChat.Client.Crypto.Internal;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Crypto;

/// <summary>
/// Seals and opens the body of a group message (<c>GroupMessage.Body</c>): encrypted once under the group key of an
/// epoch (the server fans the same bytes out to every member) and signed by the sender.
/// </summary>
/// <remarks>
/// <para>Format (docs/security.md has it byte by byte):</para>
/// <code>
/// version 0x01 (1) | nonce (12) | ciphertext (n) | tag (16) | signature (64)
/// key = HKDF-SHA256(group key, salt = id, info = str("fastchat group v1") || str(group) || epoch)
/// </code>
/// <para>
/// The signature covers the group, the epoch, the sender, the id, the send time, the nonce and the ciphertext: every
/// member holds the group key, so the signature is what stops one member from forging another's messages.
/// </para>
/// </remarks>
public static class GroupEnvelope
{
    /// <summary>The format's version byte.</summary>
    public const byte Version = GroupBox.Version;

    /// <summary>The envelope's size beyond the plaintext: 93 bytes.</summary>
    public const int Overhead = GroupBox.Overhead;

    private const string What = "group message";

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

    /// <summary>Seals a message for a group under the key of one epoch; the message carries <see cref="GroupKey.Epoch"/> as its <c>keyEpoch</c>.</summary>
    /// <param name="sender">The sender's keys (signs the envelope).</param>
    /// <param name="senderName">The sender's user name, as the server will fill it into the message.</param>
    /// <param name="group">The group.</param>
    /// <param name="groupKey">The group key to seal under (normally <see cref="GroupKeyRing.Latest"/>).</param>
    /// <param name="id">The message id.</param>
    /// <param name="sentAt">The send time the message will carry.</param>
    /// <param name="plaintext">The message.</param>
    /// <returns>The envelope: <see cref="GetEnvelopeLength"/> bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> or <paramref name="groupKey"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="senderName"/> or <paramref name="group"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="sender"/> was disposed.</exception>
    public static byte[] Seal(IdentityKeys sender, string senderName, string group, GroupKey groupKey, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext) =>
        Seal(sender, senderName, group, groupKey, id, sentAt, plaintext, CryptoRandom.Default);

    /// <summary>Seals a message for a group into the caller's buffer.</summary>
    /// <param name="sender">The sender's keys (signs the envelope).</param>
    /// <param name="senderName">The sender's user name, as the server will fill it into the message.</param>
    /// <param name="group">The group.</param>
    /// <param name="groupKey">The group key to seal under (normally <see cref="GroupKeyRing.Latest"/>).</param>
    /// <param name="id">The message id.</param>
    /// <param name="sentAt">The send time the message will carry.</param>
    /// <param name="plaintext">The message.</param>
    /// <param name="destination">Receives the envelope; at least <see cref="GetEnvelopeLength"/> bytes, not overlapping <paramref name="plaintext"/>.</param>
    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sender"/> or <paramref name="groupKey"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="senderName"/> or <paramref name="group"/> is empty or not valid text, or <paramref name="destination"/> is too small or overlaps <paramref name="plaintext"/>.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="sender"/> was disposed.</exception>
    public static int Seal(IdentityKeys sender, string senderName, string group, GroupKey groupKey, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext, Span<byte> destination) =>
        Seal(Labels.GroupMessage, sender, senderName, group, groupKey, id, sentAt, plaintext, destination, CryptoRandom.Default);

    /// <summary>Verifies and opens a group message with the member's keys for the group.</summary>
    /// <param name="keyRing">The member's key ring for the message's group.</param>
    /// <param name="sender">The public identity of the member the message claims to be from (its <c>sender</c> field).</param>
    /// <param name="epoch">The message's <c>keyEpoch</c>.</param>
    /// <param name="id">The message's id.</param>
    /// <param name="sentAt">The message's send time.</param>
    /// <param name="envelope">The message's body.</param>
    /// <returns>The plaintext.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="keyRing"/> or <paramref name="sender"/> is <see langword="null"/>.</exception>
    /// <exception cref="EnvelopeException">
    /// <see cref="EnvelopeFailure.Malformed"/>, <see cref="EnvelopeFailure.UnsupportedVersion"/>,
    /// <see cref="EnvelopeFailure.BadSignature"/> (modified, forged by someone else, or a header field differs),
    /// <see cref="EnvelopeFailure.UnknownEpoch"/> (no key for the epoch) or <see cref="EnvelopeFailure.Tampered"/>
    /// (signed but undecryptable with this member's key for the epoch).
    /// </exception>
    public static byte[] Open(GroupKeyRing keyRing, PublicIdentity sender, int epoch, MessageId id, DateTime sentAt, ReadOnlySpan<byte> envelope)
    {
        ArgumentNullException.ThrowIfNull(keyRing);
        ArgumentNullException.ThrowIfNull(sender);
        byte[] plaintext = new byte[GroupBox.CheckFormat(What, envelope)];
        GroupBox.Open(Labels.GroupMessage, What, keyRing, sender, epoch, id, sentAt, envelope, plaintext);
        return plaintext;
    }

    /// <summary>Verifies and opens a group message into the caller's buffer.</summary>
    /// <param name="keyRing">The member's key ring for the message's group.</param>
    /// <param name="sender">The public identity of the member the message claims to be from (its <c>sender</c> field).</param>
    /// <param name="epoch">The message's <c>keyEpoch</c>.</param>
    /// <param name="id">The message's id.</param>
    /// <param name="sentAt">The message's send time.</param>
    /// <param name="envelope">The message's body.</param>
    /// <param name="destination">Receives the plaintext: at least <c>envelope.Length - </c><see cref="Overhead"/> bytes. Nothing readable is left in it if the envelope is rejected.</param>
    /// <returns>The number of plaintext bytes written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="keyRing"/> or <paramref name="sender"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    /// <exception cref="EnvelopeException">As <see cref="Open(GroupKeyRing, PublicIdentity, int, MessageId, DateTime, ReadOnlySpan{byte})"/>.</exception>
    public static int Open(GroupKeyRing keyRing, PublicIdentity sender, int epoch, MessageId id, DateTime sentAt, ReadOnlySpan<byte> envelope, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(keyRing);
        ArgumentNullException.ThrowIfNull(sender);
        int length = GroupBox.CheckFormat(What, envelope);
        if (destination.Length < length)
        {
            CryptoThrowHelper.ThrowDestinationTooSmall(nameof(destination), destination.Length, length);
        }

        GroupBox.Open(Labels.GroupMessage, What, keyRing, sender, epoch, id, sentAt, envelope, destination[..length]);
        return length;
    }

    internal static byte[] Seal(IdentityKeys sender, string senderName, string group, GroupKey groupKey, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext, CryptoRandom random) =>
        Seal(Labels.GroupMessage, sender, senderName, group, groupKey, id, sentAt, plaintext, random);

    internal static byte[] Seal(ReadOnlySpan<byte> label, IdentityKeys sender, string senderName, string group, GroupKey groupKey, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext, CryptoRandom random)
    {
        byte[] envelope = new byte[GetEnvelopeLength(plaintext.Length)];
        Seal(label, sender, senderName, group, groupKey, id, sentAt, plaintext, envelope, random);
        return envelope;
    }

    internal static int Seal(ReadOnlySpan<byte> label, IdentityKeys sender, string senderName, string group, GroupKey groupKey, MessageId id, DateTime sentAt, ReadOnlySpan<byte> plaintext, Span<byte> destination, CryptoRandom random)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(groupKey);
        ArgumentException.ThrowIfNullOrEmpty(senderName);
        ArgumentException.ThrowIfNullOrEmpty(group);
        int length = GetEnvelopeLength(plaintext.Length);
        if (destination.Length < length)
        {
            CryptoThrowHelper.ThrowDestinationTooSmall(nameof(destination), destination.Length, length);
        }

        if (plaintext.Overlaps(destination))
        {
            CryptoThrowHelper.ThrowOverlap(nameof(destination));
        }

        GroupBox.Seal(label, sender, senderName, group, groupKey, id, sentAt, plaintext, destination[..length], random);
        return length;
    }
}
