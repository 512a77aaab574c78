using System.Text;
using FastChat.Client.Tests.TestSupport;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Cluster;

/// <summary>
/// Coalesced acknowledgements (<c>ack-batch</c>) end to end: SDK clients negotiate the feature with the cluster's
/// servers, and a burst of messages is delivered, acknowledged and reported delivered exactly once.
/// </summary>
public sealed class AckBatchClusterTests : IClassFixture<ClusterFixture>
{
    private const int Burst = 200;
    private static readonly TimeSpan Timeout = EventLog.DefaultTimeout;

    private readonly TestCluster _cluster;

    public AckBatchClusterTests(ClusterFixture fixture)
    {
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task Burst_SameServer_EveryMessageDeliveredAndReportedExactlyOnce()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpOnAsync("bob", server => server == alice.ServerId);
        await AssertBurstAsync(alice, bob);
    }

    [Fact]
    public async Task Burst_AcrossServers_EveryMessageDeliveredAndReportedExactlyOnce()
    {
        await using TestUser alice = await _cluster.SignUpAsync("alice");
        await using TestUser bob = await _cluster.SignUpOnAsync("bob", server => server != alice.ServerId);
        await AssertBurstAsync(alice, bob);
    }

    private static async Task AssertBurstAsync(TestUser alice, TestUser bob)
    {
        Assert.True(alice.Client.AckBatchNegotiated, "alice's session did not negotiate ack-batch.");
        Assert.True(bob.Client.AckBatchNegotiated, "bob's session did not negotiate ack-batch.");

        var sends = new Task<MessageId>[Burst];
        for (int i = 0; i < Burst; i++)
        {
            sends[i] = alice.Client.SendDirectAsync(bob.Name, Encoding.UTF8.GetBytes($"burst {i}"));
        }

        // Every send completes: each id was acknowledged (singly or in a batch) by the server.
        MessageId[] ids = await Task.WhenAll(sends).WaitAsync(Timeout);
        var sent = new HashSet<MessageId>(ids);
        Assert.Equal(Burst, sent.Count);

        await bob.Events.WaitForCountAsync<DirectMessageReceived>(Burst, m => sent.Contains(m.Id));
        await alice.Events.WaitForCountAsync<MessageDelivered>(Burst, d => sent.Contains(d.Id));

        // A marker through the same path: anything duplicated would have arrived before its receipt.
        MessageId marker = await alice.Client.SendDirectAsync(bob.Name, Encoding.UTF8.GetBytes("marker")).WaitAsync(Timeout);
        await alice.Events.WaitForAsync<MessageDelivered>(d => d.Id == marker);

        var received = new HashSet<MessageId>();
        foreach (DirectMessageReceived message in bob.Events.All<DirectMessageReceived>())
        {
            if (sent.Contains(message.Id))
            {
                Assert.True(received.Add(message.Id), $"{message.Id} was received twice.");
            }
        }

        var delivered = new HashSet<MessageId>();
        foreach (MessageDelivered receipt in alice.Events.All<MessageDelivered>())
        {
            if (sent.Contains(receipt.Id))
            {
                Assert.Equal(bob.Name, receipt.Recipient);
                Assert.True(delivered.Add(receipt.Id), $"{receipt.Id} was reported delivered twice.");
            }
        }

        Assert.True(received.SetEquals(sent));
        Assert.True(delivered.SetEquals(sent));

        // Every ack reached the server: nothing was stored for bob, so nothing is pending at his next sign-in.
        await bob.Client.SignOutAsync().WaitAsync(Timeout);
        SignInResult again = await bob.Client.SignInAsync(bob.Name, bob.Password).WaitAsync(Timeout);
        Assert.Equal(0, again.PendingCount);
    }
}
