using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FastChat.Client;

namespace FastChat.Cli.Bench;

/// <summary>
/// Runs one bench: signs up the pairs' users (or the group's members, and forms the group), sends (closed loop: at most
/// a window of messages in flight per pair or group sender; open loop: each sender's share of the rate on a fixed
/// schedule), waits for the last deliveries, and gathers the
/// counts and latencies.
/// </summary>
internal sealed class BenchRunner
{
    /// <summary>Without a single new delivery for this long while sending, the run stops sending: something is stuck.</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait after sending for the deliveries still on their way, as long as they keep coming.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    // The PBKDF2 floor: the bench measures messaging, not sign-up.
    private const int KdfIterations = ChatClientOptions.MinimumKdfIterations;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly BenchSettings _settings;
    private readonly BenchCluster _cluster;
    private BenchIdentities? _identities;
    private readonly BenchTimeline _timeline = new();
    private BenchResources? _resources;
    private BenchLiveStatus? _current;

    public BenchRunner(BenchSettings settings, BenchCluster cluster)
    {
        _settings = settings;
        _cluster = cluster;
    }

    /// <summary>
    /// The run's counts as of the latest poll, for a live display on another thread; <see langword="null"/> until sending
    /// starts (while users sign up).
    /// </summary>
    public BenchLiveStatus? Current => Volatile.Read(ref _current);

    /// <summary>The largest frame the run needs: the default, or more for bodies near 1 MiB.</summary>
    public static int MaxFrameSizeFor(int size) =>
        Math.Max(FastChat.Protocol.Messages.ProtocolConstants.DefaultMaxFrameSize, size + ChatClient.FrameOverhead);

    /// <summary>Runs the bench to its end (or until <paramref name="cancellationToken"/> stops it early).</summary>
    /// <exception cref="ChatException">The cluster refused a sign-up, or a group request (e.g. the group is larger than the servers allow).</exception>
    /// <exception cref="ChatConnectionException">The cluster could not be reached.</exception>
    public async Task<BenchResult> RunAsync(CancellationToken cancellationToken)
    {
        if (_settings.Scenario == BenchScenario.Group)
        {
            return await RunGroupAsync(cancellationToken).ConfigureAwait(false);
        }

        BenchPair[] pairs = await SignUpPairsAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await MeasureAsync(pairs, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (BenchPair pair in pairs)
            {
                await pair.Sender.DisposeAsync().ConfigureAwait(false);
                await pair.Receiver.DisposeAsync().ConfigureAwait(false);
            }

            _identities?.Dispose();
        }
    }

    private async Task<BenchResult> MeasureAsync(BenchPair[] pairs, CancellationToken cancellationToken)
    {
        using var reading = new CancellationTokenSource();
        var readers = new Task[pairs.Length * 2];
        for (int i = 0; i < pairs.Length; i++)
        {
            readers[2 * i] = pairs[i].ReadAsync(isSender: true, reading.Token);
            readers[(2 * i) + 1] = pairs[i].ReadAsync(isSender: false, reading.Token);
        }

        (long start, bool stalled) = await SendAllAsync(pairs, () => SumOf(pairs), cancellationToken).ConfigureAwait(false);

        await reading.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(readers).ConfigureAwait(false);

        var latency = new LatencyHistogram();
        long sent = 0, acked = 0, failed = 0, delivered = 0, duplicates = 0, unexpected = 0, lastDelivery = start, lastSend = start;
        foreach (BenchPair pair in pairs)
        {
            latency.Merge(pair.Latency);
            sent += pair.Sent;
            acked += pair.Acked;
            failed += pair.Failed;
            delivered += pair.Delivered;
            duplicates += pair.Duplicates;
            unexpected += pair.Unexpected;
            lastDelivery = Math.Max(lastDelivery, pair.LastDelivery);
            lastSend = Math.Max(lastSend, pair.LastSend);
        }

        return new BenchResult(
            _settings,
            _cluster.SpawnedServers,
            sent,
            acked,
            delivered,
            sent,
            duplicates,
            failed,
            unexpected,
            stalled,
            cancellationToken.IsCancellationRequested,
            Stopwatch.GetElapsedTime(start, lastSend),
            Stopwatch.GetElapsedTime(start, lastDelivery),
            latency,
            _timeline,
            _resources);
    }

