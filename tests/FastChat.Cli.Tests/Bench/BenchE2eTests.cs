using System.Buffers.Binary;
using System.Text.Json;
using FastChat.Cli.Bench;
using FastChat.Client;
using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Tests.Bench;

/// <summary><c>fastchat bench --e2e</c>: real client-side encryption on every message, with counts as exact as without.</summary>
public sealed class BenchE2eTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BenchDm_EndToEndOrNot_DeliversEveryMessageOnceAndSaysWhich(bool endToEnd)
    {
        using var folder = new TestFolder();
        string json = folder.Combine("dm.json");
        string[] arguments = ["bench", "dm", "--spawn", "--pairs", "2", "--messages", "400", "--size", "300", "--json", json];
        if (endToEnd)
        {
            arguments = [.. arguments, "--e2e"];
        }

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(arguments);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains(endToEnd ? "end-to-end encrypted: yes" : "end-to-end encrypted: no", stdout, StringComparison.Ordinal);
        using JsonDocument result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = result.RootElement;
        Assert.Equal(endToEnd, root.GetProperty("endToEnd").GetBoolean());
        Assert.Equal(400, root.GetProperty("sent").GetInt64());
        Assert.Equal(400, root.GetProperty("acked").GetInt64());
        Assert.Equal(400, root.GetProperty("delivered").GetInt64());
        Assert.Equal(0, root.GetProperty("lost").GetInt64());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, root.GetProperty("unexpected").GetInt64());
        Assert.Equal(400, root.GetProperty("latency").GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task BenchPingPong_EndToEnd_EchoesEveryMessageSealedBothWays()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("pingpong.json");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(
            "bench", "pingpong", "--spawn", "--servers", "1", "--pairs", "1", "--messages", "200", "--window", "8", "--e2e", "--json", json);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        using JsonDocument result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = result.RootElement;
        Assert.True(root.GetProperty("endToEnd").GetBoolean());
        Assert.Equal(400, root.GetProperty("sent").GetInt64());
        Assert.Equal(400, root.GetProperty("delivered").GetInt64());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, root.GetProperty("unexpected").GetInt64());
        Assert.Equal(200, root.GetProperty("latency").GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task BenchGroup_EndToEnd_DeliversEveryMessageToEveryOtherMemberOnce()
    {
        using var folder = new TestFolder();
        string json = folder.Combine("group.json");

        var (exitCode, stdout, stderr) = await FastChatProcess.RunAsync(
            "bench", "group", "--spawn", "--group-size", "4", "--senders", "2", "--messages", "300", "--e2e", "--json", json);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");
        Assert.Contains("end-to-end encrypted: yes", stdout, StringComparison.Ordinal);
        using JsonDocument result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        JsonElement root = result.RootElement;
        Assert.True(root.GetProperty("endToEnd").GetBoolean());
        Assert.Equal(300, root.GetProperty("sent").GetInt64());
        Assert.Equal(900, root.GetProperty("expectedDeliveries").GetInt64());
        Assert.Equal(900, root.GetProperty("delivered").GetInt64());
        Assert.Equal(0, root.GetProperty("lost").GetInt64());
        Assert.Equal(0, root.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, root.GetProperty("unexpected").GetInt64());
    }

    /// <summary>Guards the e2e body: the run header survives sealing and opening, and neither it nor the readable plaintext appears in the bytes the servers get.</summary>
    [Fact]
    public void SealDirect_BenchBody_RoundTripsTheHeaderAndHidesThePlaintext()
    {
        using var alice = IdentityKeys.Generate();
        using var bob = IdentityKeys.Generate();
        var sender = new BenchIdentity("alice", alice);
        var recipient = new BenchIdentity("bob", bob);
        var tracker = new SendTracker(300, prefill: 1, plaintext: true);
        SendTracker.Body body = tracker.Begin(intendedTimestamp: 0x0102_0304_0506_0708, sequence: 4242);
        Assert.True(body.Bytes.AsSpan().IndexOf(BenchE2e.Marker) >= 0, "the plaintext carries the marker");

        byte[] envelope = BenchE2e.SealDirect(sender, bob.ToPublicIdentity("bob"), body.Bytes, out MessageId id, out DateTime sentAt);

        Assert.Equal(-1, envelope.AsSpan().IndexOf(BenchE2e.Marker));
        Assert.Equal(-1, envelope.AsSpan().IndexOf(body.Bytes.AsSpan(0, BenchSettings.HeaderSize)));
        var received = new DirectMessageReceived(id, "alice", sentAt, envelope);
        byte[] plaintext = new byte[300];
        Assert.True(BenchE2e.TryOpenDirect(recipient, alice.ToPublicIdentity("alice"), received, plaintext, out int length));
        Assert.Equal(300, length);
        Assert.Equal(0x0102_0304_0506_0708, BinaryPrimitives.ReadInt64LittleEndian(plaintext));
        Assert.Equal(4242, BinaryPrimitives.ReadInt64LittleEndian(plaintext.AsSpan(8)));
        Assert.Equal(body.Bytes, plaintext);
    }

    /// <summary>Guards the counting: an envelope changed in transit, or one sealed for someone else, never counts as a delivery.</summary>
    [Fact]
    public void TryOpenDirect_TamperedOrForeignEnvelope_IsRefused()
    {
        using var alice = IdentityKeys.Generate();
        using var bob = IdentityKeys.Generate();
        using var carol = IdentityKeys.Generate();
        var tracker = new SendTracker(64, prefill: 1, plaintext: true);
        SendTracker.Body body = tracker.Begin(intendedTimestamp: 7, sequence: 1);
        byte[] envelope = BenchE2e.SealDirect(new BenchIdentity("alice", alice), bob.ToPublicIdentity("bob"), body.Bytes, out MessageId id, out DateTime sentAt);
        byte[] tampered = (byte[])envelope.Clone();
        tampered[^1] ^= 1;
        byte[] plaintext = new byte[64];

        Assert.False(BenchE2e.TryOpenDirect(new BenchIdentity("bob", bob), alice.ToPublicIdentity("alice"), new DirectMessageReceived(id, "alice", sentAt, tampered), plaintext, out _));
        Assert.False(BenchE2e.TryOpenDirect(new BenchIdentity("carol", carol), alice.ToPublicIdentity("alice"), new DirectMessageReceived(id, "alice", sentAt, envelope), plaintext, out _));
        Assert.True(BenchE2e.TryOpenDirect(new BenchIdentity("bob", bob), alice.ToPublicIdentity("alice"), new DirectMessageReceived(id, "alice", sentAt, envelope), plaintext, out _));
    }

    /// <summary>Guards the group body: sealed once under the group key, opened by a member's key ring with the header intact, the plaintext never in the fanned-out bytes.</summary>
    [Fact]
    public void SealGroup_BenchBody_RoundTripsForAMemberAndHidesThePlaintext()
    {
        using var alice = IdentityKeys.Generate();
        GroupKey key = GroupKey.Generate(3);
        var ring = new GroupKeyRing("g");
        ring.Add(key);
        var tracker = new SendTracker(200, prefill: 1, plaintext: true);
        SendTracker.Body body = tracker.Begin(intendedTimestamp: 99, sequence: 12);

        byte[] envelope = BenchE2e.SealGroup(new BenchIdentity("alice", alice), "g", key, body.Bytes, out MessageId id, out DateTime sentAt);

        Assert.Equal(-1, envelope.AsSpan().IndexOf(BenchE2e.Marker));
        byte[] plaintext = new byte[200];
        var received = new GroupMessageReceived(id, "alice", "g", key.Epoch, sentAt, envelope);
        Assert.True(BenchE2e.TryOpenGroup(ring, alice.ToPublicIdentity("alice"), received, plaintext, out int length));
        Assert.Equal(200, length);
        Assert.Equal(99, BinaryPrimitives.ReadInt64LittleEndian(plaintext));
        Assert.Equal(12, BinaryPrimitives.ReadInt64LittleEndian(plaintext.AsSpan(8)));
    }
}
