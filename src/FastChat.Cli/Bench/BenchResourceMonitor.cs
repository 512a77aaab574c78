using System.Diagnostics;
using FastChat.Cli.Commands.User;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// Samples the cluster's CPU and memory while a bench run measures: once per <see cref="SampleInterval"/> it asks the
/// balancer for its <c>ClusterStatus</c> (the servers' latest load reports), and it reads this process's own CPU time
/// at the start and the end. Failing to ask the balancer never fails the run: the figures are then missing and
/// <see cref="BenchResources.Problem"/> says why.
/// </summary>
/// <remarks>
/// Servers report on their own schedule (every second by default, every 200 ms in a spawned cluster), so a sample can
/// see the same report twice; each report is counted once, by its time, and only reports made after the run started
/// count, so sign-up's key derivation does not show up as messaging load.
/// </remarks>
internal sealed class BenchResourceMonitor : IAsyncDisposable
{
    /// <summary>How often the balancer is asked: servers report about once a second, asking more often sees nothing new.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);

    private readonly string _host;
    private readonly int _port;
    private readonly bool _serversInProcess;
    private readonly Dictionary<string, Accumulator> _servers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly DateTime _startedAt = DateTime.UtcNow;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly TimeSpan _startCpu = Environment.CpuUsage.TotalTime;
    private ClusterStatusQuery? _query;
    private Task _sampling = Task.CompletedTask;
    private double _maxTotalCpu;
    private string? _problem;
    private bool _stopped;

    private BenchResourceMonitor(string host, int port, bool serversInProcess)
    {
        _host = host;
        _port = port;
        _serversInProcess = serversInProcess;
    }

    /// <summary>Starts sampling now; the run's measured time starts with it.</summary>
    /// <param name="host">The balancer's host.</param>
    /// <param name="port">The balancer's port.</param>
    /// <param name="serversInProcess">Whether the servers run in this process (<c>--spawn</c>).</param>
    public static BenchResourceMonitor Start(string host, int port, bool serversInProcess)
    {
        var monitor = new BenchResourceMonitor(host, port, serversInProcess);
        monitor._sampling = monitor.SampleLoopAsync(monitor._stopping.Token);
        return monitor;
    }

    /// <summary>Stops sampling, takes one last sample (so that a run shorter than the interval has figures too) and sums up.</summary>
    /// <param name="cancellationToken">The run's token: once the user interrupted, the last sample is skipped.</param>
    public async Task<BenchResources> StopAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_stopped, this);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(_start);
        TimeSpan benchCpu = Environment.CpuUsage.TotalTime - _startCpu;
        _stopped = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sampling.ConfigureAwait(false);
        try
        {
            if (_problem is null && !cancellationToken.IsCancellationRequested)
            {
                await SampleAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted: sum up what was sampled so far.
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }

        return Summarize(elapsed, benchCpu);
    }

    /// <summary>Stops sampling without summing up (the run failed); does nothing after <see cref="StopAsync"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sampling.ConfigureAwait(false);
        await CloseAsync().ConfigureAwait(false);
    }

    private async ValueTask CloseAsync()
    {
        if (_query is not null)
        {
            await _query.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task SampleLoopAsync(CancellationToken cancellationToken)
    {
        // Off the caller's stack: the caller starts the send loops next.
        await Task.Yield();
        using var timer = new PeriodicTimer(SampleInterval);
        try
        {
            while (_problem is null && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await SampleAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: the run ended.
        }
    }

    /// <summary>Asks the balancer once and folds the answer in; a failure is kept as the problem and ends sampling.</summary>
    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ServerStatus> servers;
        try
        {
            _query ??= await ClusterStatusQuery.ConnectAsync(_host, _port, "fastchat-bench", CancellationToken.None).ConfigureAwait(false);
            servers = await _query.QueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ClusterStatusException ex)
        {
            _problem = "no server CPU or memory figures: " + ex.Message;
            return;
        }

        double total = 0;
        double highest = 0;
        foreach (ServerStatus server in servers)
        {
            if (!server.Live || server.LastReportAt < _startedAt)
            {
                continue;
            }

            if (!_servers.TryGetValue(server.ServerId, out Accumulator? usage))
            {
                usage = new Accumulator();
                _servers.Add(server.ServerId, usage);
            }

            usage.Add(server);
            total += server.Cpu;
            highest = Math.Max(highest, server.Cpu);
        }

        // In one process every server reports the same process's CPU: count it once.
        _maxTotalCpu = Math.Max(_maxTotalCpu, _serversInProcess ? highest : total);
    }

    private BenchResources Summarize(TimeSpan elapsed, TimeSpan benchCpu)
    {
        var servers = new List<ServerUsage>(_servers.Count);
        double meanTotal = 0;
        foreach ((string id, Accumulator usage) in _servers)
        {
            double mean = usage.SumCpu / usage.Reports;
            servers.Add(new ServerUsage(id, usage.Reports, mean, usage.MaxCpu, usage.PeakMemoryBytes));
            meanTotal += mean;
        }

        servers.Sort(static (x, y) => string.CompareOrdinal(x.ServerId, y.ServerId));
        int processors = Environment.ProcessorCount;
        TimeSpan serverCpu;
        if (_serversInProcess)
        {
            // The servers' own reports are the process's CPU over their report interval; the process's CPU time over
            // exactly the measured span is the better figure (and the same process).
            serverCpu = benchCpu;
            meanTotal = elapsed > TimeSpan.Zero ? benchCpu.TotalSeconds / (elapsed.TotalSeconds * processors) : 0;
        }
        else
        {
            serverCpu = TimeSpan.FromSeconds(meanTotal * processors * elapsed.TotalSeconds);
        }

        string? problem = _problem;
        if (problem is null && servers.Count == 0 && !_serversInProcess)
        {
            problem = "no server CPU or memory figures: no server sent a load report during the run (it was shorter than their report interval).";
        }

        return new BenchResources(servers, _serversInProcess, elapsed, processors, meanTotal, Math.Max(_maxTotalCpu, meanTotal), serverCpu, benchCpu, problem);
    }

    /// <summary>One server's reports so far; each report is counted once, by its time.</summary>
    private sealed class Accumulator
    {
        private DateTime _lastReportAt;

        public int Reports { get; private set; }

        public double SumCpu { get; private set; }

        public double MaxCpu { get; private set; }

        public long PeakMemoryBytes { get; private set; }

        public void Add(in ServerStatus server)
        {
            if (server.LastReportAt <= _lastReportAt)
            {
                return;
            }

            _lastReportAt = server.LastReportAt;
            Reports++;
            SumCpu += server.Cpu;
            MaxCpu = Math.Max(MaxCpu, server.Cpu);
            PeakMemoryBytes = Math.Max(PeakMemoryBytes, server.MemoryBytes);
        }
    }
}
