using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using FastChat.Client.Crypto;
using FastChat.Hosts.Server.Internal;
using FastChat.Protocol.Messages;
using FastChat.Transport;
using FastChat.Transport.Internal;

namespace FastChat.Benchmarks.Relay;

/// <summary>
/// An end-to-end-encrypted group message to 10, 100 or 1,000 members, split into what each side pays:
/// <see cref="SealOnce"/> is the sender's encryption, once per message whatever the group's size;
/// <see cref="FanOutPerDelivery"/>, <see cref="FanOutPipelined"/> and <see cref="FanOutBatched"/> are the server writing the
/// same ciphertext frame to every member's connection, with one flush per member per message (waiting for the send loops
/// after each message, or not) or per read batch.
/// Targets: ≤ 50 ns and 0 B per delivery.
/// </summary>
/// <remarks>
/// The fan-out writes the one encoded <c>GroupMessage</c> payload (a 256-byte plaintext sealed with
/// <see cref="GroupEnvelope.Seal(IdentityKeys, string, string, GroupKey, MessageId, DateTime, ReadOnlySpan{byte}, Span{byte})"/>)
/// to each member's <see cref="FramedConnection"/> as <see cref="MessageRouter.TryDeliverLocal"/> does, remembering the
/// connections in a <see cref="FlushBatch"/> and flushing them once, then waits until every member's send loop has
/// taken its frame. The members' sockets are in-memory connections that drop what they are given, so one operation
/// covers the write, the flush and the send loop's hand-off, not a kernel send. Nothing is re-encrypted or
/// re-encoded per member.
/// </remarks>
[MemoryDiagnoser]
public class EncryptedFanoutBenchmarks
{
    private const int PlaintextSize = 256;
    private const int DeliveriesPerInvoke = 1000;

    private readonly FlushBatch _batch = new();
    private readonly SemaphoreSlim _allSent = new(0);
    private readonly List<Pipe> _incoming = [];
    private IdentityKeys _sender = null!;
    private GroupKey _groupKey = null!;
    private byte[] _plaintext = [];
    private byte[] _envelope = [];
    private byte[] _payload = [];
    private FramedConnection[] _members = [];
    private long _sent;
    private long _expected;

    [Params(10, 100, 1000)]
    public int Members { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sender = IdentityKeys.Generate();
        _groupKey = GroupKey.Generate(1);
        _plaintext = new byte[PlaintextSize];
        new Random(7).NextBytes(_plaintext);
        _envelope = new byte[GroupEnvelope.GetEnvelopeLength(PlaintextSize)];
        int sealedLength = SealOnce();

        var message = new GroupMessage
        {
            Id = MessageId.NewId(),
            Sender = "alice",
            Group = "team",
            KeyEpoch = 1,
            SentAt = new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc),
            Body = new ReadOnlySequence<byte>(_envelope, 0, sealedLength),
        };
        var payload = new ArrayBufferWriter<byte>(sealedLength + 256);
        MessageSerializer.WritePayload(payload, 0, in message);
        _payload = payload.WrittenSpan.ToArray();

        var options = new TransportOptions { IdleTimeout = Timeout.InfiniteTimeSpan };
        Action<long> onSent = OnSent;
        _members = new FramedConnection[Members];
        for (int i = 0; i < Members; i++)
        {
            // Nothing is ever written to the incoming side: the members only receive.
            var incoming = new Pipe();
            _incoming.Add(incoming);
            _members[i] = new FramedConnection(InMemoryConnection.Start(options, incoming.Reader, outgoing: null, onSent));
        }

        // One checked round: every member's send loop takes exactly one frame.
        FanOutOnce();
        if (Volatile.Read(ref _sent) != _expected)
        {
            throw new InvalidOperationException($"{_sent} B were sent; {_expected} B were expected.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (FramedConnection member in _members)
        {
            member.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        foreach (Pipe incoming in _incoming)
        {
            incoming.Writer.Complete();
        }

        _sender.Dispose();
        _allSent.Dispose();
    }

    /// <summary>The sender's cost: seals one 256-byte plaintext for the group (signature and AEAD), once per message.</summary>
    [Benchmark]
    public int SealOnce() =>
        GroupEnvelope.Seal(_sender, "alice", "team", _groupKey, MessageId.NewId(), new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc), _plaintext, _envelope);

    /// <summary>
    /// The server's cost per member copy: one operation is one delivery. An invocation fans out
    /// 1,000 / <see cref="Members"/> messages (so always 1,000 deliveries), each to every member.
    /// </summary>
    [Benchmark(OperationsPerInvoke = DeliveriesPerInvoke)]
    public void FanOutPerDelivery()
    {
        for (int i = DeliveriesPerInvoke / Members; i > 0; i--)
        {
            FanOutOnce();
        }
    }

    /// <summary>
    /// As <see cref="FanOutPerDelivery"/> (every member's connection flushed once per message, as when each read batch
    /// holds one group message), but without waiting for the send loops between messages, as the server does not: the
    /// wait is once per invocation. <see cref="FanOutPerDelivery"/> also counts the idle-to-busy wake-up of the send
    /// loops per message, which a busy relay does not pay. One operation is one delivery.
    /// </summary>
    [Benchmark(OperationsPerInvoke = DeliveriesPerInvoke)]
    public void FanOutPipelined() => FanOutMany(flushEachMessage: true);

    /// <summary>
    /// As <see cref="FanOutPerDelivery"/>, but the 1,000 / <see cref="Members"/> messages arrive in one read batch: every
    /// copy is written first and each member's connection is flushed at the end of the batch, as the server does
    /// (one flush per batch of frames read). One operation is one delivery.
    /// </summary>
    [Benchmark(OperationsPerInvoke = DeliveriesPerInvoke)]
    public void FanOutBatched() => FanOutMany(flushEachMessage: false);

    // 1,000 / Members messages written to every member, flushed after each message or once at the end, then one wait
    // until every send loop has taken its frames.
    private void FanOutMany(bool flushEachMessage)
    {
        ReadOnlySpan<byte> payload = _payload;
        FramedConnection[] members = _members;
        int messages = DeliveriesPerInvoke / Members;
        Volatile.Write(ref _sent, 0);
        Volatile.Write(ref _expected, (long)messages * members.Length * (payload.Length + 4));
        for (int m = 0; m < messages; m++)
        {
            for (int i = 0; i < members.Length; i++)
            {
                FramedConnection member = members[i];
                if (member.TryWriteFrame(payload))
                {
                    _batch.Add(member);
                }
            }

            if (flushEachMessage)
            {
                _batch.Flush();
            }
        }

        _batch.Flush();
        _allSent.Wait();
    }

    // One group message: the payload written to every member, each connection flushed once, then a wait until every
    // send loop has taken its frame.
    private void FanOutOnce()
    {
        ReadOnlySpan<byte> payload = _payload;
        FramedConnection[] members = _members;
        Volatile.Write(ref _sent, 0);
        Volatile.Write(ref _expected, (long)members.Length * (payload.Length + 4));
        for (int i = 0; i < members.Length; i++)
        {
            FramedConnection member = members[i];
            if (member.TryWriteFrame(payload))
            {
                _batch.Add(member);
            }
        }

        _batch.Flush();
        _allSent.Wait();
    }

    private void OnSent(long bytes)
    {
        if (Interlocked.Add(ref _sent, bytes) == Volatile.Read(ref _expected))
        {
            _allSent.Release();
        }
    }
}
