using System.Net;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Balancer.Internal;

namespace FastChat.Hosts.Tests.Balancer;

public class SignInRateLimiterTests
{
    private static readonly IPAddress s_address = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress s_otherAddress = IPAddress.Parse("192.0.2.2");

    private static BalancerOptions Options(int perUser = 3, int perAddress = 10) => new()
    {
        MaxSignInFailuresPerUser = perUser,
        MaxSignInFailuresPerAddress = perAddress,
        SignInFailureWindow = TimeSpan.FromMinutes(1),
    };

    [Fact]
    public void IsLimited_UserReachesItsLimit_LimitedFromAnyAddress()
    {
        var limiter = new SignInRateLimiter(Options(perUser: 3), new ManualTimeProvider());

        limiter.RecordFailure("alice", s_address);
        limiter.RecordFailure("alice", s_otherAddress);
        Assert.False(limiter.IsLimited("alice", s_address, out _));

        limiter.RecordFailure("alice", IPAddress.Parse("192.0.2.3"));
        Assert.True(limiter.IsLimited("alice", IPAddress.Parse("198.51.100.7"), out TimeSpan retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(59), TimeSpan.FromMinutes(1));
        Assert.False(limiter.IsLimited("bob", IPAddress.Parse("198.51.100.7"), out _));
    }

    [Fact]
    public void IsLimited_AddressReachesItsLimit_LimitedForEveryUser()
    {
        var limiter = new SignInRateLimiter(Options(perUser: 100, perAddress: 4), new ManualTimeProvider());

        for (int i = 0; i < 4; i++)
        {
            Assert.False(limiter.IsLimited("user" + i, s_address, out _));
            limiter.RecordFailure("user" + i, s_address);
        }

        Assert.True(limiter.IsLimited("somebody-new", s_address, out _));
        Assert.False(limiter.IsLimited("somebody-new", s_otherAddress, out _));
    }

    [Fact]
    public void IsLimited_WindowPasses_AllowedAgain()
    {
        var time = new ManualTimeProvider();
        var limiter = new SignInRateLimiter(Options(perUser: 2), time);
        limiter.RecordFailure("alice", s_address);
        time.Advance(TimeSpan.FromSeconds(30));
        limiter.RecordFailure("alice", s_address);
        Assert.True(limiter.IsLimited("alice", s_address, out TimeSpan retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(30), retryAfter);

        // The first failure leaves the window: one failure in the last minute is under the limit.
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(limiter.IsLimited("alice", s_address, out _));

        // Sliding, not fixed: a new failure makes two within the window again.
        limiter.RecordFailure("alice", s_address);
        Assert.True(limiter.IsLimited("alice", s_address, out _));
    }

    /// <summary>Guards the log against floods: reaching a limit is reported once, not for every failure after it.</summary>
    [Fact]
    public void RecordFailure_ReportsReachingTheLimitOnce()
    {
        var time = new ManualTimeProvider();
        var limiter = new SignInRateLimiter(Options(perUser: 2, perAddress: 3), time);
        var reached = new List<(bool User, bool Address)>();

        for (int i = 0; i < 5; i++)
        {
            limiter.RecordFailure("alice", s_address, out bool user, out bool address);
            reached.Add((user, address));
        }

        Assert.Equal([(false, false), (true, false), (false, true), (false, false), (false, false)], reached);

        // Once the window has passed, reaching the limit again is news again.
        time.Advance(TimeSpan.FromMinutes(2));
        limiter.RecordFailure("alice", s_address, out bool first, out _);
        limiter.RecordFailure("alice", s_address, out bool second, out _);
        Assert.False(first);
        Assert.True(second);
    }

    [Fact]
    public void RecordSuccess_ResetsTheUserButNotTheAddress()
    {
        var limiter = new SignInRateLimiter(Options(perUser: 2, perAddress: 3), new ManualTimeProvider());
        limiter.RecordFailure("alice", s_address);
        limiter.RecordFailure("alice", s_address);
        Assert.True(limiter.IsLimited("alice", s_otherAddress, out _));

        limiter.RecordSuccess("alice");
        Assert.False(limiter.IsLimited("alice", s_otherAddress, out _));

        // The address keeps its two failures: one more reaches its limit of three.
        limiter.RecordFailure("bob", s_address);
        Assert.True(limiter.IsLimited("carol", s_address, out _));
    }

    [Fact]
    public void RecordFailure_WithoutUserName_CountsAgainstTheAddressOnly()
    {
        var limiter = new SignInRateLimiter(Options(perUser: 1, perAddress: 2), new ManualTimeProvider());

        limiter.RecordFailure(null, s_address);
        Assert.Equal(0, limiter.TrackedUsers);
        Assert.False(limiter.IsLimited("alice", s_address, out _));

        limiter.RecordFailure(null, s_address);
        Assert.True(limiter.IsLimited("alice", s_address, out _));
    }

    [Fact]
    public void AddressOf_MapsIPv4MappedIPv6ToIPv4()
    {
        Assert.Equal(IPAddress.Parse("10.1.2.3"), SignInRateLimiter.AddressOf(new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 5000)));
        Assert.Equal(IPAddress.IPv6Loopback, SignInRateLimiter.AddressOf(new IPEndPoint(IPAddress.IPv6Loopback, 5000)));
        Assert.Null(SignInRateLimiter.AddressOf(null));
    }

    /// <summary>Guards the memory bound: a flood of distinct user names cannot grow the table past its capacity.</summary>
    [Fact]
    public void RecordFailure_ManyKeys_TableStaysWithinCapacity()
    {
        var time = new ManualTimeProvider();
        var limiter = new SignInRateLimiter(Options(perUser: 3, perAddress: 1_000_000), time, capacity: 100);

        for (int i = 0; i < 1000; i++)
        {
            limiter.RecordFailure("user" + i, s_address);
        }

        Assert.Equal(100, limiter.TrackedUsers);

        // The keys tracked before the table filled keep their counts.
        limiter.RecordFailure("user0", s_address);
        limiter.RecordFailure("user0", s_address);
        Assert.True(limiter.IsLimited("user0", s_otherAddress, out _));

        // Once their failures leave the window the old keys are forgotten and new ones are tracked again.
        time.Advance(TimeSpan.FromMinutes(2));
        limiter.RecordFailure("late-user", s_address);
        Assert.Equal(1, limiter.TrackedUsers);
    }

    [Fact]
    public async Task RecordFailure_ConcurrentCallers_CountsEveryFailure()
    {
        var counter = new FailureCounter<string>(limit: 1000, TimeSpan.FromMinutes(1), capacity: 10);
        long now = DateTime.UtcNow.Ticks;
        Task[] workers = new Task[4];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(() =>
            {
                for (int i = 0; i < 250; i++)
                {
                    counter.RecordFailure("alice", now);
                }
            });
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(counter.IsLimited("alice", now, out _));
        counter.Reset("alice");
        counter.RecordFailure("alice", now);
        Assert.False(counter.IsLimited("alice", now, out _));
    }
}
