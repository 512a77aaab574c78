using System.Globalization;
using System.Security.Cryptography;
using FastChat.Protocol.Messages;
using FastChat.Transport;

namespace FastChat.Compare.Targets;

/// <summary>
/// The fastchat target, spoken at the protocol level like every other adapter here: each peer is a user signed up
/// for the run over the balancer (<c>SignUp</c>, <c>Assigned</c>), then a session on the assigned chat server
/// (<c>Hello</c>, <c>Resume</c>) over FastChat's own transport. A dm is a <c>DirectMessage</c> to the receiver's user
/// name, a group a FastChat group the first sender creates and fills (<c>GroupCreate</c>, <c>GroupAddMember</c>), a
/// group send a <c>GroupMessage</c>. Receivers acknowledge every delivery, and every send is acknowledged by the
/// server once it has taken responsibility for it; those acknowledgements are counted, and a run is only over once
/// each one is in. <see cref="FastChatTarget"/> is the same through the client SDK.
/// </summary>
internal sealed class FastChatWireTarget : ITarget
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly string _host;
    private readonly int _port;
    private readonly ConnectorOptions _options;
    private readonly string _run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    private int _nextUser;

    /// <summary>A target whose balancer listens on <paramref name="host"/>:<paramref name="port"/>; frames are sized for bodies up to <paramref name="maxBody"/> bytes.</summary>
    public FastChatWireTarget(string host, int port, int maxBody)
    {
        _host = host;
        _port = port;
        _options = new ConnectorOptions
        {
            MaxFrameSize = Math.Max(ProtocolConstants.DefaultMaxFrameSize, maxBody + FastChatWirePeer.FrameOverhead),

            // A peer may wait silently while the others of a large run sign up; the generator never gives up on it.
            IdleTimeout = Timeout.InfiniteTimeSpan,

            // Read straight into a buffer: the zero-byte wait that spares an idle server connection its buffer costs
            // the generator, whose connections are never idle during a run, a second receive call per read.
            WaitForDataBeforeAllocatingBuffer = false,
        };
    }

    /// <inheritdoc/>
    public string Name => "fastchat";

    /// <inheritdoc/>
    public bool IsAcked => true;

    /// <inheritdoc/>
    public async Task<IPeer> ConnectAsync(PeerRoles roles, IMessageSink sink, CancellationToken cancellationToken)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"cw-{_run}-{Interlocked.Increment(ref _nextUser)}");
        FastChatWireAssignment assignment = await FastChatWireSignUp.SignUpAsync(_host, _port, name, _options, RequestTimeout, cancellationToken).ConfigureAwait(false);
        return await FastChatWirePeer.ResumeAsync(assignment, name, sink, _options, RequestTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<Destination> FormGroupAsync(string topic, IReadOnlyList<IPeer> senders, IReadOnlyList<IPeer> receivers, CancellationToken cancellationToken)
    {
        string group = $"{topic}-{_run}";
        var admin = (FastChatWirePeer)senders[0];
        await admin.RequestAsync(new GroupCreate { Group = group }, RequestTimeout, cancellationToken).ConfigureAwait(false);

        // One member at a time, as the SDK target does: the comparison measures sending, not forming the group.
        for (int i = 1; i < senders.Count; i++)
        {
            await admin.RequestAsync(new GroupAddMember { Group = group, Member = ((FastChatWirePeer)senders[i]).Name }, RequestTimeout, cancellationToken).ConfigureAwait(false);
        }

        foreach (IPeer receiver in receivers)
        {
            await admin.RequestAsync(new GroupAddMember { Group = group, Member = ((FastChatWirePeer)receiver).Name }, RequestTimeout, cancellationToken).ConfigureAwait(false);
        }

        return new Destination(group, isGroup: true);
    }
}
