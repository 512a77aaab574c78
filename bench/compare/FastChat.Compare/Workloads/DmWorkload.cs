using System.Diagnostics;
using System.Globalization;
using FastChat.Compare.Targets;

namespace FastChat.Compare.Workloads;

/// <summary>P pairs: sender i publishes to receiver i's topic, closed loop with a window per pair; one-way latency.</summary>
internal sealed class DmWorkload : Workload
{
    private Pair[] _pairs = [];

    /// <summary>The workload for <paramref name="settings"/>.</summary>
    public DmWorkload(WorkloadSettings settings, RunClock clock)
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

        IPeer[] senders = await ConnectManyAsync(target, count, PeerRoles.Publisher, _ => new SilentSink(Clock), cancellationToken).ConfigureAwait(false);
        IPeer[] receivers = await ConnectManyAsync(target, count, PeerRoles.Subscriber, i => _pairs[i], cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < count; i++)
        {
            Destination to = await receivers[i].SubscribeAsync(string.Create(CultureInfo.InvariantCulture, $"dm.{i}"), cancellationToken).ConfigureAwait(false);
            _pairs[i].Bind(senders[i], to);
        }
    }

    /// <inheritdoc/>
    public override void Start()
    {
        for (int w = 0; w < Settings.Window; w++)
        {
            foreach (Pair pair in _pairs)
            {
                pair.SendNext();
            }
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
            failures += pair.SendFailures;
        }

        return new WorkloadProgress(sent, sent, delivered, failures);
    }

    /// <inheritdoc/>
    public override IEnumerable<ReceiverStats> Receivers() => _pairs;

    /// <summary>One pair; it is the receiver's sink, and each first delivery sends the sender's next message.</summary>
    private sealed class Pair : ReceiverStats, IMessageSink
    {
        private readonly int _index;
        private readonly int _size;
        private readonly SeenSet _seen = new();
        private IPeer? _sender;
        private Destination? _to;
        private long _issued;
        private long _sendFailures;

        public Pair(int index, int size, RunClock clock)
            : base(clock)
        {
            _index = index;
            _size = size;
        }

        public long Issued => Volatile.Read(ref _issued);

        public long SendFailures => Volatile.Read(ref _sendFailures);

        public void Bind(IPeer sender, Destination to)
        {
            _sender = sender;
            _to = to;
        }

        public void SendNext()
        {
            if (Clock.IsStopped)
            {
                return;
            }

            // Counted as issued before it goes, so a receiver never takes it for a number never sent.
            long sequence = Interlocked.Increment(ref _issued) - 1;
            Span<byte> body = MessageBody.Scratch(_size);
            MessageBody.WriteHeader(body, Stopwatch.GetTimestamp(), sequence, _index);
            try
            {
                _sender!.Publish(_to!, body);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                Interlocked.Increment(ref _sendFailures);
            }
        }

        public void OnMessage(ReadOnlySpan<byte> payload)
        {
            long now = Stopwatch.GetTimestamp();
            if (!MessageBody.TryReadHeader(payload, out long sentAt, out long sequence, out int sender)
                || sender != _index || sequence < 0 || sequence >= Issued || payload.Length != _size)
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
}
