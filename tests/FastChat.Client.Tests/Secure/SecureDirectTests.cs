using System.Security.Cryptography;
using System.Text;
using FastChat.Client.Crypto;
using FastChat.Client.History;
using FastChat.Client.Secure;
using FastChat.Client.Tests.TestSupport;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Secure;

/// <summary>Direct messages and files end to end through a real in-process cluster: encryption, history, key pins, hostile input.</summary>
public sealed class SecureDirectTests : IClassFixture<ClusterFixture>, IDisposable
{
    private static readonly TimeSpan Timeout = EventLog.DefaultTimeout;

    private readonly TestCluster _cluster;
    private readonly TempFolder _folder = new();

    public SecureDirectTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task SendText_BothWays_DecryptedRecordedAndDelivered()
    {
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");

        MessageId hello = await alice.Client.SendTextAsync(bob.Name, "hello bob, ça va? 👋").WaitAsync(Timeout);
        TextReceived atBob = await bob.Events.WaitForAsync<TextReceived>(e => e.Id == hello);
        MessageId reply = await bob.Client.SendTextAsync(alice.Name, "fine").WaitAsync(Timeout);
        TextReceived atAlice = await alice.Events.WaitForAsync<TextReceived>(e => e.Id == reply);

        Assert.Equal(alice.Name, atBob.From);
        Assert.Null(atBob.Group);
        Assert.Equal("hello bob, ça va? 👋", atBob.Text);
        Assert.Equal(bob.Name, atAlice.From);
        Assert.Equal("fine", atAlice.Text);

        // Bob acknowledged it after recording it: alice hears of the delivery, and her history says so.
        await alice.Events.WaitForAsync<MessageDeliveredTo>(e => e.Id == hello && e.Recipient == bob.Name);
        HistoryEntry? sent = await alice.Client.History.GetSentAsync(hello).WaitAsync(Timeout);
        Assert.NotNull(sent);
        Assert.Equal(DeliveryState.Delivered, sent.State);
        Assert.Equal(atBob.SentAt, sent.SentAt);

        IReadOnlyList<HistoryEntry> atBobHistory = await bob.Client.History.GetConversationAsync(alice.Name, 10).WaitAsync(Timeout);
        Assert.Collection(
            atBobHistory,
            e => Assert.True(e.Id == hello && e.Direction == HistoryDirection.Received && e.State == DeliveryState.Received && e.Text == atBob.Text),
            e => Assert.True(e.Id == reply && e.Direction == HistoryDirection.Sent && e.Text == "fine"));
    }

