using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace FastChat.Hosts.Hosting.Internal;

/// <summary>
/// Binds every instance (all names) of <typeparamref name="TOptions"/> from a configuration section of the
/// application's <see cref="IConfiguration"/>, when there is one: a bare <c>ServiceCollection</c> without
/// configuration still works, with the defaults and the code's <c>configure</c> callbacks.
/// </summary>
internal sealed class ConfigurationBinding<TOptions> : IConfigureNamedOptions<TOptions>
    where TOptions : class
{
    private readonly IConfiguration? _configuration;
    private readonly string? _section;

    /// <param name="configuration">The configuration, if the application has one.</param>
    /// <param name="section">The section to bind, or <see langword="null"/> to bind <paramref name="configuration"/> itself.</param>
    public ConfigurationBinding(IConfiguration? configuration, string? section)
    {
        _configuration = configuration;
        _section = section;
    }

    public void Configure(TOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, TOptions options)
    {
        if (_configuration is null)
        {
            return;
        }

        try
        {
            (_section is null ? _configuration : _configuration.GetSection(_section)).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder's "Failed to convert configuration value at 'FastChat:Balancer:Port' to type 'System.Int32'"
            // is a configuration error like any other: report it the same way as a failed validation.
            throw new OptionsValidationException(name ?? Options.DefaultName, typeof(TOptions), [ex.Message]);
        }
    }
}
