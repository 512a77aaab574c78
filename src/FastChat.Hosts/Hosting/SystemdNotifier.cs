using System.Globalization;
using System.Net.Sockets;
using System.Text;
using FastChat.Hosts.Hosting.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Hosts.Hosting;

/// <summary>
/// The <c>sd_notify</c> protocol for a <c>Type=notify</c> systemd service, as a hosted service: <c>READY=1</c> once the
/// host has started every hosted service, <c>STOPPING=1</c> when it starts to stop, and <c>WATCHDOG=1</c> every half
/// <c>WATCHDOG_USEC</c> when the unit sets <c>WatchdogSec=</c>.
/// </summary>
/// <remarks>
/// <para>systemd passes the address of its notification socket in <c>NOTIFY_SOCKET</c>: a Unix datagram socket, either
/// a path or, with a leading <c>@</c>, a name in Linux's abstract namespace. Each notification is one datagram of
/// newline-separated <c>KEY=VALUE</c> assignments. Without <c>NOTIFY_SOCKET</c> (not run by systemd) every method is a
/// no-op, so the notifier can always be registered.</para>
/// <para>Omitted on purpose: passing file descriptors (<c>FDSTORE=1</c>), <c>MAINPID=</c> (the process that systemd
/// started is the one that notifies; the units set <c>NotifyAccess=main</c>) and <c>AF_VSOCK</c> addresses.</para>
/// </remarks>
public sealed class SystemdNotifier : IHostedService, IDisposable
{
    /// <summary>The environment variable naming systemd's notification socket.</summary>
    public const string NotifySocketVariable = "NOTIFY_SOCKET";

    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly string? _socketName;
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly Socket? _socket;
    private readonly Lock _sendLock = new();
    private readonly List<CancellationTokenRegistration> _registrations = [];
    private ITimer? _watchdog;
    private bool _sendFailed;
    private bool _disposed;

    /// <summary>Creates the notifier from this process's environment (<c>NOTIFY_SOCKET</c>, <c>WATCHDOG_USEC</c>, <c>WATCHDOG_PID</c>).</summary>
    /// <param name="lifetime">The host's lifetime, whose started and stopping events trigger the notifications.</param>
    /// <param name="logger">Logs a socket that cannot be used; optional.</param>
    /// <exception cref="ArgumentNullException"><paramref name="lifetime"/> is <see langword="null"/>.</exception>
    public SystemdNotifier(IHostApplicationLifetime lifetime, ILogger<SystemdNotifier>? logger = null)
        : this(
            lifetime,
            Environment.GetEnvironmentVariable(NotifySocketVariable),
            Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
            Environment.GetEnvironmentVariable("WATCHDOG_PID"),
            TimeProvider.System,
            logger)
    {
    }

    internal SystemdNotifier(
        IHostApplicationLifetime lifetime,
        string? notifySocket,
        string? watchdogMicroseconds,
        string? watchdogProcessId,
        TimeProvider timeProvider,
        ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        _lifetime = lifetime;
        _timeProvider = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        if (string.IsNullOrEmpty(notifySocket))
        {
            return;
        }

        _socketName = notifySocket;
        string? path = notifySocket[0] switch
        {
            '/' => notifySocket,

            // Abstract namespace: systemd writes '@' where the address has its leading NUL byte.
            '@' when notifySocket.Length > 1 => "\0" + notifySocket[1..],
            _ => null,
        };
        if (path is null || !Socket.OSSupportsUnixDomainSockets)
        {
            HostingLog.SystemdUnsupportedSocket(_logger, notifySocket);
            return;
        }

        _endPoint = new UnixDomainSocketEndPoint(path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        WatchdogInterval = ParseWatchdogInterval(watchdogMicroseconds, watchdogProcessId);
        HostingLog.SystemdEnabled(_logger, notifySocket, WatchdogInterval);
    }

    /// <summary>Whether the process runs under systemd with a usable notification socket.</summary>
    public bool IsEnabled => _socket is not null;

    /// <summary>How often <c>WATCHDOG=1</c> is sent (half of <c>WATCHDOG_USEC</c>), or <see langword="null"/> without a watchdog.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>Sends one notification, e.g. <c>"READY=1"</c> or <c>"STATUS=Serving 120 clients"</c>.</summary>
    /// <param name="state">Newline-separated <c>KEY=VALUE</c> assignments.</param>
    /// <returns><see langword="true"/> if it was sent; <see langword="false"/> when not under systemd or the send failed (logged once).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is <see langword="null"/>.</exception>
    public bool Notify(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_socket is null)
        {
            return false;
        }

        byte[] datagram = Encoding.UTF8.GetBytes(state);
        lock (_sendLock)
        {
            if (_disposed)
            {
                return false;
            }

            try
            {
                _socket.SendTo(datagram, SocketFlags.None, _endPoint!);
                return true;
            }
            catch (SocketException ex)
            {
                // systemd gone or the socket not writable: the service keeps running, it just cannot report.
                if (!_sendFailed)
                {
                    _sendFailed = true;
                    HostingLog.SystemdNotifyFailed(_logger, _socketName!, ex);
                }

                return false;
            }
        }
    }

    /// <summary>Arranges <c>READY=1</c> for when the host has started and <c>STOPPING=1</c> for when it starts stopping, and starts the watchdog.</summary>
    /// <param name="cancellationToken">Unused: nothing here waits.</param>
    /// <returns>A completed task.</returns>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!IsEnabled)
        {
            return Task.CompletedTask;
        }

        _registrations.Add(_lifetime.ApplicationStarted.Register(static state => ((SystemdNotifier)state!).Notify("READY=1\nSTATUS=Running"), this));
        _registrations.Add(_lifetime.ApplicationStopping.Register(static state => ((SystemdNotifier)state!).Notify("STOPPING=1\nSTATUS=Stopping"), this));
        if (WatchdogInterval is { } interval)
        {
            _watchdog = _timeProvider.CreateTimer(static state => ((SystemdNotifier)state!).Notify("WATCHDOG=1"), this, TimeSpan.Zero, interval);
        }

        return Task.CompletedTask;
    }

    /// <summary>Nothing to do: the watchdog keeps running until the notifier is disposed, so a slow graceful stop is not mistaken for a hang.</summary>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>A completed task.</returns>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops the watchdog and closes the socket.</summary>
    public void Dispose()
    {
        _watchdog?.Dispose();
        foreach (CancellationTokenRegistration registration in _registrations)
        {
            registration.Dispose();
        }

        lock (_sendLock)
        {
            _disposed = true;
            _socket?.Dispose();
        }
    }

    private static TimeSpan? ParseWatchdogInterval(string? microseconds, string? processId)
    {
        // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited the variables must not ping.
        if (!string.IsNullOrEmpty(processId) &&
            (!int.TryParse(processId, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid != Environment.ProcessId))
        {
            return null;
        }

        if (!ulong.TryParse(microseconds, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) || usec == 0)
        {
            return null;
        }

        // systemd recommends pinging at half the timeout; keep at least 1 ms between pings.
        // (The cap keeps an absurd value from overflowing TimeSpan: a day is far beyond any real WatchdogSec.)
        return TimeSpan.FromMicroseconds((long)Math.Clamp(usec / 2, 1000UL, 86_400_000_000UL));
    }
}
