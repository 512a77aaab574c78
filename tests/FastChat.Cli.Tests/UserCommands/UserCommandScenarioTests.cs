using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace FastChat.Cli.Tests.UserCommands;

/// <summary>
/// The scripted commands end to end, as the original systems were used: real <c>fastchat</c> processes (one per command)
/// against a real <c>fastchat serve</c>. Each test uses its own users.
/// </summary>
public sealed class UserCommandScenarioTests : IClassFixture<UserCluster>
{
    // The smallest valid PNG: one transparent pixel (signature, IHDR, IDAT, IEND with their CRCs).
    private static readonly byte[] s_png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    private readonly UserCluster _cluster;

    public UserCommandScenarioTests(UserCluster cluster)
    {
        _cluster = cluster;
    }

    [Fact]
    public async Task DirectMessages_BothWaysAndOffline_InboxPrintsThemInOrderAndHistoryShowsBothDirections()
    {
        CommandResult amySignUp = (await _cluster.RunAsync("amy", "signup")).AssertSuccess();
        CommandResult benSignUp = (await _cluster.RunAsync("ben", "signup", "--json")).AssertSuccess();
        Assert.Contains("signed up amy", amySignUp.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"fingerprint \S+", amySignUp.Stdout);
        JsonElement signedUp = Assert.Single(benSignUp.JsonLines());
        Assert.Equal("signed-up", signedUp.GetProperty("event").GetString());
        Assert.Equal("ben", signedUp.GetProperty("user").GetString());
        Assert.False(string.IsNullOrWhiteSpace(signedUp.GetProperty("fingerprint").GetString()));

        // Ben is offline: the three wait on the server and must come out in the order they were sent.
        var sentIds = new List<string>();
        foreach (string text in new[] { "one", "two ✓ ünïcode", "three" })
        {
            CommandResult sent = (await _cluster.RunAsync("amy", "dm", "--to", "ben", "--text", text, "--json")).AssertSuccess();
            JsonElement line = Assert.Single(sent.JsonLines());
            Assert.Equal("sent", line.GetProperty("event").GetString());
            Assert.Equal("ben", line.GetProperty("to").GetString());
            Assert.Equal(JsonValueKind.Null, line.GetProperty("group").ValueKind);
            sentIds.Add(line.GetProperty("id").GetString()!);
        }

        Assert.Equal(3, sentIds.Distinct(StringComparer.Ordinal).Count());

        CommandResult benInbox = (await _cluster.RunAsync("ben", "inbox", "--json", "--wait", "3")).AssertSuccess();
        JsonElement[] messages = benInbox.Events("message");
        Assert.True(messages.Length == 3, benInbox.ToString());
        Assert.Equal(["one", "two ✓ ünïcode", "three"], messages.Select(m => m.GetProperty("text").GetString()));
        Assert.Equal(sentIds, messages.Select(m => m.GetProperty("id").GetString()));
        foreach (JsonElement message in messages)
        {
            Assert.Equal("amy", message.GetProperty("from").GetString());
            Assert.Equal(JsonValueKind.Null, message.GetProperty("group").ValueKind);
            Assert.Equal(JsonValueKind.Null, message.GetProperty("file").ValueKind);
            string sentAt = message.GetProperty("sent").GetString()!;
            Assert.EndsWith("Z", sentAt, StringComparison.Ordinal);
            DateTime parsed = DateTime.Parse(sentAt, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            Assert.InRange(parsed, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));
        }

        // Acknowledged and recorded: a second inbox has nothing new.
        CommandResult again = (await _cluster.RunAsync("ben", "inbox", "--wait", "0.5")).AssertSuccess();
        Assert.Contains("no new messages", again.Stdout, StringComparison.Ordinal);

        (await _cluster.RunAsync("ben", "dm", "--to", "amy", "--text", "hi amy")).AssertSuccess();
        CommandResult amyInbox = (await _cluster.RunAsync("amy", "inbox")).AssertSuccess();
        Assert.Contains("ben: hi amy (id ", amyInbox.Stdout, StringComparison.Ordinal);

        CommandResult history = (await _cluster.RunAsync("amy", "history", "--with", "ben", "--json")).AssertSuccess();
        JsonElement[] entries = history.Events("history");
        Assert.True(entries.Length == 4, history.ToString());
        Assert.Equal(["sent", "sent", "sent", "received"], entries.Select(e => e.GetProperty("direction").GetString()));
        Assert.Equal(["one", "two ✓ ünïcode", "three", "hi amy"], entries.Select(e => e.GetProperty("text").GetString()));
        Assert.All(entries, e => Assert.Equal("ben", e.GetProperty("peer").GetString()));
        // Ben was offline when they were sent: the server stored them and acknowledged ("sent"); receipts are live-only.
        Assert.All(entries.Take(3), e => Assert.Equal("sent", e.GetProperty("state").GetString()));
        Assert.Equal("received", entries[3].GetProperty("state").GetString());
        Assert.Equal(sentIds, entries.Take(3).Select(e => e.GetProperty("id").GetString()));

        CommandResult benHistory = (await _cluster.RunAsync("ben", "history", "--limit", "2")).AssertSuccess();
        string[] lines = benHistory.Lines();
        Assert.True(lines.Length == 2, benHistory.ToString());
        Assert.Contains("from amy: three [received]", lines[0], StringComparison.Ordinal);
        Assert.Contains("to amy: hi amy [", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DirectMessage_RecipientListening_ArrivesLiveAndIsMarkedDelivered()
    {
        await _cluster.SignUpAsync("cat", "dan");

        // Dan listens; once the balancer's load reports show his connection (and no one else's: the sign-ups' are gone
        // first), Cat's message can only arrive live.
        await WaitForConnectionsAsync(count => count == 0, "no");
        Task<CommandResult> listening = _cluster.RunAsync("dan", "inbox", "--json", "--wait", "10");
        await WaitForConnectionsAsync(count => count >= 1, "Dan's");
        CommandResult sent = (await _cluster.RunAsync("cat", "dm", "--to", "dan", "--text", "live one", "--json")).AssertSuccess();
        string id = Assert.Single(sent.Events("sent")).GetProperty("id").GetString()!;

        CommandResult inbox = (await listening).AssertSuccess();
        JsonElement message = Assert.Single(inbox.Events("message"));
        Assert.Equal("live one", message.GetProperty("text").GetString());
        Assert.Equal(id, message.GetProperty("id").GetString());

        // The server acknowledged Cat only after Dan did, so Cat's history says delivered.
        CommandResult history = (await _cluster.RunAsync("cat", "history", "--with", "dan", "--json")).AssertSuccess();
        JsonElement entry = Assert.Single(history.Events("history"));
        Assert.Equal("delivered", entry.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Files_FileAndImage_SavedIntactInTheDownloadFolder()
    {
        await _cluster.SignUpAsync("eve", "fay");
        byte[] blob = RandomNumberGenerator.GetBytes(200_000); // four 64 KiB chunks, the last one partial
        string blobPath = Path.Combine(_cluster.Folder, "report.bin");
        string imagePath = Path.Combine(_cluster.Folder, "pixel.png");
        await File.WriteAllBytesAsync(blobPath, blob);
        await File.WriteAllBytesAsync(imagePath, s_png);

        CommandResult first = (await _cluster.RunAsync("eve", "dm", "--to", "fay", "--file", blobPath)).AssertSuccess();
        CommandResult second = (await _cluster.RunAsync("eve", "dm", "--to", "fay", "--file", imagePath)).AssertSuccess();
        Assert.Matches("^sent [0-9a-f]{32} to fay$", first.Lines()[0]);
        Assert.Matches("^sent [0-9a-f]{32} to fay$", second.Lines()[0]);

        string downloads = _cluster.DownloadsOf("fay");
        CommandResult inbox = (await _cluster.RunAsync("fay", "inbox", "--json", "--wait", "3", "--download-dir", downloads)).AssertSuccess();
        JsonElement[] files = inbox.Events("message");
        Assert.True(files.Length == 2, inbox.ToString());
        Assert.All(files, f => Assert.Equal(JsonValueKind.Null, f.GetProperty("text").ValueKind));
        string savedBlob = files[0].GetProperty("file").GetString()!;
        string savedImage = files[1].GetProperty("file").GetString()!;
        Assert.Equal(Path.GetFullPath(downloads), Path.GetDirectoryName(savedBlob));
        Assert.Equal(Path.GetFullPath(downloads), Path.GetDirectoryName(savedImage));
        Assert.Equal(blob, await File.ReadAllBytesAsync(savedBlob));
        Assert.Equal(s_png, await File.ReadAllBytesAsync(savedImage));
        Assert.EndsWith(".png", savedImage, StringComparison.Ordinal);

        CommandResult history = (await _cluster.RunAsync("fay", "history", "--with", "eve", "--json")).AssertSuccess();
        Assert.Equal([savedBlob, savedImage], history.Events("history").Select(e => e.GetProperty("file").GetString()));
    }

    [Fact]
    public async Task Group_CreateAddSendRemoveLeave_MembersAndInboxFollowEveryStep()
    {
        await _cluster.SignUpAsync("gil", "hal");

        CommandResult created = (await _cluster.RunAsync("gil", "group", "create", "crew", "--json")).AssertSuccess();
        JsonElement createdEvent = Assert.Single(created.JsonLines());
        Assert.Equal("group-created", createdEvent.GetProperty("event").GetString());
        Assert.Equal("gil", createdEvent.GetProperty("admin").GetString());
        Assert.Contains("added hal to crew", (await _cluster.RunAsync("gil", "group", "add", "crew", "hal")).AssertSuccess().Stdout, StringComparison.Ordinal);

        CommandResult members = (await _cluster.RunAsync("gil", "group", "members", "crew", "--json")).AssertSuccess();
        Assert.Equal(
            ["gil:True", "hal:False"],
            members.Events("member").Select(m => $"{m.GetProperty("member").GetString()}:{m.GetProperty("admin").GetBoolean()}").Order(StringComparer.Ordinal));

        string photo = Path.Combine(_cluster.Folder, "crew.png");
        await File.WriteAllBytesAsync(photo, s_png);
        CommandResult sentText = (await _cluster.RunAsync("gil", "group", "send", "crew", "--text", "hello crew", "--json")).AssertSuccess();
        JsonElement sentEvent = Assert.Single(sentText.JsonLines());
        Assert.Equal("crew", sentEvent.GetProperty("group").GetString());
        (await _cluster.RunAsync("gil", "group", "send", "crew", "--file", photo)).AssertSuccess();

        CommandResult inbox = (await _cluster.RunAsync("hal", "inbox", "--json", "--wait", "3", "--download-dir", _cluster.DownloadsOf("hal"))).AssertSuccess();
        JsonElement[] received = inbox.Events("message");
        Assert.True(received.Length == 2, inbox.ToString());
        Assert.All(received, m => Assert.Equal("crew", m.GetProperty("group").GetString()));
        Assert.All(received, m => Assert.Equal("gil", m.GetProperty("from").GetString()));
        Assert.Equal("hello crew", received[0].GetProperty("text").GetString());
        Assert.Equal(sentEvent.GetProperty("id").GetString(), received[0].GetProperty("id").GetString());
        Assert.Equal(s_png, await File.ReadAllBytesAsync(received[1].GetProperty("file").GetString()!));

        // Remove: the member list shrinks and the former member can no longer send.
        Assert.Contains("removed hal from crew", (await _cluster.RunAsync("gil", "group", "remove", "crew", "hal")).AssertSuccess().Stdout, StringComparison.Ordinal);
        CommandResult after = (await _cluster.RunAsync("gil", "group", "members", "crew")).AssertSuccess();
        Assert.Equal(["gil (admin)"], after.Lines());
        (await _cluster.RunAsync("hal", "group", "send", "crew", "--text", "still here?")).AssertFailure(4, "not a member");

        // Leave: the admin sees the member gone and can still send to the group under the rotated key.
        (await _cluster.RunAsync("gil", "group", "create", "club")).AssertSuccess();
        (await _cluster.RunAsync("gil", "group", "add", "club", "hal")).AssertSuccess();
        Assert.Contains("left club", (await _cluster.RunAsync("hal", "group", "leave", "club")).AssertSuccess().Stdout, StringComparison.Ordinal);
        Assert.Equal(["gil (admin)"], (await _cluster.RunAsync("gil", "group", "members", "club")).AssertSuccess().Lines());
        (await _cluster.RunAsync("gil", "group", "send", "club", "--text", "after hal left")).AssertSuccess();

        CommandResult history = (await _cluster.RunAsync("hal", "history", "--group", "crew", "--json")).AssertSuccess();
        Assert.Equal(["received", "received"], history.Events("history").Select(e => e.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Status_ServeWithTwoServers_ListsBothAsTextAndJson()
    {
        CommandResult text = (await _cluster.RunRawAsync(new Dictionary<string, string?>(), null, "status", "--balancer", _cluster.Balancer)).AssertSuccess();
        Assert.Contains("server-1", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("server-2", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("2 servers, 2 live", text.Stdout, StringComparison.Ordinal);

        CommandResult json = (await _cluster.RunRawAsync(new Dictionary<string, string?>(), null, "status", "--balancer", _cluster.Balancer, "--json")).AssertSuccess();
        JsonElement[] servers = json.Events("server");
        Assert.Equal(["server-1", "server-2"], servers.Select(s => s.GetProperty("id").GetString()).Order(StringComparer.Ordinal));
        foreach (JsonElement server in servers)
        {
            Assert.True(server.GetProperty("live").GetBoolean());
            Assert.StartsWith("127.0.0.1:", server.GetProperty("endpoint").GetString(), StringComparison.Ordinal);
            Assert.True(server.GetProperty("connections").GetInt32() >= 0);
            Assert.True(server.GetProperty("memoryBytes").GetInt64() > 0);
            Assert.InRange(server.GetProperty("lastReportAgeSeconds").GetDouble(), 0, 30);
            Assert.EndsWith("Z", server.GetProperty("lastReport").GetString(), StringComparison.Ordinal);
        }
    }

    // Polls the balancer (there is no event across the process boundary) until the servers' client count satisfies the condition.
    private async Task WaitForConnectionsAsync(Func<int, bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(UserCommand.Timeout);
        while (true)
        {
            IReadOnlyList<FastChat.Protocol.Messages.ServerStatus> servers = await ClusterProbe.GetServersAsync(_cluster.BalancerPort, deadline.Token);
            if (condition(servers.Sum(s => s.Connections)))
            {
                return;
            }

            Assert.False(deadline.IsCancellationRequested, $"the servers never reported {what} connections:\n{_cluster.ServerOutput}");
            await Task.Delay(50, CancellationToken.None);
        }
    }
}
