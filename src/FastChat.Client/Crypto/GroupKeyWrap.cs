using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FastChat.Client.Crypto.Internal;

namespace FastChat.Client.Crypto;

/// <summary>
/// Wraps a group key for one member (<c>GroupKeyEnvelope.Envelope</c>): a sealed envelope from the admin to the member,
/// built like a direct message, holding the group's name, the epoch and the key.
/// </summary>
/// <remarks>
/// <para>Format (docs/security.md has it byte by byte): the direct-message layout with its own label and context,</para>
/// <code>
/// version 0x01 (1) | member key id (8) | ephemeral P-256 point (65) | nonce (12) | ciphertext (n) | tag (16) | signature (64)
/// context   = str(group) || epoch (int32)          (in place of a message's id and time)
/// plaintext = version 0x01 (1) | epoch (4) | key (32) | str(group)
/// key       = HKDF-SHA256(ECDH(ephemeral, member), salt = none, info = str("fastchat group key v1") || str(admin) || str(member))
/// </code>
/// <para>
/// The envelope is signed by the admin and bound to the group and epoch, so a member accepts a key only from the user
/// it believes to be the group's admin, only for the group and epoch it was issued for.
/// </para>
/// </remarks>
public static class GroupKeyWrap
{
    /// <summary>The format's version byte (of the envelope and of the payload inside it).</summary>
    public const byte Version = SealedBox.Version;

    private const string What = "group key";
    private const int PayloadFixedSize = 1 + sizeof(int) + GroupKey.KeySize;

    /// <summary>Wraps a group key for one member.</summary>
    /// <param name="admin">The admin's keys (signs the envelope).</param>
    /// <param name="adminName">The admin's user name, as the server will fill it into the envelope's message.</param>
    /// <param name="member">The member's public identity.</param>
    /// <param name="group">The group.</param>
    /// <param name="groupKey">The key to wrap; its epoch goes into the message's <c>epoch</c> field.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="admin"/>, <paramref name="member"/> or <paramref name="groupKey"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="adminName"/> or <paramref name="group"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="admin"/> was disposed.</exception>
    public static byte[] Seal(IdentityKeys admin, string adminName, PublicIdentity member, string group, GroupKey groupKey) =>
        Seal(admin, adminName, member, group, groupKey, CryptoRandom.Default);

    /// <summary>Verifies and unwraps a group key.</summary>
    /// <param name="member">The member's keys.</param>
    /// <param name="memberName">The member the envelope is addressed to (its <c>member</c> field), normally this user.</param>
    /// <param name="admin">The public identity of the group's admin: the only user whose key envelopes a member should accept.</param>
    /// <param name="group">The envelope's group.</param>
    /// <param name="epoch">The envelope's epoch.</param>
    /// <param name="envelope">The envelope.</param>
    /// <returns>The group key for <paramref name="epoch"/>, to add to the member's <see cref="GroupKeyRing"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="member"/> or <paramref name="admin"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="memberName"/> or <paramref name="group"/> is empty or not valid text.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="member"/> was disposed.</exception>
    /// <exception cref="EnvelopeException">
    /// <see cref="EnvelopeFailure.Malformed"/>, <see cref="EnvelopeFailure.UnsupportedVersion"/>,
    /// <see cref="EnvelopeFailure.BadSignature"/> (not from <paramref name="admin"/>, modified, or for another group or
    /// epoch), <see cref="EnvelopeFailure.WrongRecipient"/> or <see cref="EnvelopeFailure.Tampered"/>.
    /// </exception>
    public static GroupKey Open(IdentityKeys member, string memberName, PublicIdentity admin, string group, int epoch, ReadOnlySpan<byte> envelope)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentException.ThrowIfNullOrEmpty(memberName);
        ArgumentException.ThrowIfNullOrEmpty(group);

        int payloadLength = SealedBox.CheckFormat(What, envelope);
        using var context = new ScratchBuffer(ContextSize(group), stackalloc byte[256]);
        WriteContext(context.Span, group, epoch);
        using var payload = new ScratchBuffer(payloadLength, stackalloc byte[256]);
        SealedBox.Open(Labels.GroupKey, What, member, memberName, admin, context.Span, ReadOnlySpan<byte>.Empty, envelope, payload.Span);
        return ParsePayload(payload.Span, group, epoch, admin.UserName);
    }

    internal static byte[] Seal(IdentityKeys admin, string adminName, PublicIdentity member, string group, GroupKey groupKey, CryptoRandom random)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(groupKey);
        ArgumentException.ThrowIfNullOrEmpty(adminName);
        ArgumentException.ThrowIfNullOrEmpty(group);

        int contextSize = ContextSize(group);
        using var context = new ScratchBuffer(contextSize, stackalloc byte[256]);
        WriteContext(context.Span, group, groupKey.Epoch);

        // payload = version || epoch || key || str(group); the context's str(group) is its tail.
        using var payload = new ScratchBuffer(PayloadFixedSize + contextSize - sizeof(int), stackalloc byte[256]);
        payload.Span[0] = Version;
        BinaryPrimitives.WriteInt32BigEndian(payload.Span[1..], groupKey.Epoch);
        groupKey.Key.CopyTo(payload.Span[(1 + sizeof(int))..]);
        context.Span[..^sizeof(int)].CopyTo(payload.Span[PayloadFixedSize..]);

        byte[] envelope = new byte[payload.Span.Length + SealedBox.Overhead];
        SealedBox.Seal(Labels.GroupKey, admin, adminName, member, context.Span, ReadOnlySpan<byte>.Empty, payload.Span, envelope, random);
        return envelope;
    }

    // context = str(group) || epoch
    private static int ContextSize(string group) => ByteWriter.StringSize(group, nameof(group)) + sizeof(int);

    private static void WriteContext(Span<byte> destination, string group, int epoch)
    {
        var writer = new ByteWriter(destination);
        writer.WriteString(group);
        writer.WriteInt32(epoch);
    }

    private static GroupKey ParsePayload(ReadOnlySpan<byte> payload, string group, int epoch, string adminName)
    {
        // The admin signed the payload together with the group and epoch it was opened under, so a mismatch here is
        // the admin's own inconsistency, never a third party's edit.
        if (payload.Length < PayloadFixedSize + sizeof(ushort))
        {
            CryptoThrowHelper.ThrowMalformed($"The group key from '{adminName}' for group '{group}' holds {payload.Length} bytes; a group key payload has at least {PayloadFixedSize + sizeof(ushort)}.");
        }

        if (payload[0] != Version)
        {
            CryptoThrowHelper.ThrowUnsupportedVersion("the group key payload", payload[0]);
        }

        int innerEpoch = BinaryPrimitives.ReadInt32BigEndian(payload[1..]);
        ReadOnlySpan<byte> name = payload[PayloadFixedSize..];
        int nameLength = BinaryPrimitives.ReadUInt16BigEndian(name);
        bool groupMatches;
        try
        {
            groupMatches = name.Length == sizeof(ushort) + nameLength
                && string.Equals(ByteWriter.StrictUtf8.GetString(name[sizeof(ushort)..]), group, StringComparison.Ordinal);
        }
        catch (DecoderFallbackException)
        {
            groupMatches = false;
        }

        if (innerEpoch != epoch || !groupMatches)
        {
            CryptoThrowHelper.ThrowMalformed($"The group key from '{adminName}' names another group or epoch than the envelope it came in (group '{group}', epoch {epoch}).");
        }

        return new GroupKey(epoch, payload.Slice(1 + sizeof(int), GroupKey.KeySize));
    }
}
