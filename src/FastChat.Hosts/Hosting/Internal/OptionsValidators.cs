using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using Microsoft.Extensions.Options;

namespace FastChat.Hosts.Hosting.Internal;

/// <summary>
/// Checks an options object's <see cref="RangeAttribute"/>/<see cref="RequiredAttribute"/> annotations, naming each
/// failure by its configuration key (<c>FastChat:Balancer:Port</c>) so the start-up error says what to fix.
/// </summary>
/// <remarks>The same job as Microsoft.Extensions.Options.DataAnnotations' <c>ValidateDataAnnotations</c>, which the build does not reference.</remarks>
internal sealed class DataAnnotationsValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : class
{
    private readonly string _section;

    public DataAnnotationsValidator(string section) => _section = section;

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The options types are FastChat's own and keep their annotated properties.")]
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>(results.Count);
        foreach (ValidationResult result in results)
        {
            string member = string.Join(", ", result.MemberNames);
            failures.Add($"{_section}:{member} is invalid: {result.ErrorMessage}");
        }

        return ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>What the annotations cannot say about <see cref="BalancerOptions"/>: the strategy name, the listen address, positive durations.</summary>
internal sealed class BalancerOptionsValidator : IValidateOptions<BalancerOptions>
{
    public ValidateOptionsResult Validate(string? name, BalancerOptions options)
    {
        var failures = new List<string>();
        if (options.Strategy is not null && !BalancingStrategies.TryParse(options.Strategy, out _))
        {
            failures.Add($"{BalancerOptions.SectionName}:Strategy '{options.Strategy}' is not a balancing strategy; use one of {string.Join(", ", BalancingStrategies.Names)}.");
        }

        OptionChecks.ListenAddress(options.Host, BalancerOptions.SectionName, failures);
        OptionChecks.Positive(options.ServerTimeout, BalancerOptions.SectionName + ":ServerTimeout", failures);
        OptionChecks.Positive(options.TokenLifetime, BalancerOptions.SectionName + ":TokenLifetime", failures);
        OptionChecks.Positive(options.SignInFailureWindow, BalancerOptions.SectionName + ":SignInFailureWindow", failures);
        return OptionChecks.Result(failures);
    }
}

/// <summary>What the annotations cannot say about <see cref="ChatServerOptions"/>: the id's form, the balancer endpoint, positive durations.</summary>
internal sealed class ChatServerOptionsValidator : IValidateOptions<ChatServerOptions>
{
    // Server ids travel in session tokens, presence rows and log lines: keep them short and printable.
    private const int MaxIdLength = 64;

    public ValidateOptionsResult Validate(string? name, ChatServerOptions options)
    {
        var failures = new List<string>();
        const string Section = ChatServerOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Id))
        {
            failures.Add($"{Section}:Id is required: every chat server needs an id that is unique in the cluster.");
        }
        else if (!IsValidId(options.Id))
        {
            failures.Add($"{Section}:Id '{options.Id}' is not valid: use 1 to {MaxIdLength} letters, digits, '.', '_' or '-'.");
        }

        if (!EndPointText.TryParse(options.Balancer, out _, out _))
        {
            failures.Add($"{Section}:Balancer '{options.Balancer}' is not HOST:PORT with a port between 1 and 65535 (for example 127.0.0.1:7700).");
        }

        if (options.AdvertisedHost is { } advertised && (advertised.Length == 0 || advertised.Trim().Length != advertised.Length))
        {
            failures.Add($"{Section}:AdvertisedHost '{advertised}' is not a host name or address.");
        }

