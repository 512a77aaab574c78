using System.Globalization;
using FastChat.Cli.Commands.User;
using Spectre.Console;

namespace FastChat.Cli.Bench;

/// <summary>
/// Runs <c>fastchat bench connections</c> once its command line is validated: checks that this process may open that
/// many sockets, starts (or reaches) the cluster, runs <see cref="BenchConnections"/> and prints its result.
/// </summary>
internal static class BenchConnectionsCommand
{
    /// <summary>Runs the scenario; returns the process exit code (0 clean, 1 not clean or failed, 2 for a limit the machine sets).</summary>
    public static async Task<int> ExecuteAsync(BenchSettings settings, string? jsonPath, CancellationToken cancellationToken)
    {
        bool spawn = settings.BalancerHost is null;
        if (BenchConnections.OpenFileLimit() is { } limit && BenchConnections.FileDescriptorsNeeded(settings.Connections, spawn) > limit)
        {
            long fits = Math.Max(0, (limit - BenchConnections.FileDescriptorsNeeded(0, spawn)) / (spawn ? 2 : 1));
            await Console.Error.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"fastchat: {settings.Connections} connections need about {BenchConnections.FileDescriptorsNeeded(settings.Connections, spawn)} open files in this process{(spawn ? " (with --spawn both ends of every connection are here)" : string.Empty)}, but its limit is {limit}: at most {fits} fit. Raise the limit (e.g. `ulimit -n 1048576`, as far as the hard limit allows){(spawn ? ", run the server as a separate process (`fastchat serve`) and use --balancer," : string.Empty)} or ask for fewer --connections.")).ConfigureAwait(false);
            return ExitCodes.BadUsage;
        }

        string where = spawn ? "the in-process cluster" : $"{settings.BalancerHost}:{settings.BalancerPort}";
        BenchConnectionsResult result;
        try
        {
            await using BenchCluster cluster = spawn
                ? await BenchCluster.SpawnAsync(settings.Servers, BenchRunner.MaxFrameSizeFor(settings.Size), null, cancellationToken).ConfigureAwait(false)
                : BenchCluster.Existing(settings.BalancerHost!, settings.BalancerPort);
            result = await new BenchConnections(settings, cluster).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("fastchat: bench interrupted before it started measuring.").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (ClusterStatusException ex)
        {
            await Console.Error.WriteLineAsync("fastchat: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ExitCodes.TryDescribe(ex, where, out int exitCode, out string message))
        {
            await Console.Error.WriteLineAsync("fastchat: " + message).ConfigureAwait(false);
            return exitCode;
        }

        IAnsiConsole console = BenchConsole.ForResults();

        result.WriteTable(console);
        if (jsonPath is not null)
        {
            try
            {
                await result.WriteJsonAsync(jsonPath, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"fastchat: cannot write {jsonPath}: {ExitCodes.Sentence(ex.Message)}").ConfigureAwait(false);
                return ExitCodes.Failure;
            }
        }

        if (result.Clean)
        {
            return ExitCodes.Success;
        }

        TrickleOutcome trickle = result.Trickle;
        await Console.Error.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"fastchat: bench run not clean: {result.Failed} failed to connect, {trickle.Dropped} dropped, {trickle.Lost} lost, {trickle.Duplicates} duplicated, {trickle.Failed} failed, {trickle.Unexpected} unexpected{(result.Interrupted ? ", interrupted" : string.Empty)}.")).ConfigureAwait(false);
        return ExitCodes.Failure;
    }
}
