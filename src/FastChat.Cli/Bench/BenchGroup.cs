using System.Buffers.Binary;
using System.Diagnostics;
using FastChat.Client;
using FastChat.Client.Crypto;

namespace FastChat.Cli.Bench;

/// <summary>
/// One group of signed-in members, the first few of them senders, with the run's counters. Each sender writes the
/// intended send time and its own sequence number into the first 16 bytes of every body, as for dm; each other member
/// records a latency per first delivery, and a message leaves its sender's window once every other member has it.
/// With <c>--e2e</c> the admin makes a group key, wraps it for each member (sent through the servers, as a real admin
/// does), and every message is sealed once under it; each member verifies and opens every message before reading the
/// header from the plaintext.
/// </summary>
internal sealed class BenchGroup
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly Dictionary<string, int> _senderIndex = new(StringComparer.Ordinal);
    private readonly Member[] _members;
    private readonly BenchIdentities? _identities;
    private readonly TaskCompletionSource _keysOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PublicIdentity?[] _senderPublic = [];
    private PublicIdentity? _adminPublic;
    private int _keysPending;

    /// <param name="identities">With <c>--e2e</c>, every member's identity (in the order of <paramref name="clients"/>); <see langword="null"/> sends opaque random bodies.</param>
    public BenchGroup(string name, int size, int window, ChatClient[] clients, string[] names, int senders, BenchIdentities? identities = null)
    {
        Name = name;
        Clients = clients;
        Names = names;
        _identities = identities;
        _members = new Member[clients.Length];
        for (int i = 0; i < _members.Length; i++)
        {
            _members[i] = new Member(senders, identities is null ? null : new GroupKeyRing(name), identities is null ? 0 : size);
        }

        Senders = new GroupSender[senders];
        for (int i = 0; i < senders; i++)
        {
            Senders[i] = new GroupSender(this, size, window, clients[i], clients.Length - 1, identities?[i]);
            _senderIndex.Add(names[i], i);
        }
    }

    /// <summary>With <c>--e2e</c>, the key every message is sealed under (set by <see cref="DistributeKeyAsync"/> before sending starts).</summary>
    public GroupKey? SendingKey { get; private set; }

    /// <summary>
    /// With <c>--e2e</c>, once every member is in the group: fetches the admin's and the senders' published keys, has
    /// the admin make the group key and send it wrapped to every other member, and waits until each has opened it.
    /// </summary>
    /// <exception cref="ChatException">A server refused a request.</exception>
    /// <exception cref="TimeoutException">A member did not get its key within 30 s.</exception>
    public async Task DistributeKeyAsync(CancellationToken cancellationToken)
    {
        if (_identities is null)
        {
            return;
        }

        ChatClient admin = Clients[0];
        var senderPublic = new PublicIdentity?[Senders.Length];
        for (int i = 0; i < senderPublic.Length; i++)
        {
            senderPublic[i] = await BenchIdentities.FetchAsync(admin, Names[i], cancellationToken).ConfigureAwait(false);
        }

        _senderPublic = senderPublic;
        Volatile.Write(ref _adminPublic, senderPublic[0]);
        GroupMembersInfo info = await admin.GetMembersAsync(Name, cancellationToken).ConfigureAwait(false);
        GroupKey key = GroupKey.Generate(info.KeyEpoch);
        _members[0].Ring!.Add(key);
        Volatile.Write(ref _keysPending, Clients.Length - 1);
        for (int i = 1; i < Clients.Length; i++)
        {
            PublicIdentity member = await BenchIdentities.FetchAsync(admin, Names[i], cancellationToken).ConfigureAwait(false);
            byte[] envelope = GroupKeyWrap.Seal(_identities[0].Keys, Names[0], member, Name, key);
            await admin.SendGroupKeyEnvelopeAsync(Name, Names[i], key.Epoch, envelope, cancellationToken).ConfigureAwait(false);
        }

        await _keysOpened.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        SendingKey = key;
    }

    /// <summary>The group's name.</summary>
    public string Name { get; }

    /// <summary>Every member's client; the first is the group's admin and, like the next ones, a sender.</summary>
    public ChatClient[] Clients { get; }

    /// <summary>Every member's user name, in the order of <see cref="Clients"/>.</summary>
    public string[] Names { get; }

    /// <summary>The senders, members 0 to <c>Senders.Length - 1</c>.</summary>
    public GroupSender[] Senders { get; }

    /// <summary>Sums the counters (while the run goes on, a moment's view).</summary>
    public BenchProgress Progress()
    {
        long sent = 0, acked = 0, failed = 0, delivered = 0;
        foreach (GroupSender sender in Senders)
        {
            sent += sender.Sent;
            acked += sender.Acked;
            failed += sender.Failed;
        }

        foreach (Member member in _members)
        {
            delivered += Volatile.Read(ref member.Delivered);
        }

        return new BenchProgress(sent, acked, failed, delivered, sent * (_members.Length - 1));
    }

    /// <summary>Second and later deliveries of a message to the same member.</summary>
    public long Duplicates()
    {
        long duplicates = 0;
        foreach (Member member in _members)
        {
            duplicates += Volatile.Read(ref member.Duplicates);
        }

        return duplicates;
    }

    /// <summary>Messages that were no part of the run: a malformed body, a stranger as sender, another group, a sequence never sent, an own message back.</summary>
    public long Unexpected()
    {
        long unexpected = 0;
        foreach (Member member in _members)
        {
            unexpected += Volatile.Read(ref member.Unexpected);
        }

        return unexpected;
    }

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest first delivery to any member (0 if none).</summary>
    public long LastDelivery()
    {
        long last = 0;
        foreach (Member member in _members)
        {
            last = Math.Max(last, Volatile.Read(ref member.LastDelivery));
        }

        return last;
    }

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest send (0 if none).</summary>
    public long LastSend()
    {
        long last = 0;
        foreach (GroupSender sender in Senders)
        {
            last = Math.Max(last, sender.LastSend);
        }

        return last;
    }

    /// <summary>Merges every member's latencies into <paramref name="into"/>; call once the readers have stopped.</summary>
    public void MergeLatencies(LatencyHistogram into)
    {
        foreach (Member member in _members)
        {
            into.Merge(member.Latency);
        }
    }

    /// <summary>Reads member <paramref name="index"/>'s events until <paramref name="cancellationToken"/> fires; every client must be read, or it stops reading from its server.</summary>
    public async Task ReadAsync(int index, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (ChatEvent item in Clients[index].ReadEventsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (item is GroupMessageReceived message)
                {
                    OnMessage(index, message);
                }
                else if (item is GroupKeyReceived key)
                {
                    OnGroupKey(index, key);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    private void OnMessage(int index, GroupMessageReceived message)
    {
        long now = Stopwatch.GetTimestamp();
        Member member = _members[index];
        ReadOnlySpan<byte> body = message.Body.Span;
        if (!string.Equals(message.Group, Name, StringComparison.Ordinal)
            || body.Length < BenchSettings.HeaderSize
            || !_senderIndex.TryGetValue(message.From, out int senderIndex)
            || senderIndex == index)
        {
            Interlocked.Increment(ref member.Unexpected);
            return;
        }

        if (member.Ring is not null)
        {
            // Verified and opened before anything is read from it: a forged or foreign envelope is unexpected.
            if (!BenchE2e.TryOpenGroup(member.Ring, _senderPublic[senderIndex]!, message, member.Plaintext, out int length))
            {
                Interlocked.Increment(ref member.Unexpected);
                return;
            }

            body = member.Plaintext.AsSpan(0, length);
        }

        GroupSender sender = Senders[senderIndex];
        long intended = BinaryPrimitives.ReadInt64LittleEndian(body);
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        if (sequence < 0 || sequence >= sender.Issued)
        {
            Interlocked.Increment(ref member.Unexpected);
            return;
        }

        SequenceSet seen = member.Seen[senderIndex] ??= new SequenceSet(1);
        if (!seen.Add(sequence))
        {
            Interlocked.Increment(ref member.Duplicates);
            return;
        }

        member.Latency.Record((long)((now - intended) * NanosecondsPerTick));
        Interlocked.Increment(ref member.Delivered);
        Volatile.Write(ref member.LastDelivery, now);
        sender.OnDelivered(sequence);
    }

    private void OnGroupKey(int index, GroupKeyReceived received)
    {
        Member member = _members[index];
        PublicIdentity? admin = Volatile.Read(ref _adminPublic);
        if (member.Ring is null || admin is null || index == 0 || !string.Equals(received.Group, Name, StringComparison.Ordinal) || received.Sender != Names[0])
        {
            Interlocked.Increment(ref member.Unexpected);
            return;
        }

        try
        {
            member.Ring.Add(GroupKeyWrap.Open(_identities![index].Keys, Names[index], admin, Name, received.Epoch, received.Envelope.Span));
        }
        catch (EnvelopeException)
        {
            // A key that does not open is no part of the run; the wait for the real one times out if it never comes.
            Interlocked.Increment(ref member.Unexpected);
            return;
        }

        if (Interlocked.Decrement(ref _keysPending) == 0)
        {
            _keysOpened.TrySetResult();
        }
    }

    /// <summary>One member's receiving side: written by that member's reader only, read by the watcher.</summary>
    private sealed class Member
    {
        public long Delivered;
        public long Duplicates;
        public long Unexpected;
        public long LastDelivery;

        public Member(int senders, GroupKeyRing? ring, int plaintextSize)
        {
            Seen = new SequenceSet?[senders];
            Ring = ring;
            Plaintext = new byte[plaintextSize];
        }

        /// <summary>With <c>--e2e</c>, the member's keys for the group; <see langword="null"/> otherwise.</summary>
        public GroupKeyRing? Ring { get; }

        /// <summary>With <c>--e2e</c>, where the member's reader opens each message (empty otherwise).</summary>
        public byte[] Plaintext { get; }

        /// <summary>The sequence numbers seen from each sender, made on its first message (a group of 1000 senders would otherwise start with a million sets).</summary>
        public SequenceSet?[] Seen { get; }

        public LatencyHistogram Latency { get; } = new();
    }
}
