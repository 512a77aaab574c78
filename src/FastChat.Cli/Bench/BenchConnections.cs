using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FastChat.Cli.Commands.User;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// The <c>connections</c> scenario: signs up one account per session, opens and resumes every session from a rotating
/// loopback source address, reads the servers' memory before and after (once the sessions sit idle), then holds them
/// for <see cref="BenchSettings.Hold"/> while a trickle of direct messages goes between random pairs, and closes them.
/// </summary>
/// <remarks>
/// A server keeps one session per user (a newer one replaces the older), so every held connection is its own account.
/// The servers' memory is the working set they report to the balancer (<c>ClusterStatus</c>): with <c>--spawn</c> the
/// servers and this generator share one process, so that number includes the generator's sessions too; the clean
/// number comes from <c>fastchat serve</c> in another process and <c>--balancer</c>.
/// </remarks>
internal sealed class BenchConnections : IBenchConnectionsOwner
{
    /// <summary>The most sessions the command accepts.</summary>
    public const int MaxConnections = 1_000_000;

    // Linux gives each source address its own ephemeral-port range (about 28,000 ports by default): 20,000 sessions an
    // address leaves room for the sign-up connections and for ports still in TIME_WAIT from an earlier run.
    private const int ConnectionsPerAddress = 20_000;

    // At least this many addresses, so that even a small run shows (and tests) the rotation.
    private const int MinimumSourceAddresses = 16;

    // Descriptors the process needs beside the sessions: the runtime, the balancer, the servers' listeners and links,
    // SQLite, the sign-up connections.
    private const int ReservedFileDescriptors = 512;

    // Sign-ups go over a few balancer connections, a few at a time each: the store, not the network, sets the pace.
    private const int SignUpConnections = 8;
    private const int SignUpsPerConnection = 4;

    // Sessions being connected at once: enough to keep the servers' accept loops busy, few enough not to overflow
    // their listen backlog.
    private const int ConnectConcurrency = 128;

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    // How long every session sits idle before the memory is read: time for the servers' allocations on connect to
    // settle and for a load report taken after the last connect.
    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(3);

    // How long to wait for a load report newer than the settle time before reading what there is.
    private static readonly TimeSpan ReportWait = TimeSpan.FromSeconds(10);

    // Well inside the servers' two-minute idle timeout.
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(30);

    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly BenchSettings _settings;
    private readonly BenchCluster _cluster;
    private readonly BenchConnectionsClient?[] _clients;
    private readonly string[] _names;
    private readonly LatencyHistogram _latency = new();
    private readonly List<string> _failures = [];
    private int[] _recipients = [];
    private long[] _seen = [];
    private long _issued;
    private long _acked;
    private long _errors;
    private long _delivered;
    private long _duplicates;
    private long _unexpected;
    private long _dropped;
    private long _lastDelivery;
    private int _failed;

    public BenchConnections(BenchSettings settings, BenchCluster cluster)
    {
        _settings = settings;
        _cluster = cluster;
        _clients = new BenchConnectionsClient?[settings.Connections];
        _names = new string[settings.Connections];
        MaxFrameSize = BenchRunner.MaxFrameSizeFor(settings.Size);
    }

    /// <inheritdoc/>
    public int MaxFrameSize { get; }

    /// <summary>How many file descriptors the run needs: one per session, two with <c>--spawn</c> (the servers' end is in this process too), and a reserve.</summary>
    public static long FileDescriptorsNeeded(int connections, bool spawn) => ((long)connections * (spawn ? 2 : 1)) + ReservedFileDescriptors;

