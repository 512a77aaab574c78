using System.Net;

namespace FastChat.Hosts.Balancer.Internal;

/// <summary>
/// Limits password guessing: failed sign-ins are counted per user name (guessing one account's password from many
/// addresses) and per remote address (one source trying many accounts), each over
/// <see cref="BalancerOptions.SignInFailureWindow"/>. A successful sign-in clears the user's count but not the
/// address's, so an attacker cannot reset the address count with an account of its own.
/// </summary>
internal sealed class SignInRateLimiter
{
    // How many user names and addresses are tracked at most. Each entry is a small ring of timestamps (a few hundred
    // bytes at the default limits), so the worst case stays in the tens of megabytes.
    internal const int DefaultCapacity = 100_000;

    private readonly FailureCounter<string> _users;
    private readonly FailureCounter<IPAddress> _addresses;
    private readonly TimeProvider _timeProvider;

    public SignInRateLimiter(BalancerOptions options, TimeProvider timeProvider, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _users = new FailureCounter<string>(options.MaxSignInFailuresPerUser, options.SignInFailureWindow, capacity, StringComparer.Ordinal);
        _addresses = new FailureCounter<IPAddress>(options.MaxSignInFailuresPerAddress, options.SignInFailureWindow, capacity);
    }

    public int TrackedUsers => _users.Count;

    public int TrackedAddresses => _addresses.Count;

    /// <summary>Whether a sign-in for this user from this address must be refused now.</summary>
    /// <param name="userName">The user name the client gave.</param>
    /// <param name="address">The client's address, when known.</param>
    /// <param name="retryAfter">When refused, how long until an attempt may succeed again.</param>
    /// <returns><see langword="true"/> to refuse with <c>RateLimited</c>.</returns>
    public bool IsLimited(string userName, IPAddress? address, out TimeSpan retryAfter)
    {
        long now = _timeProvider.GetUtcNow().UtcTicks;
        bool limited = _users.IsLimited(userName, now, out TimeSpan userWait);
        TimeSpan addressWait = TimeSpan.Zero;
        if (address is not null && _addresses.IsLimited(address, now, out addressWait))
        {
            limited = true;
        }

        retryAfter = userWait > addressWait ? userWait : addressWait;
        return limited;
    }

    /// <summary>Counts a failed sign-in against the user name (when given) and the address (when known).</summary>
    /// <param name="userName">The user name, or <see langword="null"/> to count against the address only.</param>
    /// <param name="address">The client's address.</param>
    /// <param name="userLimited">Whether this failure brought the user name to its limit.</param>
    /// <param name="addressLimited">Whether this failure brought the address to its limit.</param>
    public void RecordFailure(string? userName, IPAddress? address, out bool userLimited, out bool addressLimited)
    {
        long now = _timeProvider.GetUtcNow().UtcTicks;
        userLimited = userName is not null && _users.RecordFailure(userName, now);
        addressLimited = address is not null && _addresses.RecordFailure(address, now);
    }

    /// <summary>Counts a failed sign-in (as <see cref="RecordFailure(string?, IPAddress?, out bool, out bool)"/>, without the transitions).</summary>
    /// <param name="userName">The user name, or <see langword="null"/> to count against the address only.</param>
    /// <param name="address">The client's address.</param>
    public void RecordFailure(string? userName, IPAddress? address) => RecordFailure(userName, address, out _, out _);

    public void RecordSuccess(string userName) => _users.Reset(userName);

    /// <summary>The address a connection's failures are counted under: the peer's IP, with IPv4-mapped IPv6 unmapped so one client has one key.</summary>
    /// <param name="remote">The connection's remote endpoint.</param>
    /// <returns>The address, or <see langword="null"/> for endpoints without one (e.g. Unix domain sockets).</returns>
    public static IPAddress? AddressOf(EndPoint? remote) => remote switch
    {
        IPEndPoint ip when ip.Address.IsIPv4MappedToIPv6 => ip.Address.MapToIPv4(),
        IPEndPoint ip => ip.Address,
        _ => null,
    };
}
