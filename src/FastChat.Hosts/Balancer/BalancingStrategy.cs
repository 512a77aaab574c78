namespace FastChat.Hosts.Balancer;

/// <summary>How the balancer picks a live chat server for a client that signed in.</summary>
/// <remarks>
/// Every strategy considers only live servers (those whose last load report is younger than
/// <see cref="BalancerOptions.ServerTimeout"/>). A server's connection count is the one it last reported plus the
/// clients the balancer assigned to it since, so a burst of sign-ins between two reports is spread rather than
/// piled onto the server that looked emptiest. Where two servers are equally good, the one whose id sorts first
/// (ordinally) wins.
/// </remarks>
public enum BalancingStrategy
{
    /// <summary>Each live server in turn, in order of id (<c>round-robin</c>).</summary>
    RoundRobin = 0,

    /// <summary>A live server chosen uniformly at random (<c>random</c>).</summary>
    Random = 1,

    /// <summary>The live server with the fewest connections (<c>least-connections</c>).</summary>
    LeastConnections = 2,

    /// <summary>The live server that last reported the lowest CPU use (<c>least-cpu</c>).</summary>
    LeastCpu = 3,

    /// <summary>The live server that last reported the least memory use (<c>least-memory</c>).</summary>
    LeastMemory = 4,

    /// <summary>Two distinct live servers chosen at random; the one with fewer connections wins (<c>power-of-two</c>).</summary>
    PowerOfTwo = 5,
}

/// <summary>The configuration names of the <see cref="BalancingStrategy"/> values (<c>round-robin</c>, <c>least-cpu</c>, …).</summary>
public static class BalancingStrategies
{
    private static readonly string[] s_names =
    [
        "round-robin",
        "random",
        "least-connections",
        "least-cpu",
        "least-memory",
        "power-of-two",
    ];

    /// <summary>Every strategy's configuration name, in the order of the <see cref="BalancingStrategy"/> values.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(s_names);

    /// <summary>
    /// Parses a strategy's configuration name. Case and surrounding white space are ignored, and <c>_</c> may stand
    /// for <c>-</c>; the enum member names (<c>RoundRobin</c>, <c>LeastCpu</c>, …) are accepted too, so that values
    /// bound from configuration either way work.
    /// </summary>
    /// <param name="text">The name, e.g. <c>least-connections</c>.</param>
    /// <param name="strategy">The strategy, when the name is known; otherwise <see cref="BalancingStrategy.RoundRobin"/>.</param>
    /// <returns><see langword="true"/> if the name is known.</returns>
    public static bool TryParse(string? text, out BalancingStrategy strategy)
    {
        strategy = BalancingStrategy.RoundRobin;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        ReadOnlySpan<char> trimmed = text.AsSpan().Trim();
        for (int i = 0; i < s_names.Length; i++)
        {
            if (EqualsName(trimmed, s_names[i]))
            {
                strategy = (BalancingStrategy)i;
                return true;
            }
        }

        return false;
    }

    /// <summary>The configuration name of a strategy.</summary>
    /// <param name="strategy">The strategy.</param>
    /// <returns>Its name, e.g. <c>power-of-two</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="strategy"/> is not a defined value.</exception>
    public static string ToName(BalancingStrategy strategy)
    {
        if ((uint)strategy >= (uint)s_names.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(strategy), strategy, $"Unknown balancing strategy {(int)strategy}; the strategies are {string.Join(", ", s_names)}.");
        }

        return s_names[(int)strategy];
    }

    // "least-cpu", "LEAST_CPU" and "LeastCpu" all match "least-cpu": compare letters case-insensitively and let the
    // separator be '-', '_' or absent.
    private static bool EqualsName(ReadOnlySpan<char> text, string name)
    {
        int t = 0;
        foreach (char expected in name)
        {
            if (expected == '-')
            {
                if (t < text.Length && text[t] is '-' or '_')
                {
                    t++;
                }

                continue;
            }

            if (t >= text.Length || char.ToLowerInvariant(text[t]) != expected)
            {
                return false;
            }

            t++;
        }

        return t == text.Length;
    }
}
