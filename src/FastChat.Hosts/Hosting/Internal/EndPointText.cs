using System.Globalization;
using System.Net;

namespace FastChat.Hosts.Hosting.Internal;

/// <summary>The <c>HOST:PORT</c> text form of an endpoint in configuration (IPv6 literals in brackets: <c>[::1]:7700</c>).</summary>
internal static class EndPointText
{
    /// <summary>Splits <c>HOST:PORT</c>; the port must be 1..65535 and the host non-empty.</summary>
    public static bool TryParse(string? text, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        string hostPart = text[..colon];
        if (hostPart.StartsWith('['))
        {
            if (!hostPart.EndsWith(']') || hostPart.Length < 3)
            {
                return false;
            }

            hostPart = hostPart[1..^1];
        }
        else if (hostPart.Contains(':', StringComparison.Ordinal))
        {
            // An IPv6 literal without brackets is ambiguous (which colon starts the port?).
            return false;
        }

        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) ||
            parsed is < 1 or > IPEndPoint.MaxPort ||
            string.IsNullOrWhiteSpace(hostPart))
        {
            return false;
        }

        host = hostPart;
        port = parsed;
        return true;
    }

    /// <summary>
    /// The endpoint a local peer uses to reach a listener bound to <paramref name="bound"/>: the wildcard addresses
    /// (0.0.0.0, ::) are not connectable on every platform, so they become the loopback of the same family.
    /// </summary>
    public static IPEndPoint Connectable(IPEndPoint bound)
    {
        if (bound.Address.Equals(IPAddress.Any))
        {
            return new IPEndPoint(IPAddress.Loopback, bound.Port);
        }

        if (bound.Address.Equals(IPAddress.IPv6Any))
        {
            return new IPEndPoint(IPAddress.IPv6Loopback, bound.Port);
        }

        return bound;
    }

    /// <summary>Formats <c>HOST:PORT</c>, bracketing IPv6 literals.</summary>
    public static string Format(IPEndPoint endPoint) => endPoint.ToString();
}
