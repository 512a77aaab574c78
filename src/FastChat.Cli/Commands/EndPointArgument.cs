using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace FastChat.Cli.Commands;

/// <summary>Parsing and validation shared by the commands' host/port options.</summary>
internal static class EndPointArgument
{
    /// <summary>Adds a validator that keeps a port option within 0..65535 (0 asks the OS for a free port).</summary>
    public static Option<int> WithPortValidation(this Option<int> option)
    {
        option.Validators.Add(result =>
        {
            int port = result.GetValueOrDefault<int>();
            if (port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
            {
                result.AddError($"{result.Option.Name} must be between 0 and 65535, not {port}.");
            }
        });
        return option;
    }

    /// <summary>Parses <c>HOST:PORT</c> (IPv6 as <c>[::1]:PORT</c>).</summary>
    public static (string Host, int Port)? Parse(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            result.AddError($"'{text}' is not HOST:PORT (for example 127.0.0.1:7700).");
            return null;
        }

        string host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) ||
            port is < 1 or > IPEndPoint.MaxPort)
        {
            result.AddError($"'{text[(colon + 1)..]}' is not a port between 1 and 65535.");
            return null;
        }

        return (host, port);
    }
}
