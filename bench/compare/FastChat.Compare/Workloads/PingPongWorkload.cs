using System.Diagnostics;
using System.Globalization;
using FastChat.Compare.Targets;

namespace FastChat.Compare.Workloads;

/// <summary>P pairs with one message in flight each: A publishes to B's topic, B echoes it to A's; round-trip latency.</summary>
internal sealed class PingPongWorkload : Workload
{
    private Pair[] _pairs = [];

    /// <summary>The workload for <paramref name="settings"/>.</summary>
    public PingPongWorkload(WorkloadSettings settings, RunClock clock)
        : base(settings, clock)
    {
    }

    /// <inheritdoc/>
    public override int RecipientsPerMessage => 1;

    /// <inheritdoc/>
    public override async Task SetUpAsync(ITarget target, CancellationToken cancellationToken)
    {
        int count = Settings.Pairs;
        _pairs = new Pair[count];
        for (int i = 0; i < count; i++)
        {
            _pairs[i] = new Pair(i, Settings.Size, Clock);
        }

        IPeer[] pingers = await ConnectManyAsync(target, count, PeerRoles.Both, i => _pairs[i], cancellationToken).ConfigureAwait(false);
        IPeer[] echoers = await ConnectManyAsync(target, count, PeerRoles.Both, i => _pairs[i].Echo, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < count; i++)
        {
            Destination toPinger = await pingers[i].SubscribeAsync(string.Create(CultureInfo.InvariantCulture, $"pp.a.{i}"), cancellationToken).ConfigureAwait(false);
            Destination toEchoer = await echoers[i].SubscribeAsync(string.Create(CultureInfo.InvariantCulture, $"pp.b.{i}"), cancellationToken).ConfigureAwait(false);
            _pairs[i].Bind(pingers[i], toEchoer, echoers[i], toPinger);
        }
    }

    /// <inheritdoc/>
    public override void Start()
    {
        foreach (Pair pair in _pairs)
        {
            pair.SendNext();
        }
    }

    /// <inheritdoc/>
    public override WorkloadProgress Progress()
    {
        long sent = 0, delivered = 0, failures = 0;
        foreach (Pair pair in _pairs)
        {
            sent += pair.Issued;
            delivered += pair.Delivered;
            failures += pair.SendFailures + pair.Echo.SendFailures;
        }

        return new WorkloadProgress(sent, sent, delivered, failures);
    }

    /// <inheritdoc/>
    public override IEnumerable<ReceiverStats> Receivers()
    {
        foreach (Pair pair in _pairs)
        {
            yield return pair;
            yield return pair.Echo;
        }
    }

    /// <summary>One pair; it is the pinger's sink: each echo back completes a round trip and sends the next ping.</summary>
    private sealed class Pair : ReceiverStats, IMessageSink
    {
        private readonly int _index;
        private readonly int _size;
        private readonly SeenSet _seen = new();
        private IPeer? _pinger;
        private Destination? _toEchoer;
        private long _issued;
        private long _sendFailures;

        public Pair(int index, int size, RunClock clock)
            : base(clock)
        {
            _index = index;
            _size = size;
            Echo = new Echoer(this, clock);
        }

        public Echoer Echo { get; }

        public long Issued => Volatile.Read(ref _issued);

        public long SendFailures => Volatile.Read(ref _sendFailures);

        public void Bind(IPeer pinger, Destination toEchoer, IPeer echoer, Destination toPinger)
        {
            _pinger = pinger;
            _toEchoer = toEchoer;
            Echo.Bind(echoer, toPinger);
        }

        public void SendNext()
        {
            if (Clock.IsStopped)
            {
                return;
            }

            long sequence = Interlocked.Increment(ref _issued) - 1;
            Span<byte> body = MessageBody.Scratch(_size);
            MessageBody.WriteHeader(body, Stopwatch.GetTimestamp(), sequence, _index);
            try
            {
                _pinger!.Publish(_toEchoer!, body);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                Interlocked.Increment(ref _sendFailures);
            }
        }

        public bool IsIssued(long sequence) => sequence >= 0 && sequence < Issued;

        public void OnMessage(ReadOnlySpan<byte> payload)
        {
            long now = Stopwatch.GetTimestamp();
            if (!MessageBody.TryReadHeader(payload, out long sentAt, out long sequence, out int sender)
                || sender != _index || !IsIssued(sequence) || payload.Length != _size)
            {
                CountUnexpected();
                return;
            }

            if (!_seen.Add(sequence))
            {
                CountDuplicate();
                return;
            }

            CountDelivery(now, sentAt);
            SendNext();
        }
    }

    /// <summary>The echoing side's sink: sends every ping back as it came.</summary>
    private sealed class Echoer : ReceiverStats, IMessageSink
    {
        private readonly Pair _pair;
        private readonly SeenSet _seen = new();
        private IPeer? _echoer;
        private Destination? _toPinger;
        private long _sendFailures;

        public Echoer(Pair pair, RunClock clock)
            : base(clock) => _pair = pair;

        public long SendFailures => Volatile.Read(ref _sendFailures);

        public void Bind(IPeer echoer, Destination toPinger)
        {
            _echoer = echoer;
            _toPinger = toPinger;
        }

        public void OnMessage(ReadOnlySpan<byte> payload)
        {
            if (!MessageBody.TryReadHeader(payload, out _, out long sequence, out _) || !_pair.IsIssued(sequence))
            {
                CountUnexpected();
                return;
            }

            if (!_seen.Add(sequence))
            {
                CountDuplicate();
                return;
            }

            try
            {
                _echoer!.Publish(_toPinger!, payload);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                Interlocked.Increment(ref _sendFailures);
            }
        }
    }
}
