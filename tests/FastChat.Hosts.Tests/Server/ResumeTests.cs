using System.Security.Cryptography;
using FastChat.Hosts.Security;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Tests.Server;

public sealed class ResumeTests
{
    [Fact]
    public async Task Resume_ValidToken_RecordsPresenceAndReportsPendingCount()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice");

        (RawClient client, Resumed resumed) = await harness.ResumeAsync("alice");
        await using (client)
        {
            Assert.Equal(harness.First.Id, resumed.ServerId);
            Assert.Equal(0, resumed.PendingCount);
            Assert.Equal(harness.First.Id, await harness.Store.GetPresenceAsync("alice").WaitAsync(ServerHarness.Timeout));
            Assert.Equal(1, harness.First.ConnectionCount);
        }
    }

    /// <summary>Guards against accepting a token that was not signed with the cluster key.</summary>
    [Fact]
    public async Task Resume_ForgedToken_IsRejectedAndClosed()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice");
        byte[] forged = SessionTokens.Issue(ClusterKey.Generate(), "alice", harness.First.Id, DateTime.UtcNow.AddHours(1));

        await AssertRejectedAsync(harness, forged, ErrorCode.TokenInvalid, "not valid");
        await AssertRejectedAsync(harness, RandomNumberGenerator.GetBytes(80), ErrorCode.TokenInvalid, "not valid");
        Assert.Null(await harness.Store.GetPresenceAsync("alice").WaitAsync(ServerHarness.Timeout));
    }

    /// <summary>Guards against accepting a genuine token after its expiry.</summary>
    [Fact]
    public async Task Resume_ExpiredToken_IsRejectedAsExpired()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice");
        byte[] expired = SessionTokens.Issue(harness.Key, "alice", harness.First.Id, DateTime.UtcNow.AddMinutes(-1));

        await AssertRejectedAsync(harness, expired, ErrorCode.TokenExpired, "expired");
    }

    /// <summary>Guards against a token for one server opening a session on another.</summary>
    [Fact]
    public async Task Resume_TokenForAnotherServer_IsRejected()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice");
        byte[] elsewhere = SessionTokens.Issue(harness.Key, "alice", "server-9", DateTime.UtcNow.AddHours(1));

        await AssertRejectedAsync(harness, elsewhere, ErrorCode.TokenInvalid, "another server");
    }

    /// <summary>Guards against messages being accepted from a connection that has not proven who it is.</summary>
    [Fact]
    public async Task DirectMessage_BeforeResume_IsUnexpectedAndTheConnectionLives()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient client = await RawClient.ConnectAndGreetAsync(harness.First.EndPoint);

        uint requestId = await client.SendAsync(TestMessages.Direct("bob", "hi"));
        await client.ExpectErrorAsync(ErrorCode.Unexpected, requestId);

        // Still usable: it can resume now.
        uint resumeId = await client.SendAsync(new Resume { SessionToken = new(harness.Token("alice", harness.First)) });
        (Resumed resumed, uint replyId) = await client.ReadWithIdAsync<Resumed>();
        Assert.Equal(resumeId, replyId);
        Assert.Equal("alice", resumed.UserName);
    }

    [Fact]
    public async Task Resume_SecondSessionOfSameUser_ReplacesTheFirst()
    {
        await using ServerHarness harness = await ServerHarness.StartAsync();
        await harness.CreateUsersAsync("alice", "bob");
        await using RawClient first = await harness.SignInAsync("alice");
        await using RawClient second = await harness.SignInAsync("alice");
        await using RawClient bob = await harness.SignInAsync("bob");

        List<RawFrame> rest = await first.ReadToEndAsync();
        Assert.Contains(rest, frame => frame.Opcode == Opcode.Error && frame.As<Error>().Message.Contains("replaced", StringComparison.Ordinal));

        await bob.SendAsync(TestMessages.Direct("alice", "to the new session"));
        DirectMessage received = await second.ReadAsync<DirectMessage>();
        Assert.Equal("to the new session", TestMessages.Text(received.Body));
        Assert.Equal(harness.First.Id, await harness.Store.GetPresenceAsync("alice").WaitAsync(ServerHarness.Timeout));
    }

    private static async Task AssertRejectedAsync(ServerHarness harness, byte[] token, ErrorCode code, string messagePart)
    {
        await using RawClient client = await RawClient.ConnectAndGreetAsync(harness.First.EndPoint);
        uint requestId = await client.SendAsync(new Resume { SessionToken = new(token) });
        Error error = await client.ExpectErrorAsync(code, requestId);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
        Assert.Empty(await client.ReadToEndAsync());
    }
}
