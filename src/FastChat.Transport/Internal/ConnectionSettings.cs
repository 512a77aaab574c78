using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Transport.Internal;

// A validated, immutable snapshot of TransportOptions, shared by every connection of one listener or connect
// call, so later edits to the options object cannot change live connections.
internal sealed class ConnectionSettings
{
    public const string LoggerCategory = "FastChat.Transport";

    private ConnectionSettings(TransportOptions options)
    {
        MaxFrameSize = options.MaxFrameSize;
        InputPauseThreshold = options.InputPauseThreshold;
        InputResumeThreshold = options.InputResumeThreshold;
        OutputPauseThreshold = options.OutputPauseThreshold;
        OutputResumeThreshold = options.OutputResumeThreshold;
        MaxPendingSendBytes = options.MaxPendingSendBytes;
        IdleTimeout = options.IdleTimeout;
        CloseTimeout = options.CloseTimeout;
        NoDelay = options.NoDelay;
        KeepAliveTime = options.KeepAliveTime;
        KeepAliveInterval = options.KeepAliveInterval;
        KeepAliveRetryCount = options.KeepAliveRetryCount;
        WaitForDataBeforeAllocatingBuffer = options.WaitForDataBeforeAllocatingBuffer;
        MemoryPool = options.MemoryPool ?? PinnedBlockMemoryPool.Default;
        Logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger(LoggerCategory);
    }

    public int MaxFrameSize { get; }

    public long InputPauseThreshold { get; }

    public long InputResumeThreshold { get; }

    public long OutputPauseThreshold { get; }

    public long OutputResumeThreshold { get; }

    public long MaxPendingSendBytes { get; }

    public TimeSpan IdleTimeout { get; }

    public TimeSpan CloseTimeout { get; }

    public bool NoDelay { get; }

    public TimeSpan KeepAliveTime { get; }

    public TimeSpan KeepAliveInterval { get; }

    public int KeepAliveRetryCount { get; }

    public bool WaitForDataBeforeAllocatingBuffer { get; }

    public MemoryPool<byte> MemoryPool { get; }

    public ILogger Logger { get; }

    public static ConnectionSettings Create(TransportOptions options)
    {
        options.Validate();
        return new ConnectionSettings(options);
    }
}
