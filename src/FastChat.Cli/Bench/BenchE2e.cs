using System.Text.Json;
using System.Text.Json.Nodes;
using FastChat.Client;
using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// <c>--e2e</c>: the client-side encryption of DESIGN.md §5 applied to bench bodies, with the same classes
/// <see cref="FastChat.Client.Secure.SecureChatClient"/> uses. A direct message is sealed per message for its recipient
/// (ephemeral ECDH, HKDF, AES-256-GCM, signed with the sender's ECDSA key); a group message once under the group key.
/// The receiver verifies and decrypts every one before it reads the run header (send time and sequence) from the
/// plaintext, so a message that fails verification counts as unexpected, never as delivered.
/// </summary>
/// <remarks>
/// The plaintext is what a user would type: the 16-byte run header, then <see cref="Marker"/> repeated up to
/// <c>--size</c>. Each envelope is a fresh array, as with <c>SecureChatClient</c>: it must stay unchanged until the server
/// acknowledges it, since the client may send it again after a reconnect.
/// </remarks>
internal static class BenchE2e
{
    /// <summary>The readable text that pads every plaintext; it must never appear in what the servers see.</summary>
    public static ReadOnlySpan<byte> Marker => "fastchat bench plaintext. "u8;

    /// <summary>Fills a plaintext body after its run header with <see cref="Marker"/>, repeated.</summary>
    public static void FillPlaintext(Span<byte> body)
    {
        ReadOnlySpan<byte> marker = Marker;
        for (int i = BenchSettings.HeaderSize; i < body.Length; i += marker.Length)
        {
            int length = Math.Min(marker.Length, body.Length - i);
            marker[..length].CopyTo(body[i..]);
        }
    }

    /// <summary>Seals <paramref name="plaintext"/> for <paramref name="recipient"/> and hands the envelope to the sender's client.</summary>
    /// <exception cref="InvalidOperationException">The client's outbox is full, or it is not signed in.</exception>
    /// <exception cref="ChatException">The client has lost its session.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public static Task<MessageId> SendDirect(ChatClient client, BenchIdentity sender, PublicIdentity recipient, ReadOnlySpan<byte> plaintext)
    {
        byte[] envelope = SealDirect(sender, recipient, plaintext, out MessageId id, out DateTime sentAt);

        // Not the run's token: a message already on its way at the end of sending should still arrive.
        return client.SendDirectAsync(recipient.UserName, id, sentAt, envelope, CancellationToken.None);
    }

    /// <summary>Seals <paramref name="plaintext"/> for <paramref name="recipient"/> under a new message id and the current time: the bytes the servers see.</summary>
    public static byte[] SealDirect(BenchIdentity sender, PublicIdentity recipient, ReadOnlySpan<byte> plaintext, out MessageId id, out DateTime sentAt)
    {
        id = MessageId.NewId();
        sentAt = DateTime.UtcNow;
        return DirectEnvelope.Seal(sender.Keys, sender.Name, recipient, id, sentAt, plaintext);
    }

    /// <summary>Seals <paramref name="plaintext"/> under the group key and hands the envelope to the sender's client.</summary>
    /// <exception cref="InvalidOperationException">The client's outbox is full, or it is not signed in.</exception>
    /// <exception cref="ChatException">The client has lost its session.</exception>
    /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
    public static Task<MessageId> SendGroup(ChatClient client, BenchIdentity sender, string group, GroupKey key, ReadOnlySpan<byte> plaintext)
    {
        byte[] envelope = SealGroup(sender, group, key, plaintext, out MessageId id, out DateTime sentAt);
        return client.SendGroupAsync(group, key.Epoch, id, sentAt, envelope, CancellationToken.None);
    }

    /// <summary>Seals <paramref name="plaintext"/> once under the group key, for every member: the bytes the servers fan out.</summary>
    public static byte[] SealGroup(BenchIdentity sender, string group, GroupKey key, ReadOnlySpan<byte> plaintext, out MessageId id, out DateTime sentAt)
    {
        id = MessageId.NewId();
        sentAt = DateTime.UtcNow;
        return GroupEnvelope.Seal(sender.Keys, sender.Name, group, key, id, sentAt, plaintext);
    }

    /// <summary>
    /// Verifies and opens a direct message into <paramref name="plaintext"/>; <see langword="false"/> (nothing usable
    /// written) if the envelope is malformed, forged, not for this recipient, or larger than the buffer.
    /// </summary>
    public static bool TryOpenDirect(BenchIdentity recipient, PublicIdentity sender, DirectMessageReceived message, Span<byte> plaintext, out int length)
    {
        length = 0;
        int expected = message.Body.Length - DirectEnvelope.Overhead;
        if (expected < BenchSettings.HeaderSize || expected > plaintext.Length)
        {
            return false;
        }

        try
        {
            length = DirectEnvelope.Open(recipient.Keys, recipient.Name, sender, message.Id, message.SentAt, message.Body.Span, plaintext);
            return true;
        }
        catch (EnvelopeException)
        {
            // Not a message of this run (or tampered with): the caller counts it as unexpected.
            return false;
        }
    }

