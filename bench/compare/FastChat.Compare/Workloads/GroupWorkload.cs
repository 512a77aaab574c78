using System.Diagnostics;
using FastChat.Compare.Targets;

namespace FastChat.Compare.Workloads;

/// <summary>
/// G receivers of one topic (a FastChat group), S senders publishing to it with a window each; every message counts
/// once per receiver, and leaves its sender's window when the last receiver has it.
/// </summary>
internal sealed class GroupWorkload : Workload
{
    private Sender[] _senders = [];
    private Receiver[] _receivers = [];

    /// <summary>The workload for <paramref name="settings"/>.</summary>
    public GroupWorkload(WorkloadSettings settings, RunClock clock)
        : base(settings, clock)
    {
    }

    /// <inheritdoc/>
    public override int RecipientsPerMessage => Settings.GroupSize;

    /// <inheritdoc/>
    public override async Task SetUpAsync(ITarget target, CancellationToken cancellationToken)
    {
        _senders = new Sender[Settings.Senders];
        for (int i = 0; i < _senders.Length; i++)
        {
            _senders[i] = new Sender(i, Settings.Size, Settings.GroupSize, Clock);
        }

        _receivers = new Receiver[Settings.GroupSize];
        for (int i = 0; i < _receivers.Length; i++)
        {
            _receivers[i] = new Receiver(_senders, Settings.Size, Clock);
        }

        IPeer[] senders = await ConnectManyAsync(target, _senders.Length, PeerRoles.Publisher, _ => new SilentSink(Clock), cancellationToken).ConfigureAwait(false);
        IPeer[] receivers = await ConnectManyAsync(target, _receivers.Length, PeerRoles.Subscriber, i => _receivers[i], cancellationToken).ConfigureAwait(false);
        Destination group = await target.FormGroupAsync("group", senders, receivers, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < _senders.Length; i++)
        {
            _senders[i].Bind(senders[i], group);
        }
    }

    /// <inheritdoc/>
    public override void Start()
    {
        for (int w = 0; w < Settings.Window; w++)
        {
            foreach (Sender sender in _senders)
            {
                sender.SendNext();
            }
        }
    }

    /// <inheritdoc/>
    public override WorkloadProgress Progress()
    {
        long sent = 0, delivered = 0, failures = 0;
        foreach (Sender sender in _senders)
        {
            sent += sender.Issued;
            failures += sender.SendFailures;
        }

        foreach (Receiver receiver in _receivers)
        {
            delivered += receiver.Delivered;
        }

        return new WorkloadProgress(sent, sent * _receivers.Length, delivered, failures);
    }

    /// <inheritdoc/>
    public override IEnumerable<ReceiverStats> Receivers() => _receivers;

    private sealed class Sender
    {
        private readonly int _index;
        private readonly int _size;
        private readonly int _recipients;
        private readonly RunClock _clock;
        private readonly DeliveryCounts _counts = new();
        private IPeer? _peer;
        private Destination? _group;
        private long _issued;
        private long _sendFailures;

        public Sender(int index, int size, int recipients, RunClock clock)
        {
            _index = index;
            _size = size;
            _recipients = recipients;
            _clock = clock;
        }

        public long Issued => Volatile.Read(ref _issued);

        public long SendFailures => Volatile.Read(ref _sendFailures);

        public void Bind(IPeer peer, Destination group)
        {
            _peer = peer;
            _group = group;
        }

        /// <summary>One more receiver has <paramref name="sequence"/>: the last one sends the next message.</summary>
        public void OnDelivered(long sequence)
        {
            if (_counts.Increment(sequence) == _recipients)
            {
                SendNext();
            }
        }

        public void SendNext()
        {
            if (_clock.IsStopped)
            {
                return;
            }

            long sequence = Interlocked.Increment(ref _issued) - 1;
            Span<byte> body = MessageBody.Scratch(_size);
            MessageBody.WriteHeader(body, Stopwatch.GetTimestamp(), sequence, _index);
            try
            {
                _peer!.Publish(_group!, body);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                Interlocked.Increment(ref _sendFailures);
            }
        }
    }

    private sealed class Receiver : ReceiverStats, IMessageSink
    {
        private readonly Sender[] _senders;
        private readonly SeenSet?[] _seen;
        private readonly int _size;

        public Receiver(Sender[] senders, int size, RunClock clock)
            : base(clock)
        {
            _senders = senders;
            _seen = new SeenSet?[senders.Length];
            _size = size;
        }

        public void OnMessage(ReadOnlySpan<byte> payload)
        {
            long now = Stopwatch.GetTimestamp();
            if (!MessageBody.TryReadHeader(payload, out long sentAt, out long sequence, out int index)
                || (uint)index >= (uint)_senders.Length || sequence < 0 || sequence >= _senders[index].Issued || payload.Length != _size)
            {
                CountUnexpected();
                return;
            }

            // Made on a sender's first message: receivers of a large group would otherwise start with many sets.
            if (!(_seen[index] ??= new SeenSet()).Add(sequence))
            {
                CountDuplicate();
                return;
            }

            CountDelivery(now, sentAt);
            _senders[index].OnDelivered(sequence);
        }
    }
}