        OptionChecks.ListenAddress(options.Host, Section, failures);
        OptionChecks.Positive(options.LoadReportInterval, Section + ":LoadReportInterval", failures);
        OptionChecks.Positive(options.DeliveryTimeout, Section + ":DeliveryTimeout", failures);
        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            failures.Add($"{Section}:ShutdownTimeout must not be negative, not {options.ShutdownTimeout}.");
        }

        return OptionChecks.Result(failures);
    }

    internal static bool IsValidId(string id)
    {
        if (id.Length is 0 or > MaxIdLength)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The provider name and the connection string the provider needs.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        const string Section = StorageOptions.SectionName;
        if (StorageProviders.IsPostgres(options.Provider))
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                failures.Add($"{Section}:ConnectionString is required when {Section}:Provider is postgres.");
            }
        }
        else if (StorageProviders.IsSqlite(options.Provider))
        {
            if (string.IsNullOrWhiteSpace(options.DataDirectory) && string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                failures.Add($"{Section}:DataDirectory is required for the sqlite provider.");
            }
        }
        else
        {
            failures.Add($"{Section}:Provider '{options.Provider}' is not a storage provider; use sqlite or postgres.");
        }

        return OptionChecks.Result(failures);
    }
}

/// <summary>Exactly one source for the cluster key, and that source must hold a valid key.</summary>
internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    internal const string KeyRequired = "FastChat:Cluster:Key or FastChat:Cluster:KeyFile is required";

    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        string? problem = ClusterKeySource.Check(options);
        return problem is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problem);
    }
}

/// <summary>The provider names <see cref="StorageOptions.Provider"/> accepts (those of <see cref="ChatStoreFactory"/>).</summary>
internal static class StorageProviders
{
    public static bool IsSqlite(string? provider) => string.Equals(provider?.Trim(), ChatStoreFactory.Sqlite, StringComparison.OrdinalIgnoreCase);

    public static bool IsPostgres(string? provider) =>
        string.Equals(provider?.Trim(), ChatStoreFactory.Postgres, StringComparison.OrdinalIgnoreCase) ||
        string.Equals(provider?.Trim(), "postgresql", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Reads the cluster key from <see cref="ClusterOptions"/>, with the errors worded for an operator.</summary>
internal static class ClusterKeySource
{
    /// <summary>Returns what is wrong with the options, or <see langword="null"/> if a key can be loaded from them.</summary>
    public static string? Check(ClusterOptions options)
    {
        try
        {
            _ = Load(options);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Loads the key.</summary>
    /// <exception cref="InvalidOperationException">The options name no key, both sources, or a key that cannot be read.</exception>
    public static ClusterKey Load(ClusterOptions options)
    {
        bool hasKey = !string.IsNullOrWhiteSpace(options.Key);
        bool hasFile = !string.IsNullOrWhiteSpace(options.KeyFile);
        if (hasKey && hasFile)
        {
            throw new InvalidOperationException("Set FastChat:Cluster:Key or FastChat:Cluster:KeyFile, not both.");
        }

        if (hasKey)
        {
            try
            {
                return ClusterKey.FromBase64(options.Key!);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"FastChat:Cluster:Key is not valid: {ex.Message}", ex);
            }
        }

        if (hasFile)
        {
            string path = options.KeyFile!;
            try
            {
                return ClusterKey.FromFile(path);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new InvalidOperationException($"FastChat:Cluster:KeyFile '{path}' does not exist.", ex);
            }
            catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"FastChat:Cluster:KeyFile '{path}' cannot be used: {ex.Message}", ex);
            }
        }

        throw new InvalidOperationException(ClusterOptionsValidator.KeyRequired + " (a base64 key of 32 bytes, or a file holding one; 'openssl rand -base64 32' makes one).");
    }
}

internal static class OptionChecks
{
    // The engines resolve a host name to an address; an empty value is the [Required] annotation's to report.
    public static void ListenAddress(string? host, string section, List<string> failures)
    {
        if (string.IsNullOrEmpty(host))
        {
            return;
        }

        foreach (char c in host)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                failures.Add($"{section}:Host '{host}' is not an address or host name to listen on (for example 127.0.0.1, 0.0.0.0 or ::).");
                return;
            }
        }
    }

    public static void Positive(TimeSpan value, string key, List<string> failures)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{key} must be positive, not {value}.");
        }
    }

    public static ValidateOptionsResult Result(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}
