using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using FastChat.Protocol.Framing;
using Microsoft.Extensions.Logging;

namespace FastChat.Transport;

/// <summary>
/// Settings shared by every connection a <see cref="FastChatListener"/> accepts or a <see cref="FastChatConnector"/>
/// opens: frame and buffer limits, timeouts and socket options.
/// </summary>
/// <remarks>
/// <para>
/// Every buffer is bounded. The input pipe stops receiving at <see cref="InputPauseThreshold"/> unread bytes;
/// <see cref="FastChatConnection.Output"/> stops completing flushes at <see cref="OutputPauseThreshold"/> unsent
/// bytes; a <see cref="FramedConnection"/> whose peer lets more than <see cref="MaxPendingSendBytes"/> pile up is
/// aborted with <see cref="CloseReason.SlowConsumer"/> rather than stalling its writers.
/// </para>
/// <para>The options are read once, when the listener binds or the connector connects; later changes have no effect on them.</para>
/// </remarks>
public class TransportOptions
{
    /// <summary>The default <see cref="MaxFrameSize"/>: 1 MiB.</summary>
    public const int DefaultMaxFrameSize = 1024 * 1024;

    /// <summary>The smallest <see cref="MaxPendingSendBytes"/> picked by default: 4 MiB.</summary>
    public const long DefaultMaxPendingSendBytes = 4 * 1024 * 1024;

    private long? _inputPauseThreshold;
    private long? _inputResumeThreshold;
    private long? _outputResumeThreshold;
    private long? _maxPendingSendBytes;

    /// <summary>
    /// The largest frame payload accepted, in bytes. A peer that announces a larger frame is disconnected with
    /// <see cref="CloseReason.FrameTooLarge"/> as soon as the 4-byte prefix arrives. Default: 1 MiB.
    /// </summary>
    public int MaxFrameSize { get; set; } = DefaultMaxFrameSize;

    /// <summary>
    /// Unread received bytes at which the connection stops reading from the socket until the application catches
    /// up. It must exceed <see cref="MaxFrameSize"/> + 4, or a maximum-size frame could never be buffered whole.
    /// Default: twice the largest frame, 2 × (<see cref="MaxFrameSize"/> + 4).
    /// </summary>
    public long InputPauseThreshold
    {
        get => _inputPauseThreshold ?? 2 * LargestFrame;
        set => _inputPauseThreshold = value;
    }

    /// <summary>
    /// Unread received bytes below which a paused connection reads from the socket again. It must be at least
    /// <see cref="MaxFrameSize"/> + 4: a reader waiting for the rest of a frame holds up to that many bytes, and
    /// reading must resume to complete it. Default: half of <see cref="InputPauseThreshold"/>.
    /// </summary>
    public long InputResumeThreshold
    {
        get => _inputResumeThreshold ?? InputPauseThreshold / 2;
        set => _inputResumeThreshold = value;
    }

    /// <summary>
    /// Bytes written but not yet sent at which <see cref="FastChatConnection.Output"/>'s <c>FlushAsync</c>, and
    /// <see cref="FramedConnection.FlushAsync"/>, stop completing until the socket drains. Default: 1 MiB.
    /// </summary>
    public long OutputPauseThreshold { get; set; } = 1024 * 1024;

    /// <summary>
    /// Bytes written but not yet sent at or below which paused flushes complete again.
    /// Default: half of <see cref="OutputPauseThreshold"/>.
    /// </summary>
    public long OutputResumeThreshold
    {
        get => _outputResumeThreshold ?? OutputPauseThreshold / 2;
        set => _outputResumeThreshold = value;
    }

    /// <summary>
    /// The most bytes a <see cref="FramedConnection"/> may hold written but not yet sent. A write that would pass it
    /// aborts the connection with <see cref="CloseReason.SlowConsumer"/> and returns <see langword="false"/>, so a
    /// peer that stops reading never stalls the connections relaying to it. It must be at least
    /// <see cref="MaxFrameSize"/> + 4 and at least <see cref="OutputPauseThreshold"/>.
    /// Default: 4 MiB, or 2 × (<see cref="MaxFrameSize"/> + 4) if that is larger.
    /// </summary>
    public long MaxPendingSendBytes
    {
        get => _maxPendingSendBytes ?? Math.Max(DefaultMaxPendingSendBytes, 2 * LargestFrame);
        set => _maxPendingSendBytes = value;
    }

