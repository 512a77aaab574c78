using System.Diagnostics.Metrics;

namespace FastChat.Hosts.Server.Internal;

/// <summary>
/// The <c>FastChat.Server</c> meter's instruments for one chat server, tagged with its id (several servers may share
/// a process). Recording with no listener is a cheap no-op and never allocates: the tag is built once.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "FastChat.Server";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _serverTag;
    private readonly Counter<long> _received;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _relayed;
    private readonly Counter<long> _stored;
    private readonly UpDownCounter<long> _sessions;
    private readonly Counter<long> _slowConsumers;

    public ServerMetrics(string serverId, IMeterFactory? meterFactory)
    {
        string? version = typeof(ServerMetrics).Assembly.GetName().Version?.ToString();
        if (meterFactory is null)
        {
            _meter = new Meter(MeterName, version);
            _ownsMeter = true;
        }
        else
        {
            // The factory owns (and disposes) the meters it creates.
            _meter = meterFactory.Create(new MeterOptions(MeterName) { Version = version });
        }

        _serverTag = new KeyValuePair<string, object?>("fastchat.server.id", serverId);
        _received = _meter.CreateCounter<long>("fastchat.server.messages.received", "{message}", "Direct and group messages received from clients.");
        _delivered = _meter.CreateCounter<long>("fastchat.server.messages.delivered", "{message}", "Message copies written live to a recipient's connection.");
        _relayed = _meter.CreateCounter<long>("fastchat.server.messages.relayed", "{message}", "Message copies relayed to another chat server.");
        _stored = _meter.CreateCounter<long>("fastchat.server.messages.stored", "{message}", "Message copies and file frames stored for later delivery.");
        _sessions = _meter.CreateUpDownCounter<long>("fastchat.server.sessions", "{session}", "Signed-in client sessions.");
        _slowConsumers = _meter.CreateCounter<long>("fastchat.server.slow_consumers", "{connection}", "Clients disconnected for not reading fast enough.");
    }

    public void MessageReceived() => _received.Add(1, _serverTag);

    public void MessageDelivered() => _delivered.Add(1, _serverTag);

    public void MessageRelayed() => _relayed.Add(1, _serverTag);

    public void MessagesStored(int count) => _stored.Add(count, _serverTag);

    public void SessionStarted() => _sessions.Add(1, _serverTag);

    public void SessionEnded() => _sessions.Add(-1, _serverTag);

    public void SlowConsumer() => _slowConsumers.Add(1, _serverTag);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
