using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using FastChat.Hosts.Balancer;

namespace FastChat.Cli.Commands;

/// <summary>
/// The options shared by <c>serve</c>, <c>balancer</c> and <c>server</c>. None has a built-in default: an option that is
/// not given leaves the setting to configuration (appsettings.json, <c>FASTCHAT__...</c> environment variables) and
/// then to the options' own defaults, which the descriptions name. An option that is given overrides configuration.
/// </summary>
internal static class RoleOptions
{
    public static Option<string> Host(string listener) => new Option<string>("--host")
    {
        Description = $"The address {listener} on (default 127.0.0.1; 0.0.0.0 or :: for every interface).",
        HelpName = "IP",
    }.WithValidator(result =>
    {
        string value = result.GetValueOrDefault<string>() ?? string.Empty;
        return IPAddress.TryParse(value, out _) ? null : $"--host must be an IP address such as 127.0.0.1 or 0.0.0.0, not '{value}'.";
    });

    public static Option<int> Port(string description) => new Option<int>("--port")
    {
        Description = description,
        HelpName = "PORT",
    }.WithPortValidation();

    public static Option<string> Strategy() => new Option<string>("--strategy")
    {
        Description = $"How the balancer picks a server: {string.Join(", ", BalancingStrategies.Names)} (default round-robin).",
        HelpName = "NAME",
    }.WithValidator(result =>
    {
        string value = result.GetValueOrDefault<string>() ?? string.Empty;
        return BalancingStrategies.TryParse(value, out _)
            ? null
            : $"--strategy must be one of {string.Join(", ", BalancingStrategies.Names)}, not '{value}'.";
    });

    public static Option<string> Storage() => new Option<string>("--storage")
    {
        Description = "Where accounts, groups and pending messages are kept: sqlite (a file in the data folder, the default) or postgres (needs --connection-string).",
        HelpName = "sqlite|postgres",
    }.WithValidator(result =>
    {
        string value = result.GetValueOrDefault<string>() ?? string.Empty;
        return value is "sqlite" or "postgres" ? null : $"--storage must be sqlite or postgres, not '{value}'.";
    });

    public static Option<string> ConnectionString() => new Option<string>("--connection-string")
    {
        Description = "The PostgreSQL connection string (Host=...;Username=...;Database=...), or for sqlite an optional SQLite connection string.",
        HelpName = "S",
    }.WithValidator(result =>
        string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()) ? "--connection-string must not be empty." : null);

    public static Option<string> Data() => new Option<string>("--data")
    {
        Description = "The data folder: the SQLite database and, for serve, the generated cluster key (default ./fastchat-data).",
        HelpName = "DIR",
    }.WithValidator(result =>
        string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()) ? "--data must not be empty." : null);

    public static Option<string> ClusterKeyFile() => new Option<string>("--cluster-key-file")
    {
        Description = "A file holding the cluster key (base64 of 32 bytes; 'openssl rand -base64 32' makes one). Every balancer and server of a cluster uses the same key.",
        HelpName = "FILE",
    }.WithValidator(result =>
        string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()) ? "--cluster-key-file must not be empty." : null);

    public static Option<string> AdvertisedHost() => new Option<string>("--advertised-host")
    {
        Description = "The host name or address clients and other servers use to reach the chat server(s) (default: the listen address, or 127.0.0.1 when listening on every interface).",
        HelpName = "H",
    }.WithValidator(result =>
    {
        string value = result.GetValueOrDefault<string>() ?? string.Empty;
        return value.Length == 0 || value.Trim().Length != value.Length ? $"--advertised-host must be a host name or address, not '{value}'." : null;
    });

    /// <summary>Adds an option's value to the configuration overrides under <paramref name="key"/>, if the option was given.</summary>
    public static void Override<T>(this ParseResult parse, Option<T> option, string key, IDictionary<string, string?> overrides)
    {
        if (parse.GetResult(option) is { Implicit: false })
        {
            overrides[key] = Convert.ToString(parse.GetValue(option), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Whether the option was given on the command line.</summary>
    public static bool IsGiven<T>(this ParseResult parse, Option<T> option) => parse.GetResult(option) is { Implicit: false };

    private static Option<T> WithValidator<T>(this Option<T> option, Func<OptionResult, string?> validate)
    {
        option.Validators.Add(result =>
        {
            if (validate(result) is { } error)
            {
                result.AddError(error);
            }
        });
        return option;
    }
}