    /// <summary>
    /// How long a connection may receive nothing before it is closed with <see cref="CloseReason.IdleTimeout"/>.
    /// Time spent with reading paused by backpressure does not count. <see cref="Timeout.InfiniteTimeSpan"/> turns
    /// the check off. Checked once a second, so a connection closes up to a second after the limit. It applies to
    /// connected (client) connections as well as accepted ones: a peer that may fall silent should send something,
    /// such as a ping, more often. Default: 2 minutes.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a graceful close (<see cref="FastChatConnection.CloseAsync"/>, <see cref="FastChatConnection.DisposeAsync"/>)
    /// waits for queued output to reach the socket before it aborts the connection instead. Default: 5 seconds.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Disables Nagle's algorithm (TCP_NODELAY), so small frames leave at once. Default: <see langword="true"/>.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>
    /// Idle time before TCP keep-alive probes start. <see cref="Timeout.InfiniteTimeSpan"/> (the default) leaves
    /// keep-alive off; the application-level <see cref="IdleTimeout"/> usually suffices on servers.
    /// </summary>
    public TimeSpan KeepAliveTime { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Time between TCP keep-alive probes once they have started. Default: 15 seconds.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Unanswered keep-alive probes after which the operating system drops the connection. Default: 4.</summary>
    public int KeepAliveRetryCount { get; set; } = 4;

    /// <summary>
    /// Waits for data with a zero-byte read before renting a receive buffer, so idle connections hold no buffer
    /// memory. Default: <see langword="true"/>.
    /// </summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; } = true;

    /// <summary>
    /// The pool the connection's pipes rent buffers from. <see langword="null"/> (the default) uses FastChat's
    /// shared pool of 16 KiB blocks on the pinned object heap, which reuses its blocks however many are in flight
    /// and gives memory back after a burst: it keeps at most 64 MiB of free blocks, and every 5 seconds releases half
    /// of the free blocks it did not need in that time. A connection holds blocks only while bytes wait in its pipes.
    /// Segments must be array-backed for scatter/gather sends; other memory is sent segment by segment.
    /// </summary>
    public MemoryPool<byte>? MemoryPool { get; set; }

    /// <summary>Where the transport logs (category <c>FastChat.Transport</c>). <see langword="null"/> (the default) logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    private long LargestFrame => (long)MaxFrameSize + FrameReader.HeaderSize;

    /// <summary>Checks that the options are consistent.</summary>
    /// <exception cref="ArgumentException">A value is out of range or contradicts another; the message names both and the limit.</exception>
    public virtual void Validate()
    {
        if (MaxFrameSize <= 0)
        {
            Fail(nameof(MaxFrameSize), $"MaxFrameSize must be positive; it is {MaxFrameSize}.");
        }

        if (InputResumeThreshold < LargestFrame)
        {
            Fail(nameof(InputResumeThreshold), $"InputResumeThreshold ({InputResumeThreshold} B) must be at least MaxFrameSize + 4 ({LargestFrame} B): a reader waiting for the rest of a maximum-size frame holds that many bytes, and reading must resume for the frame to complete.");
        }

        if (InputPauseThreshold <= LargestFrame)
        {
            Fail(nameof(InputPauseThreshold), $"InputPauseThreshold ({InputPauseThreshold} B) must exceed MaxFrameSize + 4 ({LargestFrame} B), or a maximum-size frame could never be buffered whole.");
        }

        if (InputResumeThreshold > InputPauseThreshold)
        {
            Fail(nameof(InputResumeThreshold), $"InputResumeThreshold ({InputResumeThreshold} B) must not exceed InputPauseThreshold ({InputPauseThreshold} B).");
        }

        if (OutputPauseThreshold <= 0)
        {
            Fail(nameof(OutputPauseThreshold), $"OutputPauseThreshold must be positive; it is {OutputPauseThreshold} B.");
        }

        if (OutputResumeThreshold < 0 || OutputResumeThreshold > OutputPauseThreshold)
        {
            Fail(nameof(OutputResumeThreshold), $"OutputResumeThreshold ({OutputResumeThreshold} B) must be between 0 and OutputPauseThreshold ({OutputPauseThreshold} B).");
        }

        if (MaxPendingSendBytes < LargestFrame)
        {
            Fail(nameof(MaxPendingSendBytes), $"MaxPendingSendBytes ({MaxPendingSendBytes} B) must be at least MaxFrameSize + 4 ({LargestFrame} B), or a maximum-size frame could never be queued.");
        }

        if (MaxPendingSendBytes < OutputPauseThreshold)
        {
            Fail(nameof(MaxPendingSendBytes), $"MaxPendingSendBytes ({MaxPendingSendBytes} B) must be at least OutputPauseThreshold ({OutputPauseThreshold} B), or writers that wait on FlushAsync would be aborted before they are ever paused.");
        }

        ValidateTimeout(nameof(IdleTimeout), IdleTimeout, allowInfinite: true);
        ValidateTimeout(nameof(CloseTimeout), CloseTimeout, allowInfinite: false);
        ValidateTimeout(nameof(KeepAliveTime), KeepAliveTime, allowInfinite: true);
        ValidateTimeout(nameof(KeepAliveInterval), KeepAliveInterval, allowInfinite: false);

        if (KeepAliveRetryCount <= 0)
        {
            Fail(nameof(KeepAliveRetryCount), $"KeepAliveRetryCount must be positive; it is {KeepAliveRetryCount}.");
        }
    }

    /// <summary>Throws the <see cref="ArgumentException"/> that <see cref="Validate"/> documents.</summary>
    /// <param name="propertyName">The offending option.</param>
    /// <param name="message">What is wrong and what the limit is.</param>
    /// <exception cref="ArgumentException">Always.</exception>
    [DoesNotReturn]
    protected static void Fail(string propertyName, string message) => throw new ArgumentException(message, propertyName);

    /// <summary>Checks that a timeout is positive, or infinite where <paramref name="allowInfinite"/> says so.</summary>
    /// <exception cref="ArgumentException">The timeout is zero, negative, or infinite where that is not allowed.</exception>
    protected static void ValidateTimeout(string propertyName, TimeSpan value, bool allowInfinite)
    {
        if (value == Timeout.InfiniteTimeSpan)
        {
            if (!allowInfinite)
            {
                Fail(propertyName, $"{propertyName} cannot be infinite.");
            }

            return;
        }

        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            Fail(propertyName, $"{propertyName} must be positive and at most {int.MaxValue} ms{(allowInfinite ? ", or Timeout.InfiniteTimeSpan" : string.Empty)}; it is {value}.");
        }
    }
}
