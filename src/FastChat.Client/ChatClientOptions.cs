using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Client;

/// <summary>How a <see cref="ChatClient"/> reaches the cluster and behaves on the way: timeouts, reconnection, acknowledgements and limits.</summary>
/// <remarks>
/// The options are read once, by the <see cref="ChatClient"/> constructor (which validates them); later changes have
/// no effect on an existing client.
/// </remarks>
public sealed class ChatClientOptions
{
    /// <summary>The default <see cref="KdfIterations"/>: 600,000 rounds of PBKDF2-SHA256 (OWASP's 2023 recommendation).</summary>
    public const int DefaultKdfIterations = 600_000;

    /// <summary>
    /// The fewest PBKDF2-SHA256 iterations the client accepts from the balancer at sign-in: 100,000, the balancer's own
    /// minimum for new accounts. The balancer tells the client how many rounds to run; a hostile or broken balancer
    /// asking for fewer would get an auth key that is cheap to attack offline, so sign-in refuses it
    /// (docs/security.md §11).
    /// </summary>
    public const int MinimumKdfIterations = 100_000;

    /// <summary>The balancer's host name or address. Default <c>127.0.0.1</c>.</summary>
    public string BalancerHost { get; set; } = "127.0.0.1";

    /// <summary>The balancer's port. Default 7700.</summary>
    public int BalancerPort { get; set; } = 7700;

    /// <summary>
    /// The PBKDF2-SHA256 iteration count chosen at sign-up (sign-in uses the count stored with the account).
    /// The balancer refuses counts below its minimum (100,000 by default). Default <see cref="DefaultKdfIterations"/>.
    /// </summary>
    public int KdfIterations { get; set; } = DefaultKdfIterations;

    /// <summary>The limit on opening one connection (TCP connect and, with TLS, the handshake). Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a request waits for its reply, and a message for the server's acknowledgement (including time spent
    /// reconnecting). Passing it throws <see cref="TimeoutException"/>. Default 10 seconds.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether the client signs in again through the balancer when the server asks it to (<c>Reconnect</c>), when the
    /// connection drops or when the server is unreachable. Default <see langword="true"/>.
    /// </summary>
    public bool AutoReconnect { get; set; } = true;

    /// <summary>The wait before the second reconnection attempt (the first is immediate, or as the server asked); it doubles per attempt up to <see cref="MaxReconnectDelay"/>. Default 250 ms.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between reconnection attempts. Default 10 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often the client pings an otherwise quiet server, so that neither side's idle timeout closes a healthy
    /// connection. <see cref="Timeout.InfiniteTimeSpan"/> turns pings off. Default 30 seconds.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest frame sent or accepted, in bytes; it must match the servers' limit. Message bodies may use all but
    /// <see cref="ChatClient.FrameOverhead"/> bytes of it. Default <see cref="ProtocolConstants.DefaultMaxFrameSize"/> (1 MiB).
    /// </summary>
    public int MaxFrameSize { get; set; } = ProtocolConstants.DefaultMaxFrameSize;

    /// <summary>TLS settings for the balancer and server connections; <see langword="null"/> (the default) uses plain TCP.</summary>
    public TlsClientOptions? Tls { get; set; }

    /// <summary>
    /// Whether the client acknowledges each received message, group message and file as
    /// <see cref="ChatClient.ReadEventsAsync"/> hands it to the application. Turn it off to acknowledge explicitly with
    /// <see cref="ChatClient.AckAsync"/> once a message is processed (for example persisted). Default <see langword="true"/>.
    /// </summary>
    public bool AutoAck { get; set; } = true;

    /// <summary>
    /// How many received events may wait for <see cref="ChatClient.ReadEventsAsync"/>. When it is full the client stops
    /// reading from the server, which slows the server down (it keeps what it could not deliver). Default 1024.
    /// </summary>
    public int EventCapacity { get; set; } = 1024;

    /// <summary>
    /// The most messages that may wait for the server's acknowledgement at once; sending more throws
    /// <see cref="InvalidOperationException"/>. Default 10,000.
    /// </summary>
    public int OutboxCapacity { get; set; } = 10_000;

    /// <summary>The agent string sent in <c>Hello</c>, for the servers' logs. Default <c>FastChat.Client/</c> and the library version.</summary>
    public string Agent { get; set; } = DefaultAgent;

    internal static string DefaultAgent { get; } = "FastChat.Client/" + (typeof(ChatClientOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and the limit.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BalancerHost))
        {
            throw new ArgumentException("BalancerHost must be a host name or address.", nameof(BalancerHost));
        }

        if (BalancerPort is < 1 or > 65535)
        {
            throw new ArgumentException($"BalancerPort must be between 1 and 65535; it is {BalancerPort}.", nameof(BalancerPort));
        }

        if (KdfIterations < 1)
        {
            throw new ArgumentException($"KdfIterations must be positive; it is {KdfIterations}.", nameof(KdfIterations));
        }

        ValidatePositive(nameof(ConnectTimeout), ConnectTimeout, allowInfinite: true);
        ValidatePositive(nameof(RequestTimeout), RequestTimeout, allowInfinite: true);
        ValidatePositive(nameof(ReconnectDelay), ReconnectDelay, allowInfinite: false);
        ValidatePositive(nameof(MaxReconnectDelay), MaxReconnectDelay, allowInfinite: false);
        ValidatePositive(nameof(KeepAliveInterval), KeepAliveInterval, allowInfinite: true);
        if (MaxReconnectDelay < ReconnectDelay)
        {
            throw new ArgumentException($"MaxReconnectDelay ({MaxReconnectDelay}) must be at least ReconnectDelay ({ReconnectDelay}).", nameof(MaxReconnectDelay));
        }

        // A file chunk (64 KiB plus the AEAD overhead and the frame's own fields) must fit in one frame.
        int minimum = ProtocolConstants.MaxFileChunkSize + ChatClient.FrameOverhead;
        if (MaxFrameSize < minimum)
        {
            throw new ArgumentException($"MaxFrameSize must be at least {minimum} B so that a 64 KiB file chunk fits; it is {MaxFrameSize} B.", nameof(MaxFrameSize));
        }

        if (EventCapacity < 1)
        {
            throw new ArgumentException($"EventCapacity must be positive; it is {EventCapacity}.", nameof(EventCapacity));
        }

        if (OutboxCapacity < 1)
        {
            throw new ArgumentException($"OutboxCapacity must be positive; it is {OutboxCapacity}.", nameof(OutboxCapacity));
        }

        Tls?.Validate();
    }

    // The client keeps its own copy, so later changes to the caller's instance have no effect on it.
    internal ChatClientOptions Clone() => (ChatClientOptions)MemberwiseClone();

    private static void ValidatePositive(string name, TimeSpan value, bool allowInfinite)
    {
        if (value == Timeout.InfiniteTimeSpan && allowInfinite)
        {
            return;
        }

        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException($"{name} must be positive and at most {int.MaxValue} ms{(allowInfinite ? ", or Timeout.InfiniteTimeSpan" : string.Empty)}; it is {value}.", name);
        }
    }
}