    [Fact]
    public async Task SendText_ToOfflineUser_RecordedAsSentThenDeliveredInOrderAtNextSignIn()
    {
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");
        await bob.GoOfflineAsync();

        var ids = new List<MessageId>();
        for (int i = 0; i < 12; i++)
        {
            ids.Add(await alice.Client.SendTextAsync(bob.Name, $"offline {i}").WaitAsync(Timeout));
        }

        // Stored, not delivered: the history says Sent, not Delivered.
        HistoryEntry? first = await alice.Client.History.GetSentAsync(ids[0]).WaitAsync(Timeout);
        Assert.Equal(DeliveryState.Sent, first!.State);

        await bob.SignInAgainAsync();
        IReadOnlyList<TextReceived> received = await bob.Events.WaitForCountAsync<TextReceived>(12);

        Assert.Equal(ids, received.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"offline {i}"), received.Select(e => e.Text));
        IReadOnlyList<HistoryEntry> atBob = await bob.Client.History.GetConversationAsync(alice.Name, 20).WaitAsync(Timeout);
        Assert.Equal(ids, atBob.Select(e => e.Id));
        Assert.All(atBob, e => Assert.Equal(DeliveryState.Received, e.State));
    }

    [Fact]
    public async Task SendFile_OneMebibyteAndImages_SavedIntactUnderFreeNames()
    {
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");
        byte[] content = RandomNumberGenerator.GetBytes(1024 * 1024);
        string report = Path.Combine(alice.Folder, "report.bin");
        await File.WriteAllBytesAsync(report, content);
        byte[] image = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a, .. RandomNumberGenerator.GetBytes(150_000)];
        string photo = Path.Combine(alice.Folder, "photo.png");
        await File.WriteAllBytesAsync(photo, image);

        MessageId reportId = await alice.Client.SendFileAsync(bob.Name, report).WaitAsync(Timeout);
        MessageId photoId = await alice.Client.SendFileAsync(bob.Name, photo).WaitAsync(Timeout);
        MessageId photoAgainId = await alice.Client.SendFileAsync(bob.Name, photo).WaitAsync(Timeout);

        FileSaved savedReport = await bob.Events.WaitForAsync<FileSaved>(e => e.Id == reportId);
        FileSaved savedPhoto = await bob.Events.WaitForAsync<FileSaved>(e => e.Id == photoId);
        FileSaved savedPhotoAgain = await bob.Events.WaitForAsync<FileSaved>(e => e.Id == photoAgainId);

        Assert.Equal(content, await File.ReadAllBytesAsync(savedReport.Path));
        Assert.Equal(Path.Combine(Path.GetFullPath(bob.Downloads), "report.bin"), savedReport.Path);
        Assert.Equal("report.bin", savedReport.FileName);
        Assert.Equal(content.Length, savedReport.Size);
        Assert.Equal(image, await File.ReadAllBytesAsync(savedPhoto.Path));
        Assert.Equal(image, await File.ReadAllBytesAsync(savedPhotoAgain.Path));

        // The second copy of the name never overwrites the first.
        Assert.Equal("photo.png", Path.GetFileName(savedPhoto.Path));
        Assert.Equal("photo (1).png", Path.GetFileName(savedPhotoAgain.Path));

        // Only the finished files are left: no temporary part files.
        Assert.Equal(["photo (1).png", "photo.png", "report.bin"], Directory.GetFiles(bob.Downloads).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal));

        IReadOnlyList<HistoryEntry> history = await bob.Client.History.GetConversationAsync(alice.Name, 10).WaitAsync(Timeout);
        HistoryEntry recorded = Assert.Single(history, e => e.Id == reportId);
        Assert.Equal(HistoryKind.File, recorded.Kind);
        Assert.Equal(savedReport.Path, recorded.FilePath);
        Assert.Equal(content.Length, recorded.FileSize);
        HistoryEntry sent = (await alice.Client.History.GetSentAsync(reportId).WaitAsync(Timeout))!;
        Assert.Equal(HistoryKind.File, sent.Kind);
        Assert.Equal(Path.GetFullPath(report), sent.FilePath);
    }

    /// <summary>Guards against a sender's file name escaping the download folder or hiding its type: only a safe last component is used.</summary>
    [Fact]
    public async Task ReceiveFile_HostileName_SavedInsideDownloadsUnderSafeName()
    {
        await using RawUser mallory = await RawUser.SignUpAsync(_cluster, "mallory");
        await using SecureUser bob = await SignUpAsync("bob");
        PublicIdentity bobIdentity = await FetchIdentityAsync(mallory, bob.Name);
        byte[] content = RandomNumberGenerator.GetBytes(70_000);

        MessageId id = await SendRawFileAsync(mallory, bob.Name, bobIdentity, "../../.bashrc\u202Egpj.sh", content);

        FileSaved saved = await bob.Events.WaitForAsync<FileSaved>(e => e.Id == id);
        Assert.Equal(Path.GetFullPath(bob.Downloads), Path.GetDirectoryName(saved.Path));
        Assert.Equal("bashrcgpj.sh", saved.FileName);
        Assert.Equal(content, await File.ReadAllBytesAsync(saved.Path));
        Assert.False(File.Exists(Path.Combine(bob.Folder, ".bashrc")));
    }

    /// <summary>Guards that a substituted key is never used silently: sends refuse, receipts wait, and only an explicit trust lifts it.</summary>
    [Fact]
    public async Task KeyChange_PinSwapped_ReportedRefusedAndTrustedOnRequest()
    {
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");
        PublicIdentity pinned = await alice.Client.GetIdentityAsync(bob.Name).WaitAsync(Timeout);
        Assert.Equal(bob.Client.Fingerprint, pinned.FingerprintText);

        // Swap bob's pin for another key while alice is away: to her, bob's real key now looks substituted.
        await alice.GoOfflineAsync();
        using IdentityKeys other = IdentityKeys.Generate();
        string fake = other.FingerprintText;
        string pins = await File.ReadAllTextAsync(alice.PinFile);
        await File.WriteAllTextAsync(alice.PinFile, pins.Replace(pinned.FingerprintText.Replace(" ", string.Empty, StringComparison.Ordinal), Convert.ToHexStringLower(other.Fingerprint.Span), StringComparison.Ordinal));
        MessageId whileInDoubt = await bob.Client.SendTextAsync(alice.Name, "sent while the key is in doubt").WaitAsync(Timeout);
        await alice.SignInAgainAsync();

        // The message from bob waits, unopened, with a warning.
        SecurityWarning held = await alice.Events.WaitForAsync<SecurityWarning>(e => e.Id == whileInDoubt);
        Assert.Contains("changed", held.Reason, StringComparison.Ordinal);
        KeyChanged changed = await alice.Events.WaitForAsync<KeyChanged>(e => e.UserName == bob.Name);
        Assert.Equal(fake, changed.PinnedFingerprint);
        Assert.Equal(bob.Client.Fingerprint, changed.NewFingerprint);

        KeyChangedException refused = await Assert.ThrowsAsync<KeyChangedException>(() => alice.Client.SendTextAsync(bob.Name, "must not go").WaitAsync(Timeout));
        Assert.Equal(bob.Name, refused.UserName);
        Assert.Equal(fake, refused.PinnedFingerprint);
        Assert.Equal(bob.Client.Fingerprint, refused.NewFingerprint);
        Assert.IsAssignableFrom<ChatException>(refused);
        await Assert.ThrowsAsync<KeyChangedException>(() => alice.Client.GetIdentityAsync(bob.Name).WaitAsync(Timeout));
        Assert.Empty(alice.Events.All<TextReceived>());
        Assert.DoesNotContain(await alice.Client.History.GetConversationAsync(bob.Name, 10).WaitAsync(Timeout), e => e.Text == "must not go");

        alice.Client.TrustNewKey(bob.Name);

        TextReceived released = await alice.Events.WaitForAsync<TextReceived>(e => e.Id == whileInDoubt);
        Assert.Equal("sent while the key is in doubt", released.Text);
        MessageId after = await alice.Client.SendTextAsync(bob.Name, "trusted now").WaitAsync(Timeout);
        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == after);
        Assert.Equal(bob.Client.Fingerprint, (await alice.Client.GetIdentityAsync(bob.Name).WaitAsync(Timeout)).FingerprintText);
        Assert.True(alice.Client.Pins!.TryGetPin(bob.Name, out string? repinned));
        Assert.Equal(bob.Client.Fingerprint, repinned);
        Assert.Throws<InvalidOperationException>(() => alice.Client.TrustNewKey(bob.Name));
    }

    /// <summary>Guards that garbage, flipped bytes, foreign envelopes and unknown payloads are refused, reported and acknowledged without stopping the client.</summary>
    [Fact]
    public async Task TamperedMessages_RefusedWithWarningsAcknowledgedAndClientKeepsWorking()
    {
        await using RawUser mallory = await RawUser.SignUpAsync(_cluster, "mallory");
        await using SecureUser alice = await SignUpAsync("alice");
        await using SecureUser bob = await SignUpAsync("bob");
        PublicIdentity bobIdentity = await FetchIdentityAsync(mallory, bob.Name);
        PublicIdentity aliceIdentity = await FetchIdentityAsync(mallory, alice.Name);

        MessageId garbage = await mallory.Client.SendDirectAsync(bob.Name, RandomNumberGenerator.GetBytes(300)).WaitAsync(Timeout);

        MessageId flippedId = MessageId.NewId();
        DateTime now = DateTime.UtcNow;
        byte[] flipped = DirectEnvelope.Seal(mallory.Keys, mallory.Name, bobIdentity, flippedId, now, Text("flipped"));
        flipped[95] ^= 0x01;
        await mallory.Client.SendDirectAsync(bob.Name, flippedId, now, flipped).WaitAsync(Timeout);

        MessageId foreignId = MessageId.NewId();
        // Addressed to bob by name, but sealed to alice's key (as a server substituting bob's key would get it sealed).
        var bobNameAliceKey = new PublicIdentity(bob.Name, aliceIdentity.AgreementPublicKey.Span, aliceIdentity.SigningPublicKey.Span);
        byte[] forAlice = DirectEnvelope.Seal(mallory.Keys, mallory.Name, bobNameAliceKey, foreignId, now, Text("for alice"));
        await mallory.Client.SendDirectAsync(bob.Name, foreignId, now, forAlice).WaitAsync(Timeout);

        MessageId unknownTypeId = MessageId.NewId();
        byte[] unknownType = DirectEnvelope.Seal(mallory.Keys, mallory.Name, bobIdentity, unknownTypeId, now, [0x7f, 1, 2, 3]);
        await mallory.Client.SendDirectAsync(bob.Name, unknownTypeId, now, unknownType).WaitAsync(Timeout);

        MessageId reframedId = MessageId.NewId();
        byte[] reframed = DirectEnvelope.Seal(mallory.Keys, mallory.Name, bobIdentity, reframedId, now, Text("time moved"));
        await mallory.Client.SendDirectAsync(bob.Name, reframedId, now.AddTicks(1), reframed).WaitAsync(Timeout);

        MessageId goodId = MessageId.NewId();
        byte[] good = DirectEnvelope.Seal(mallory.Keys, mallory.Name, bobIdentity, goodId, now, Text("still working"));
        await mallory.Client.SendDirectAsync(bob.Name, goodId, now, good).WaitAsync(Timeout);

        Assert.Equal("still working", (await bob.Events.WaitForAsync<TextReceived>(e => e.Id == goodId)).Text);
        IReadOnlyList<SecurityWarning> warnings = await bob.Events.WaitForCountAsync<SecurityWarning>(5);
        Assert.Equal([garbage, flippedId, foreignId, unknownTypeId, reframedId], warnings.Select(w => w.Id!.Value));
        Assert.All(warnings, w => Assert.Equal(mallory.Name, w.From));
        Assert.Contains("signature", warnings[1].Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("another key", warnings[2].Reason, StringComparison.Ordinal);
        Assert.Contains("0x7f", warnings[3].Reason, StringComparison.Ordinal);
        Assert.Contains("signature", warnings[4].Reason, StringComparison.OrdinalIgnoreCase);
        IReadOnlyList<HistoryEntry> history = await bob.Client.History.GetConversationAsync(mallory.Name, 10).WaitAsync(Timeout);
        Assert.Equal([goodId], history.Select(e => e.Id));

        // Acknowledged: a new session gets none of them again (a later message arrives behind anything pending).
        await bob.GoOfflineAsync();
        await bob.SignInAgainAsync();
        MessageId marker = await alice.Client.SendTextAsync(bob.Name, "marker").WaitAsync(Timeout);
        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == marker);
        Assert.Empty(bob.Events.All<SecurityWarning>());
        Assert.Single(bob.Events.All<TextReceived>());
    }

    /// <summary>Guards against replays: an exact copy of a recorded message is dropped silently, even across sign-ins; a copy moved to another id fails its signature.</summary>
    [Fact]
    public async Task Replay_SameEnvelopeAgain_DroppedAndAcknowledged()
    {
        await using RawUser mallory = await RawUser.SignUpAsync(_cluster, "mallory");
        await using SecureUser bob = await SignUpAsync("bob");
        PublicIdentity bobIdentity = await FetchIdentityAsync(mallory, bob.Name);
        MessageId id = MessageId.NewId();
        DateTime sentAt = DateTime.UtcNow;
        byte[] envelope = DirectEnvelope.Seal(mallory.Keys, mallory.Name, bobIdentity, id, sentAt, Text("only once"));
        await mallory.Client.SendDirectAsync(bob.Name, id, sentAt, envelope).WaitAsync(Timeout);
        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == id);

        // Replayed to a fresh session (nothing of the first one in memory) and under a new id.
        await bob.GoOfflineAsync();
        await mallory.Client.SendDirectAsync(bob.Name, id, sentAt, envelope).WaitAsync(Timeout);
        MessageId movedId = MessageId.NewId();
        await mallory.Client.SendDirectAsync(bob.Name, movedId, sentAt, envelope).WaitAsync(Timeout);
        MessageId fresh = MessageId.NewId();
        await mallory.Client.SendDirectAsync(bob.Name, fresh, sentAt, DirectEnvelope.Seal(mallory.Keys, mallory.Name, bobIdentity, fresh, sentAt, Text("fresh"))).WaitAsync(Timeout);
        await bob.SignInAgainAsync();

        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == fresh);
        Assert.Equal([fresh], bob.Events.All<TextReceived>().Select(e => e.Id));
        SecurityWarning moved = Assert.Single(bob.Events.All<SecurityWarning>());
        Assert.Equal(movedId, moved.Id);
        IReadOnlyList<HistoryEntry> history = await bob.Client.History.GetConversationAsync(mallory.Name, 10).WaitAsync(Timeout);
        Assert.Equal([id, fresh], history.Select(e => e.Id));

        // The replay was acknowledged too: a third session gets nothing but what is sent to it.
        await bob.GoOfflineAsync();
        await bob.SignInAgainAsync();
        MessageId marker = MessageId.NewId();
        await mallory.Client.SendDirectAsync(bob.Name, marker, sentAt, DirectEnvelope.Seal(mallory.Keys, mallory.Name, bobIdentity, marker, sentAt, Text("marker"))).WaitAsync(Timeout);
        await bob.Events.WaitForAsync<TextReceived>(e => e.Id == marker);
        Assert.Single(bob.Events.All<TextReceived>());
        Assert.Empty(bob.Events.All<SecurityWarning>());
    }

    /// <summary>Guards the sign-in against a balancer that lowers the PBKDF2 cost to make the auth key cheap to attack.</summary>
    [Fact]
    public async Task SignIn_BalancerAsksForTooFewIterations_RefusedWithChatException()
    {
        string name = TestCluster.NewName("weak");
        await _cluster.Store.CreateAccountAsync(new Account(
            name,
            PasswordKeys.Algorithm,
            RandomNumberGenerator.GetBytes(16),
            ChatClientOptions.MinimumKdfIterations - 1,
            RandomNumberGenerator.GetBytes(16),
            RandomNumberGenerator.GetBytes(32),
            RandomNumberGenerator.GetBytes(91),
            RandomNumberGenerator.GetBytes(91),
            RandomNumberGenerator.GetBytes(93),
            DateTime.UtcNow)).WaitAsync(Timeout);
        await using var client = new SecureChatClient(new SecureChatOptions { Client = _cluster.ClientOptions(), DataDirectory = Path.Combine(_folder.Path, name) });

        ChatException error = await Assert.ThrowsAsync<ChatException>(() => client.SignInAsync(name, "whatever").WaitAsync(Timeout));

        Assert.Equal(ErrorCode.ProtocolViolation, error.ErrorCode);
        Assert.Contains("99999", error.Message, StringComparison.Ordinal);
        Assert.False(client.IsSignedIn);
    }

    [Fact]
    public async Task NotSignedIn_OperationsThrowInvalidOperation()
    {
        await using var client = new SecureChatClient(new SecureChatOptions { Client = _cluster.ClientOptions() });

        Assert.Throws<InvalidOperationException>(() => client.UserName);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.SendTextAsync("bob", "hi"));
        await client.SignOutAsync();
        Assert.Equal(ConnectionState.Disconnected, client.State);
    }

    private static byte[] Text(string text) => [0x01, .. Encoding.UTF8.GetBytes(text)];

    private static async Task<PublicIdentity> FetchIdentityAsync(RawUser user, string name) =>
        PublicIdentity.FromPublicKeys(await user.Client.GetPublicKeysAsync(name).WaitAsync(Timeout));

    private static async Task<MessageId> SendRawFileAsync(RawUser sender, string recipient, PublicIdentity recipientIdentity, string fileName, byte[] content)
    {
        MessageId id = MessageId.NewId();
        DateTime sentAt = DateTime.UtcNow;
        FileManifest manifest = FileManifest.Create(fileName, content);
        byte[] envelope = manifest.SealForUser(sender.Keys, sender.Name, recipientIdentity, id, sentAt);
        ReadOnlyMemory<byte>[] chunks = FileEncryptor.EncryptFile(id, manifest, content);
        return await sender.Client.SendFileAsync(recipient, id, sentAt, envelope, content.Length, chunks).WaitAsync(Timeout);
    }

    private Task<SecureUser> SignUpAsync(string prefix) => SecureUser.SignUpAsync(_cluster, _folder.Path, prefix);
}
