using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using FastChat.Protocol.Messages;

namespace FastChat.Cli.Bench;

/// <summary>
/// One sender's side of a run, shared by every scenario: the reusable message bodies and the counts of sends,
/// acknowledgements and failures. A body is reused only after its send is acknowledged (or failed), because until then
/// the client may resend it after a reconnect.
/// </summary>
internal sealed class SendTracker
{
    private static readonly Action<Task<MessageId>, object?> s_onCompleted = static (sending, state) =>
    {
        Body? body = state as Body;
        SendTracker tracker = body?.Owner ?? (SendTracker)state!;
        bool acked = sending.IsCompletedSuccessfully;
        Interlocked.Increment(ref acked ? ref tracker._acked : ref tracker._failed);
        if (body is not null)
        {
            // Read before the body goes back: the next send overwrites it.
            long sequence = body.Sequence;
            tracker._free.Enqueue(body);
            if (acked)
            {
                tracker._window?.Complete(sequence);
            }
            else
            {
                tracker._window?.Abandon(sequence);
            }
        }
    };

    private readonly ConcurrentQueue<Body> _free = new();
    private readonly int _size;
    private readonly bool _plaintext;
    private readonly InFlightWindow? _window;
    private long _sent;
    private long _acked;
    private long _failed;
    private long _lastSend;

    /// <param name="size">The body size in bytes.</param>
    /// <param name="prefill">How many bodies to make up front (the usual in-flight count); more are made only if acknowledgements lag.</param>
    /// <param name="plaintext">Whether the bodies are plaintext to encrypt (<c>--e2e</c>: readable text after the header) rather than opaque random bytes.</param>
    /// <param name="window">The window whose messages' acknowledgements (or failures) this tracker reports, if any.</param>
    public SendTracker(int size, int prefill, bool plaintext = false, InFlightWindow? window = null)
    {
        _window = window;
        _size = size;
        _plaintext = plaintext;
        for (int i = 0; i < prefill; i++)
        {
            _free.Enqueue(new Body(this, size, plaintext));
        }
    }

    /// <summary>Every send started.</summary>
    public long Sent => Volatile.Read(ref _sent);

    public long Acked => Volatile.Read(ref _acked);

    public long Failed => Volatile.Read(ref _failed);

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest send (0 if none).</summary>
    public long LastSend => Volatile.Read(ref _lastSend);

    /// <summary>Takes a free body, writes the run header (intended send time, sequence) into it and counts the send.</summary>
    public Body Begin(long intendedTimestamp, long sequence)
    {
        if (!_free.TryDequeue(out Body? body))
        {
            body = new Body(this, _size, _plaintext);
        }

        Span<byte> header = body.Bytes.AsSpan(0, BenchSettings.HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(header, intendedTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], sequence);
        body.Sequence = sequence;
        CountSend();
        return body;
    }

    /// <summary>Counts a send whose bytes are not one of this tracker's bodies (a pingpong echo).</summary>
    public void CountSend()
    {
        Interlocked.Increment(ref _sent);
        Volatile.Write(ref _lastSend, Stopwatch.GetTimestamp());
    }

    /// <summary>A send that could not start (a full outbox, a lost session): counts it as failed and frees its body.</summary>
    public void Fail(Body? body)
    {
        Interlocked.Increment(ref _failed);
        if (body is not null)
        {
            long sequence = body.Sequence;
            _free.Enqueue(body);
            _window?.Abandon(sequence);
        }
    }

    /// <summary>Counts the send's acknowledgement or failure when it completes, then frees its body; nothing is captured.</summary>
    public void Track(Task<MessageId> sending, Body? body) =>
        sending.ContinueWith(s_onCompleted, (object?)body ?? this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>A reusable message body.</summary>
    internal sealed class Body
    {
        public Body(SendTracker owner, int size, bool plaintext)
        {
            Owner = owner;
            Bytes = new byte[size];

            // The header is overwritten per send. Plaintext is readable text (so a test can look for it in what the
            // servers see); otherwise opaque random bytes, as ciphertext would be.
            if (plaintext)
            {
                BenchE2e.FillPlaintext(Bytes);
            }
            else
            {
                RandomNumberGenerator.Fill(Bytes);
            }
        }

        public SendTracker Owner { get; }

        public byte[] Bytes { get; }

        /// <summary>The sequence number of the send using this body.</summary>
        public long Sequence { get; set; }
    }
}