    /// <summary>
    /// The group scenario: signs up the members, has the first create the group and add the others (every member read
    /// from the start, since each addition notifies every member so far), then sends and gathers as for pairs.
    /// </summary>
    private async Task<BenchResult> RunGroupAsync(CancellationToken cancellationToken)
    {
        (ChatClient[] clients, string[] names, string run) = await SignUpAsync(_settings.GroupSize, cancellationToken).ConfigureAwait(false);
        var group = new BenchGroup($"bench-{run}-group", _settings.Size, InFlightLimit, clients, names, _settings.GroupSenders, _identities);
        long start;
        bool stalled;
        using (var reading = new CancellationTokenSource())
        {
            var readers = new Task[clients.Length];
            for (int i = 0; i < clients.Length; i++)
            {
                readers[i] = group.ReadAsync(i, reading.Token);
            }

            try
            {
                ChatClient admin = clients[0];
                await admin.CreateGroupAsync(group.Name, cancellationToken).ConfigureAwait(false);
                for (int i = 1; i < clients.Length; i++)
                {
                    await admin.AddMemberAsync(group.Name, names[i], cancellationToken).ConfigureAwait(false);
                }

                // With --e2e only: the group key, wrapped for every member, before the first message.
                await group.DistributeKeyAsync(cancellationToken).ConfigureAwait(false);

                (start, stalled) = await SendAllAsync(group.Senders, group.Progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await reading.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(readers).ConfigureAwait(false);
                foreach (ChatClient client in clients)
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                }

                _identities?.Dispose();
            }
        }

        var latency = new LatencyHistogram();
        group.MergeLatencies(latency);
        BenchProgress totals = group.Progress();
        return new BenchResult(
            _settings,
            _cluster.SpawnedServers,
            totals.Sent,
            totals.Acked,
            totals.Delivered,
            totals.Expected,
            group.Duplicates(),
            totals.Failed,
            group.Unexpected(),
            stalled,
            cancellationToken.IsCancellationRequested,
            Stopwatch.GetElapsedTime(start, Math.Max(start, group.LastSend())),
            Stopwatch.GetElapsedTime(start, Math.Max(start, group.LastDelivery())),
            latency,
            _timeline,
            _resources);
    }

    /// <summary>Runs every send loop to its end, then waits for the deliveries still on their way; returns the start and whether the run stalled.</summary>
    private async Task<(long Start, bool Stalled)> SendAllAsync(IBenchSender[] senders, Func<BenchProgress> progress, CancellationToken cancellationToken)
    {
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using BenchResourceMonitor resources = BenchResourceMonitor.Start(_cluster.Host, _cluster.Port, serversInProcess: _cluster.SpawnedServers > 0);
        long start = Stopwatch.GetTimestamp();
        Observe(start, progress());
        var loops = new Task[senders.Length];
        for (int i = 0; i < senders.Length; i++)
        {
            loops[i] = SendAsync(senders[i], ShareOf(i), start, sending.Token);
        }

        Task allSent = Task.WhenAll(loops);
        bool stalled = await WatchAsync(progress, allSent, start, sending, cancellationToken).ConfigureAwait(false);
        await allSent.ConfigureAwait(false);
        await DrainAsync(progress, start, cancellationToken).ConfigureAwait(false);
        BenchProgress end = progress();
        _timeline.Complete(Stopwatch.GetElapsedTime(start), end.Sent, end.Delivered);
        Volatile.Write(ref _current, new BenchLiveStatus(Stopwatch.GetElapsedTime(start), end, Draining: true));
        _resources = await resources.StopAsync(cancellationToken).ConfigureAwait(false);
        return (start, stalled);
    }

    private long ShareOf(int index) => LoadShape.ShareOf(_settings.Messages, _settings.SenderCount, index);

