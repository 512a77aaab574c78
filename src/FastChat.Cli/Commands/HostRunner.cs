using FastChat.Hosts.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace FastChat.Cli.Commands;

/// <summary>
/// Builds and runs the generic host for <c>serve</c>, <c>balancer</c> and <c>server</c>: configuration from
/// appsettings.json, environment variables and the command line (in rising precedence), logs on stderr (stdout carries
/// only the command's own report), systemd readiness, and the exit codes of the README (0 stopped on request,
/// 1 run-time failure, 2 invalid command line or configuration).
/// </summary>
internal static class HostRunner
{
    // Long enough for the chat servers' own drain (ChatServerOptions.ShutdownTimeout, 5 s by default) and the
    // balancer after them; systemd's TimeoutStopSec in the units is longer still.
    private static readonly TimeSpan s_shutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Creates the builder with the command line's settings as the last (strongest) configuration source.</summary>
    public static HostApplicationBuilder CreateBuilder(IReadOnlyDictionary<string, string?> overrides)
    {
        // The options are read once at start; watching appsettings.json for changes would only cost inotify watches.
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection([new("hostBuilder:reloadConfigOnChange", "false")]);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = "fastchat",
            Configuration = configuration,
        });
        builder.Configuration.AddInMemoryCollection(overrides);

        builder.Logging.ClearProviders();
        builder.Logging.AddEventSourceLogger();
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is not null)
        {
            // Under systemd: journald adds its own timestamps and understands the <N> priority prefixes.
            builder.Logging.AddSystemdConsole();
        }
        else
        {
            builder.Logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);

        // The host logs a failed start with the exception's stack trace; RunAsync reports it as one plain sentence
        // instead (and FastChat's own services log their failures themselves).
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Services.AddSingleton<IHostLifetime, CommandLineLifetime>();
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = s_shutdownTimeout);
        builder.Services.AddSystemdNotifier();
        return builder;
    }

    /// <summary>Starts the host, reports through <paramref name="report"/>, runs until a stop signal, stops gracefully.</summary>
    public static async Task<int> RunAsync(HostApplicationBuilder builder, Action<IServiceProvider> report, CancellationToken cancellationToken)
    {
        IHost host = builder.Build();
        try
        {
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C while starting: stop what did start, as for a stop after start.
                await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
                Console.WriteLine("fastchat: stopped");
                return 0;
            }
            catch (Exception ex) when (ConfigurationErrors(ex) is { Count: > 0 } errors)
            {
                foreach (string error in errors)
                {
                    await Console.Error.WriteLineAsync("fastchat: " + error).ConfigureAwait(false);
                }

                return Program.ExitBadUsage;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever stops the start (a port in use, an unreachable database, an unreadable key file) is
                // reported as one line; the log above it has the details.
                await Console.Error.WriteLineAsync("fastchat: cannot start: " + Describe(ex)).ConfigureAwait(false);
                return 1;
            }

            report(host.Services);
            Console.WriteLine("fastchat: ready (Ctrl-C to stop)");

            // Runs until a signal (Program cancels the token) or until the host stops itself (a hosted service failed).
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (cancellationToken.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), stop))
            using (lifetime.ApplicationStopping.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), stop))
            {
                await stop.Task.ConfigureAwait(false);
            }

            bool requested = cancellationToken.IsCancellationRequested;
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            Console.WriteLine("fastchat: stopped");
            return requested ? 0 : 1;
        }
        finally
        {
            // The store is IAsyncDisposable only: a synchronous Dispose of the container would throw.
            if (host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                host.Dispose();
            }
        }
    }

    /// <summary>Reads a setting as the host will see it (overrides included), for decisions made before the host is built.</summary>
    public static string? Setting(HostApplicationBuilder builder, string key)
    {
        string? value = builder.Configuration[key];
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    private static List<string> ConfigurationErrors(Exception exception)
    {
        var errors = new List<string>();
        Collect(exception, errors);
        return errors;

        static void Collect(Exception exception, List<string> errors)
        {
            switch (exception)
            {
                case OptionsValidationException validation:
                    foreach (string failure in validation.Failures)
                    {
                        // Settings shared by several servers of one process fail once per server: say it once.
                        if (!errors.Contains(failure))
                        {
                            errors.Add(failure);
                        }
                    }

                    break;
                case AggregateException aggregate:
                    foreach (Exception inner in aggregate.InnerExceptions)
                    {
                        Collect(inner, errors);
                    }

                    break;
            }
        }
    }

    private static string Describe(Exception exception)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        string message = exception.Message;
        if (exception.InnerException is { } inner && !message.Contains(inner.Message, StringComparison.Ordinal))
        {
            message += " (" + inner.Message + ")";
        }

        return message;
    }
}
