using Microsoft.Extensions.Logging;

namespace FastChat.Hosts.Hosting.Internal;

/// <summary>The hosting layer's log messages (event ids 3000-3099).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(3000, LogLevel.Information, "Storage ready ({Provider})")]
    public static partial void StorageReady(ILogger logger, string provider);

    [LoggerMessage(3003, LogLevel.Warning, "Chat servers {ServerIds} had not registered with the in-process balancer after {Timeout}; they keep retrying")]
    public static partial void RegistrationSlow(ILogger logger, string serverIds, TimeSpan timeout);

    [LoggerMessage(3004, LogLevel.Information, "Stopping: chat servers first (clients are told to reconnect), then the balancer")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(3005, LogLevel.Error, "Stopping {Role} failed")]
    public static partial void StopFailed(ILogger logger, string role, Exception exception);

    [LoggerMessage(3006, LogLevel.Information, "Stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(3007, LogLevel.Warning, "The cluster key file {Path} can be read by other users; restrict it with 'chmod 600'")]
    public static partial void KeyFileTooOpen(ILogger logger, string path);

    [LoggerMessage(3010, LogLevel.Debug, "systemd notification socket {Socket}; watchdog every {Interval}")]
    public static partial void SystemdEnabled(ILogger logger, string socket, TimeSpan? interval);

    [LoggerMessage(3011, LogLevel.Warning, "Cannot notify systemd at {Socket}")]
    public static partial void SystemdNotifyFailed(ILogger logger, string socket, Exception exception);

    [LoggerMessage(3012, LogLevel.Warning, "NOTIFY_SOCKET {Socket} is not a Unix socket path; systemd notifications are off")]
    public static partial void SystemdUnsupportedSocket(ILogger logger, string socket);
}