    /// <summary>As <see cref="TryOpenDirect"/>, for a group message under the member's key ring.</summary>
    public static bool TryOpenGroup(GroupKeyRing ring, PublicIdentity sender, GroupMessageReceived message, Span<byte> plaintext, out int length)
    {
        length = 0;
        int expected = message.Body.Length - GroupEnvelope.Overhead;
        if (expected < BenchSettings.HeaderSize || expected > plaintext.Length)
        {
            return false;
        }

        try
        {
            length = GroupEnvelope.Open(ring, sender, message.KeyEpoch, message.Id, message.SentAt, message.Body.Span, plaintext);
            return true;
        }
        catch (EnvelopeException)
        {
            // As above.
            return false;
        }
    }

    /// <summary>
    /// Adds <c>"endToEnd": true|false</c> to a result file <see cref="BenchResult.WriteJsonAsync"/> wrote, so tools can
    /// tell encrypted runs from opaque ones.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read or written.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written.</exception>
    public static async Task MarkJsonAsync(string path, bool endToEnd, CancellationToken cancellationToken)
    {
        JsonNode? root;
        await using (FileStream input = File.OpenRead(path))
        {
            root = await JsonNode.ParseAsync(input, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (root is not JsonObject result)
        {
            throw new IOException($"{path} does not hold a bench result object.");
        }

        result["endToEnd"] = endToEnd;
        await using FileStream output = File.Create(path);
        await using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        result.WriteTo(writer);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The keys a pair needs with <c>--e2e</c>: each side's own identity, and the other's public keys as the servers published them.</summary>
/// <param name="Sender">The sender's identity.</param>
/// <param name="Receiver">The receiver's identity.</param>
/// <param name="SenderPublic">The sender's public keys, as the receiver fetched them.</param>
/// <param name="ReceiverPublic">The receiver's public keys, as the sender fetched them.</param>
internal sealed record BenchPairKeys(BenchIdentity Sender, BenchIdentity Receiver, PublicIdentity SenderPublic, PublicIdentity ReceiverPublic);

/// <summary>One bench user's identity keys under its name (<c>--e2e</c>).</summary>
/// <param name="Name">The user name.</param>
/// <param name="Keys">The user's ECDH and ECDSA key pairs; their public halves were published at sign-up.</param>
internal sealed record BenchIdentity(string Name, IdentityKeys Keys);

/// <summary>
/// The identities of a run's users (<c>--e2e</c>): made at sign-up, where the public keys are published and the private
/// keys stored wrapped under the password's wrap key, as a real client does.
/// </summary>
internal sealed class BenchIdentities : IDisposable
{
    private readonly BenchIdentity?[] _identities;

    public BenchIdentities(int users) => _identities = new BenchIdentity?[users];

    /// <summary>User <paramref name="index"/>'s identity (after <see cref="SignUpAsync"/>).</summary>
    public BenchIdentity this[int index] => _identities[index] ?? throw new InvalidOperationException($"User {index} has not signed up.");

    /// <summary>Generates user <paramref name="index"/>'s keys and signs it up with them.</summary>
    /// <exception cref="ChatException">The cluster refused the sign-up.</exception>
    /// <exception cref="ChatConnectionException">The cluster could not be reached.</exception>
    public Task<SignInResult> SignUpAsync(ChatClient client, int index, string name, string password, CancellationToken cancellationToken)
    {
        var identity = new BenchIdentity(name, IdentityKeys.Generate());
        _identities[index] = identity;
        return client.SignUpAsync(name, password, wrapKey => identity.Keys.ToAccountKeys(wrapKey.Span, name), cancellationToken);
    }

    /// <summary>Fetches <paramref name="userName"/>'s public keys as the servers publish them, through <paramref name="asker"/>.</summary>
    /// <exception cref="ChatException">The server does not know the user.</exception>
    public static async Task<PublicIdentity> FetchAsync(ChatClient asker, string userName, CancellationToken cancellationToken) =>
        PublicIdentity.FromPublicKeys(await asker.GetPublicKeysAsync(userName, cancellationToken).ConfigureAwait(false));

    /// <summary>Releases every key pair.</summary>
    public void Dispose()
    {
        foreach (BenchIdentity? identity in _identities)
        {
            identity?.Keys.Dispose();
        }
    }
}