    private async Task SendAsync(IBenchSender sender, long count, long start, CancellationToken cancellationToken)
    {
        // Yield first: the caller starts every send loop before any of them runs.
        await Task.Yield();
        var shape = new LoadShape(start, _settings.SenderCount, _settings.Rate, _settings.Duration, Stopwatch.Frequency);
        try
        {
            for (long i = 0; i < count; i++)
            {
                long intended;
                if (_settings.OpenLoop)
                {
                    // Message i is due at start + i / (per-sender rate), whenever the previous ones went: a slow
                    // cluster shows up as latency from this time, not as fewer, later measurements.
                    intended = shape.IntendedTimestamp(i);
                    if (shape.IsPastEnd(intended))
                    {
                        return;
                    }

                    // Never early: a timer works in whole milliseconds (a shorter delay completes at once) and may
                    // fire a little before its time, so round up and check again.
                    long wait;
                    while ((wait = intended - Stopwatch.GetTimestamp()) > 0)
                    {
                        double milliseconds = Math.Ceiling(wait * 1e3 / Stopwatch.Frequency);
                        await Task.Delay(TimeSpan.FromMilliseconds(milliseconds), cancellationToken).ConfigureAwait(false);
                    }

                    await sender.Window.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await sender.Window.WaitAsync(cancellationToken).ConfigureAwait(false);
                    intended = Stopwatch.GetTimestamp();
                    if (shape.IsPastEnd(intended))
                    {
                        return;
                    }
                }

                sender.Send(intended);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: the duration ran out, the run stalled, or the user interrupted it.
        }
    }

    /// <summary>
    /// While the senders run: stops them at the end of the duration (a closed-loop sender may be waiting for its
    /// window then) or when deliveries stop coming. Returns whether the run stalled.
    /// </summary>
    private async Task<bool> WatchAsync(Func<BenchProgress> progress, Task allSent, long start, CancellationTokenSource sending, CancellationToken cancellationToken)
    {
        long lastCount = -1;
        long lastProgress = Stopwatch.GetTimestamp();
        while (!allSent.IsCompleted)
        {
            await Task.WhenAny(allSent, Task.Delay(PollInterval, cancellationToken)).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            if (_settings.Duration is { } duration && Stopwatch.GetElapsedTime(start) >= duration)
            {
                await sending.CancelAsync().ConfigureAwait(false);
                return false;
            }

            long delivered = Observe(start, progress()).Delivered;
            if (delivered != lastCount)
            {
                lastCount = delivered;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress) >= StallTimeout)
            {
                await sending.CancelAsync().ConfigureAwait(false);
                return true;
            }
        }

        return false;
    }

    /// <summary>Waits until every sent message is acknowledged and delivered (to every recipient), or until deliveries stop for <see cref="DrainTimeout"/>.</summary>
    private async Task DrainAsync(Func<BenchProgress> progress, long start, CancellationToken cancellationToken)
    {
        long lastCount = -1;
        long lastProgress = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            BenchProgress now = Observe(start, progress(), draining: true);
            long settled = now.Acked + now.Failed;
            long delivered = now.Delivered;
            if (settled == now.Sent && delivered == now.Expected)
            {
                return;
            }

            if (delivered + settled != lastCount)
            {
                lastCount = delivered + settled;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress) >= DrainTimeout)
            {
                return;
            }

