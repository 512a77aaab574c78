using FastChat.Compare;

// fastchat-compare: one workload against one target, one JSON line out. bench/compare/run.sh drives it, interleaving
// targets and rounds; see bench/compare/README.md.
if (args is ["report", string resultsFile])
{
    // fastchat-compare report RESULTS.jsonl: the markdown tables of an interleaved run.
    try
    {
        Console.Write(CompareReport.Render(await File.ReadAllLinesAsync(resultsFile).ConfigureAwait(false)));
        return 0;
    }
    catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
    {
        await Console.Error.WriteLineAsync("fastchat-compare report: " + ex.Message).ConfigureAwait(false);
        return 1;
    }
}

CompareOptions options;
try
{
    options = CompareOptions.Parse(args);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync("fastchat-compare: " + ex.Message).ConfigureAwait(false);
    await Console.Error.WriteLineAsync(CompareOptions.Usage).ConfigureAwait(false);
    return 2;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

try
{
    var runner = new CompareRunner(options.CreateTarget(), options.Workload, options.ServerPids, options.ClockTicks);
    RunResult result = await runner.RunAsync(interrupted.Token).ConfigureAwait(false);
    Console.WriteLine(result.ToJson());
    return result.IsHealthy ? 0 : 3;
}
catch (Exception ex) when (ex is IOException or ArgumentException or OperationCanceledException)
{
    await Console.Error.WriteLineAsync($"fastchat-compare: {options.Target} {options.Workload.Describe()}: {ex.Message}").ConfigureAwait(false);
    return 1;
}