    /// <summary>This process's open-file limit (RLIMIT_NOFILE, as the runtime raised it at start), or <see langword="null"/> where the system does not say.</summary>
    public static long? OpenFileLimit()
    {
        const string LimitsFile = "/proc/self/limits";
        if (!File.Exists(LimitsFile))
        {
            return null;
        }

        foreach (string line in File.ReadLines(LimitsFile))
        {
            // "Max open files            20000                20000                files"
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }

            string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long soft) ? soft : null;
        }

        return null;
    }

    /// <summary>The source addresses a run of <paramref name="connections"/> sessions rotates over: 127.0.0.1 upwards.</summary>
    public static IPAddress[] SourceAddresses(int connections)
    {
        int count = Math.Max(MinimumSourceAddresses, (connections + ConnectionsPerAddress - 1) / ConnectionsPerAddress);
        var addresses = new IPAddress[count];
        for (int i = 0; i < count; i++)
        {
            int host = i + 1;
            addresses[i] = new IPAddress([127, (byte)(host >> 16), (byte)(host >> 8), (byte)host]);
        }

        return addresses;
    }

    /// <summary>Runs the scenario to its end (or until <paramref name="cancellationToken"/> stops it early).</summary>
    /// <exception cref="FastChat.Client.ChatException">The balancer refused a sign-up.</exception>
    /// <exception cref="FastChat.Client.ChatConnectionException">The balancer could not be reached.</exception>
    /// <exception cref="ClusterStatusException">The balancer did not answer a status request.</exception>
    public async Task<BenchConnectionsResult> RunAsync(CancellationToken cancellationToken)
    {
        long signUpStart = Stopwatch.GetTimestamp();
        BenchAssignment[] assignments = await SignUpAllAsync(cancellationToken).ConfigureAwait(false);
        TimeSpan signUpTime = Stopwatch.GetElapsedTime(signUpStart);

        await using ClusterStatusQuery status = await ClusterStatusQuery.ConnectAsync(_cluster.Host, _cluster.Port, "fastchat-bench", cancellationToken).ConfigureAwait(false);
        MemorySnapshot before = await SnapshotAsync(status, cancellationToken).ConfigureAwait(false);

        IPAddress[] sources = SourceAddresses(_settings.Connections);
        var usedSources = new bool[sources.Length];
        long connectStart = Stopwatch.GetTimestamp();
        TimeSpan connectTime;
        try
        {
            await ConnectAllAsync(assignments, sources, usedSources, cancellationToken).ConfigureAwait(false);
            connectTime = Stopwatch.GetElapsedTime(connectStart);

            MemorySnapshot after;
            TrickleOutcome trickle;
            await Task.Delay(SettleTime, cancellationToken).ConfigureAwait(false);
            after = await SnapshotAsync(status, cancellationToken).ConfigureAwait(false);
            trickle = await HoldAsync(cancellationToken).ConfigureAwait(false);

            var used = new List<string>();
            for (int i = 0; i < sources.Length; i++)
            {
                if (usedSources[i])
                {
                    used.Add(sources[i].ToString());
                }
            }

            return new BenchConnectionsResult(
                _settings,
                _cluster.SpawnedServers,
                Connected: _settings.Connections - _failed,
                Failed: _failed,
                Failures: [.. _failures],
                SignUpTime: signUpTime,
                ConnectTime: connectTime,
                SourceAddresses: [.. used],
                Before: before,
                After: after,
                Trickle: trickle,
                Interrupted: cancellationToken.IsCancellationRequested);
        }
        finally
        {
            await CloseAllAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public void OnDirectMessage(BenchConnectionsClient client, in ReadOnlySequence<byte> body)
    {
        long now = Stopwatch.GetTimestamp();
        if (body.Length < BenchSettings.HeaderSize)
        {
            Interlocked.Increment(ref _unexpected);
            return;
        }

        Span<byte> header = stackalloc byte[BenchSettings.HeaderSize];
        body.Slice(0, BenchSettings.HeaderSize).CopyTo(header);
        long intended = BinaryPrimitives.ReadInt64LittleEndian(header);
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        if (sequence < 0 || sequence >= Volatile.Read(ref _issued) || _recipients[sequence] != client.Index)
        {
            Interlocked.Increment(ref _unexpected);
            return;
        }

        long mask = 1L << (int)(sequence & 63);
        if ((Interlocked.Or(ref _seen[sequence >> 6], mask) & mask) != 0)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        lock (_latency)
        {
            _latency.Record((long)((now - intended) * NanosecondsPerTick));
        }

        Interlocked.Increment(ref _delivered);
        Volatile.Write(ref _lastDelivery, now);
    }

    /// <inheritdoc/>
    public void OnAcked(uint requestId)
    {
        if (requestId != 0 && requestId <= Volatile.Read(ref _issued))
        {
            Interlocked.Increment(ref _acked);
        }
    }

    /// <inheritdoc/>
    public void OnError(uint requestId) => Interlocked.Increment(ref _errors);

    /// <inheritdoc/>
    public void OnDropped(BenchConnectionsClient client)
    {
        // Only a session that was established counts: a failed connect is counted as such.
        if (ReferenceEquals(Volatile.Read(ref _clients[client.Index]), client))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Signs up every account over a few balancer connections.</summary>
    private async Task<BenchAssignment[]> SignUpAllAsync(CancellationToken cancellationToken)
    {
        string run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        for (int i = 0; i < _names.Length; i++)
        {
            _names[i] = string.Create(CultureInfo.InvariantCulture, $"bench-{run}-{i}");
        }

        var assignments = new BenchAssignment[_names.Length];
        int links = Math.Min(SignUpConnections, Math.Max(1, _names.Length / 64));
        var connections = new BenchConnectionsSignUp[links];
        try
        {
            for (int i = 0; i < links; i++)
            {
                connections[i] = await BenchConnectionsSignUp.ConnectAsync(_cluster.Host, _cluster.Port, cancellationToken).ConfigureAwait(false);
            }

            int next = -1;
            var workers = new Task[links * SignUpsPerConnection];
            for (int w = 0; w < workers.Length; w++)
            {
                workers[w] = SignUpWorkerAsync(connections[w % links]);
            }

            await Task.WhenAll(workers).ConfigureAwait(false);

            async Task SignUpWorkerAsync(BenchConnectionsSignUp connection)
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < assignments.Length)
                {
                    assignments[index] = await connection.SignUpAsync(_names[index], cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            foreach (BenchConnectionsSignUp? connection in connections)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        return assignments;
    }

    private async Task ConnectAllAsync(BenchAssignment[] assignments, IPAddress[] sources, bool[] usedSources, CancellationToken cancellationToken)
    {
        var endPoints = new Dictionary<(string Host, int Port), IPEndPoint>();
        int next = -1;
        var workers = new Task[Math.Min(ConnectConcurrency, assignments.Length)];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = ConnectWorkerAsync();
        }

        await Task.WhenAll(workers).ConfigureAwait(false);

        async Task ConnectWorkerAsync()
        {
            await Task.Yield();
            int index;
            while ((index = Interlocked.Increment(ref next)) < assignments.Length && !cancellationToken.IsCancellationRequested)
            {
                BenchAssignment assignment = assignments[index];
                IPEndPoint server;
                lock (endPoints)
                {
                    if (!endPoints.TryGetValue((assignment.Host, assignment.Port), out server!))
                    {
                        server = Resolve(assignment.Host, assignment.Port);
                        endPoints.Add((assignment.Host, assignment.Port), server);
                    }
                }

                // Rotating over 127.0.0.x works only towards an IPv4 loopback server; elsewhere the system picks.
                int source = index % sources.Length;
                bool bind = IPAddress.IsLoopback(server.Address) && server.AddressFamily == AddressFamily.InterNetwork;
                try
                {
                    BenchConnectionsClient client = await BenchConnectionsClient.ConnectAsync(
                        this, index, bind ? sources[source] : null, server, assignment.SessionToken, ConnectTimeout, cancellationToken).ConfigureAwait(false);
                    Volatile.Write(ref _clients[index], client);
                    if (bind)
                    {
                        usedSources[source] = true;
                    }
                }
                catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
                {
                    RecordFailure(ex.Message);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    RecordFailure("interrupted");
                }
            }
        }
    }

    private static IPEndPoint Resolve(string host, int port)
    {
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new IPEndPoint(address, port);
        }

        // A server that advertises a name: the first address it resolves to, preferring IPv4 (and so the rotation).
        IPAddress[] addresses = Dns.GetHostAddresses(host);
        foreach (IPAddress candidate in addresses)
        {
            if (candidate.AddressFamily == AddressFamily.InterNetwork)
            {
                return new IPEndPoint(candidate, port);
            }
        }

        return new IPEndPoint(addresses[0], port);
    }

    private void RecordFailure(string message)
    {
        Interlocked.Increment(ref _failed);
        lock (_failures)
        {
            // A few distinct reasons say what went wrong; ten thousand copies of one say nothing more.
            if (_failures.Count < 5 && !_failures.Contains(message))
            {
                _failures.Add(message);
            }
        }
    }

    /// <summary>Holds every session for the hold time, sending the trickle (if any) on a fixed schedule and pinging every session now and then.</summary>
    private async Task<TrickleOutcome> HoldAsync(CancellationToken cancellationToken)
    {
        var live = new List<int>(_clients.Length);
        for (int i = 0; i < _clients.Length; i++)
        {
            if (_clients[i] is not null)
            {
                live.Add(i);
            }
        }

        long planned = live.Count >= 2 ? (long)Math.Floor(_settings.Trickle * _settings.Hold.TotalSeconds) : 0;
        _recipients = new int[planned];
        _seen = new long[(planned + 63) / 64];
        long start = Stopwatch.GetTimestamp();
        long end = start + (long)(_settings.Hold.TotalSeconds * Stopwatch.Frequency);
        long nextPing = start + (long)(PingInterval.TotalSeconds * Stopwatch.Frequency);
        double interval = planned > 0 ? Stopwatch.Frequency / _settings.Trickle : 0;
        byte[] body = RandomNumberGenerator.GetBytes(_settings.Size);
        long lastSend = start;
        try
        {
            for (long sequence = 0; ; sequence++)
            {
                long due = sequence < planned ? start + (long)(sequence * interval) : end;
                if (due >= end && Stopwatch.GetTimestamp() >= end)
                {
                    break;
                }

                due = Math.Min(due, end);
                while (Stopwatch.GetTimestamp() < due)
                {
                    if (Stopwatch.GetTimestamp() >= nextPing)
                    {
                        PingAll();
                        nextPing += (long)(PingInterval.TotalSeconds * Stopwatch.Frequency);
                    }

                    // Whole milliseconds, rounded up: a timer never fires early that way (and latency counts from the
                    // scheduled time anyway).
                    double milliseconds = (Math.Min(due, nextPing) - Stopwatch.GetTimestamp()) * 1e3 / Stopwatch.Frequency;
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(milliseconds))), cancellationToken).ConfigureAwait(false);
                }

                if (sequence >= planned)
                {
                    break;
                }

                int from = live[RandomNumberGenerator.GetInt32(live.Count)];
                int to = live[RandomNumberGenerator.GetInt32(live.Count - 1)];
                if (to == from)
                {
                    // The one index the draw above leaves out stands in for the sender's own.
                    to = live[^1];
                }

                BinaryPrimitives.WriteInt64LittleEndian(body, due);
                BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(8), sequence);
                _recipients[sequence] = to;

                // Published after the recipient, before the send: a receiver never takes this sequence for one not sent.
                Volatile.Write(ref _issued, sequence + 1);
                BenchConnectionsClient? sender = _clients[from];
                if (sender is null || !sender.SendDirect((uint)(sequence + 1), _names[to], body))
                {
                    Interlocked.Increment(ref _errors);
                }

                lastSend = Stopwatch.GetTimestamp();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted: the counts cover the trickle so far.
        }

        TimeSpan holdTime = Stopwatch.GetElapsedTime(start);
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        // The histogram is read once the sessions are closed (after RunAsync), when no receive loop records any more.
        return new TrickleOutcome(
            Volatile.Read(ref _issued),
            Volatile.Read(ref _acked),
            Volatile.Read(ref _delivered),
            Volatile.Read(ref _duplicates),
            Volatile.Read(ref _errors),
            Volatile.Read(ref _unexpected),
            Volatile.Read(ref _dropped),
            holdTime,
            Stopwatch.GetElapsedTime(start, Math.Max(lastSend, start)),
            _latency);
    }

    /// <summary>Waits for the trickle's last deliveries and acknowledgements, as long as they keep coming.</summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        long issued = Volatile.Read(ref _issued);
        long lastCount = -1;
        long lastProgress = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            long count = Volatile.Read(ref _delivered) + Volatile.Read(ref _acked);
            if (Volatile.Read(ref _delivered) + Volatile.Read(ref _duplicates) >= issued && Volatile.Read(ref _acked) + Volatile.Read(ref _errors) >= issued)
            {
                return;
            }

            if (count != lastCount)
            {
                lastCount = count;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress) > BenchRunner.DrainTimeout)
            {
                return;
            }

            try
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void PingAll()
    {
        foreach (BenchConnectionsClient? client in _clients)
        {
            client?.Ping();
        }
    }

    private async Task CloseAllAsync()
    {
        var closing = new List<Task>(_clients.Length);
        for (int i = 0; i < _clients.Length; i++)
        {
            if (Interlocked.Exchange(ref _clients[i], null) is { } client)
            {
                closing.Add(client.CloseAsync());
            }
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    /// <summary>
    /// The servers' reports (waiting up to <see cref="ReportWait"/> for reports taken after this call, with a memory
    /// figure: the balancer lists a server from its registration on, before its first load report) and this process's
    /// own memory.
    /// </summary>
    private async Task<MemorySnapshot> SnapshotAsync(ClusterStatusQuery status, CancellationToken cancellationToken)
    {
        // A second of slack: the report's time is the balancer's clock, rounded to what the wire format keeps.
        DateTime notBefore = DateTime.UtcNow - TimeSpan.FromSeconds(1);
        long waitStart = Stopwatch.GetTimestamp();
        IReadOnlyList<ServerStatus> servers;
        while (true)
        {
            servers = await status.QueryAsync(cancellationToken).ConfigureAwait(false);
            bool fresh = true;
            foreach (ServerStatus server in servers)
            {
                fresh &= !server.Live || (server.LastReportAt >= notBefore && server.MemoryBytes > 0);
            }

            if (fresh || Stopwatch.GetElapsedTime(waitStart) > ReportWait)
            {
                break;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        var reports = new List<ServerStatus>(servers.Count);
        foreach (ServerStatus server in servers)
        {
            if (server.Live)
            {
                reports.Add(server);
            }
        }

        using Process process = Process.GetCurrentProcess();
        return new MemorySnapshot(reports, process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false), GC.GetGCMemoryInfo().HeapSizeBytes);
    }
}

/// <summary>Memory at one moment: the live servers' last reports and this process's own numbers.</summary>
/// <param name="Servers">The live servers as the balancer reported them.</param>
/// <param name="ProcessWorkingSet">This process's working set in bytes.</param>
/// <param name="ManagedBytes">This process's allocated managed bytes (<see cref="GC.GetTotalMemory(bool)"/>, no collection forced).</param>
/// <param name="GcHeapBytes">This process's GC heap size after the last collection.</param>
internal sealed record MemorySnapshot(IReadOnlyList<ServerStatus> Servers, long ProcessWorkingSet, long ManagedBytes, long GcHeapBytes);

/// <summary>The trickle's counts while the sessions were held.</summary>
/// <param name="Sent">Messages sent.</param>
/// <param name="Acked">Messages the servers accepted.</param>
/// <param name="Delivered">First deliveries.</param>
/// <param name="Duplicates">Second and later deliveries.</param>
/// <param name="Failed">Sends that could not go or that the server refused.</param>
/// <param name="Unexpected">Received messages that were no part of the run.</param>
/// <param name="Dropped">Held sessions that ended without this process closing them.</param>
/// <param name="HoldTime">How long the sessions were held.</param>
/// <param name="SendTime">From the start of the hold to the last send.</param>
/// <param name="Latency">One-way latencies in nanoseconds, from each message's scheduled time.</param>
internal sealed record TrickleOutcome(
    long Sent,
    long Acked,
    long Delivered,
    long Duplicates,
    long Failed,
    long Unexpected,
    long Dropped,
    TimeSpan HoldTime,
    TimeSpan SendTime,
    LatencyHistogram Latency)
{
    /// <summary>Messages sent and never delivered.</summary>
    public long Lost => Sent - Delivered;
}