            try
            {
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Interrupted: report what arrived so far.
                return;
            }
        }
    }

    /// <summary>
    /// Hands one poll's counts to the timeline and the live display: the watch and drain loops poll anyway (every
    /// <see cref="PollInterval"/>), so neither costs anything per message.
    /// </summary>
    private BenchProgress Observe(long start, BenchProgress now, bool draining = false)
    {
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        _timeline.Observe(elapsed, now.Sent, now.Delivered);
        Volatile.Write(ref _current, new BenchLiveStatus(elapsed, now, draining));
        return now;
    }

    private static BenchProgress SumOf(BenchPair[] pairs)
    {
        long sent = 0, acked = 0, failed = 0, delivered = 0;
        foreach (BenchPair pair in pairs)
        {
            sent += pair.Sent;
            acked += pair.Acked;
            failed += pair.Failed;
            delivered += pair.Delivered;
        }

        return new BenchProgress(sent, acked, failed, delivered, sent);
    }

    private async Task<BenchPair[]> SignUpPairsAsync(CancellationToken cancellationToken)
    {
        (ChatClient[] clients, string[] names, _) = await SignUpAsync(_settings.Pairs * 2, cancellationToken).ConfigureAwait(false);
        var pairs = new BenchPair[_settings.Pairs];
        for (int i = 0; i < pairs.Length; i++)
        {
            // With --e2e, each side seals for the other's keys as the servers publish them.
            BenchPairKeys? keys = _identities is null
                ? null
                : new BenchPairKeys(
                    _identities[2 * i],
                    _identities[(2 * i) + 1],
                    await BenchIdentities.FetchAsync(clients[(2 * i) + 1], names[2 * i], cancellationToken).ConfigureAwait(false),
                    await BenchIdentities.FetchAsync(clients[2 * i], names[(2 * i) + 1], cancellationToken).ConfigureAwait(false));
            pairs[i] = new BenchPair(_settings.Scenario, _settings.Size, InFlightLimit, clients[2 * i], names[2 * i], clients[(2 * i) + 1], names[(2 * i) + 1], keys);
        }

        return pairs;
    }

    /// <summary>Signs up <paramref name="users"/> users (<c>bench-RUN-N</c>, each a client of its own), a few at a time: each sign-up runs PBKDF2.</summary>
    private async Task<(ChatClient[] Clients, string[] Names, string Run)> SignUpAsync(int users, CancellationToken cancellationToken)
    {
        string run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var clients = new ChatClient?[users];
        var names = new string[users];

        // With --e2e every user gets identity keys at sign-up, published and stored wrapped, as a real client's are.
        _identities = _settings.EndToEnd ? new BenchIdentities(users) : null;
        try
        {
            int batch = Math.Max(1, Environment.ProcessorCount);
            for (int first = 0; first < users; first += batch)
            {
                int end = Math.Min(users, first + batch);
                var signUps = new Task[end - first];
                for (int i = first; i < end; i++)
                {
                    names[i] = string.Create(CultureInfo.InvariantCulture, $"bench-{run}-{i}");
                    clients[i] = new ChatClient(ClientOptions());
                    string password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
                    signUps[i - first] = _identities is null
                        ? clients[i]!.SignUpAsync(names[i], password, AccountKeys.Empty, cancellationToken)
                        : _identities.SignUpAsync(clients[i]!, i, names[i], password, cancellationToken);
                }

                await Task.WhenAll(signUps).ConfigureAwait(false);
            }
        }
        catch
        {
            foreach (ChatClient? client in clients)
            {
                if (client is not null)
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                }
            }

            throw;
        }

        var signedUp = new ChatClient[users];
        for (int i = 0; i < users; i++)
        {
            signedUp[i] = clients[i]!;
        }

        return (signedUp, names, run);
    }

    /// <summary>How many messages one sender may have in flight: the window, or the open loop's memory bound.</summary>
    private int InFlightLimit => _settings.OpenLoop ? BenchSettings.OpenLoopInFlightLimit : _settings.Window;

    private ChatClientOptions ClientOptions()
    {
        int window = InFlightLimit;
        return new ChatClientOptions
        {
            BalancerHost = _cluster.Host,
            BalancerPort = _cluster.Port,
            KdfIterations = KdfIterations,
            MaxFrameSize = MaxFrameSizeFor(_settings.BodySize),

            // A message leaves the window only once acknowledged, so a sender's outbox holds at most a window; a
            // pingpong receiver's echoes add at most another. The margin is slack, never reached in a healthy run.
            OutboxCapacity = (2 * window) + 1024,
            RequestTimeout = TimeSpan.FromSeconds(30),
        };
    }
}
