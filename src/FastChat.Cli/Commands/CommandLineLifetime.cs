using Microsoft.Extensions.Hosting;

namespace FastChat.Cli.Commands;

/// <summary>
/// A host lifetime that leaves signals to <see cref="Program"/>: the default console lifetime would register its own
/// SIGINT/SIGTERM handlers and stop the host behind the command's back, before it can report and pick its exit code.
/// </summary>
internal sealed class CommandLineLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
