using System.Diagnostics.Metrics;

namespace FastChat.Hosts.Balancer.Internal;

/// <summary>
/// The <c>FastChat.Balancer</c> meter: sign-ins and sign-ups by result, assignments by server, and the number of live
/// servers. Made by the host's <see cref="IMeterFactory"/> when there is one (which then owns the meter), otherwise
/// owned and disposed here.
/// </summary>
internal sealed class BalancerMetrics : IDisposable
{
    public const string MeterName = "FastChat.Balancer";

    // Tag values, created once: recording a measurement allocates nothing.
    private static readonly KeyValuePair<string, object?> s_success = new("result", "success");
    private static readonly KeyValuePair<string, object?> s_failed = new("result", "failed");
    private static readonly KeyValuePair<string, object?> s_rateLimited = new("result", "rate_limited");
    private static readonly KeyValuePair<string, object?> s_noServer = new("result", "no_server");
    private static readonly KeyValuePair<string, object?> s_invalid = new("result", "invalid");
    private static readonly KeyValuePair<string, object?> s_exists = new("result", "exists");
    private static readonly KeyValuePair<string, object?> s_error = new("result", "error");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _signIns;
    private readonly Counter<long> _signUps;
    private readonly Counter<long> _assignments;

    public BalancerMetrics(IMeterFactory? meterFactory, Func<int> liveServers)
    {
        ArgumentNullException.ThrowIfNull(liveServers);
        string? version = typeof(BalancerMetrics).Assembly.GetName().Version?.ToString();
        if (meterFactory is null)
        {
            _meter = new Meter(MeterName, version);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(new MeterOptions(MeterName) { Version = version });
        }

        _signIns = _meter.CreateCounter<long>("fastchat.balancer.sign_ins", "{sign_in}", "Sign-in attempts, tagged with result (success, failed, rate_limited, no_server, invalid, error).");
        _signUps = _meter.CreateCounter<long>("fastchat.balancer.sign_ups", "{sign_up}", "Sign-up attempts, tagged with result (success, exists, invalid, no_server, error).");
        _assignments = _meter.CreateCounter<long>("fastchat.balancer.assignments", "{assignment}", "Clients assigned to a chat server, tagged with server.");
        _meter.CreateObservableGauge("fastchat.balancer.servers.live", liveServers, "{server}", "Chat servers whose load reports are current.");
    }

    public Meter Meter => _meter;

    public void SignInSucceeded() => _signIns.Add(1, s_success);

    public void SignInFailed() => _signIns.Add(1, s_failed);

    public void SignInRateLimited() => _signIns.Add(1, s_rateLimited);

    public void SignInNoServer() => _signIns.Add(1, s_noServer);

    public void SignInInvalid() => _signIns.Add(1, s_invalid);

    public void SignInError() => _signIns.Add(1, s_error);

    public void SignUpSucceeded() => _signUps.Add(1, s_success);

    public void SignUpExists() => _signUps.Add(1, s_exists);

    public void SignUpInvalid() => _signUps.Add(1, s_invalid);

    public void SignUpNoServer() => _signUps.Add(1, s_noServer);

    public void SignUpError() => _signUps.Add(1, s_error);

    public void Assigned(string serverId) => _assignments.Add(1, new KeyValuePair<string, object?>("server", serverId));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
