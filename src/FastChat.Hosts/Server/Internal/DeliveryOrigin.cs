namespace FastChat.Hosts.Server.Internal;

/// <summary>What kind of party waits for a delivery's outcome.</summary>
internal enum OriginKind : byte
{
    /// <summary>Nobody (an empty slot).</summary>
    None = 0,

    /// <summary>A sender signed in to this server: it gets <c>Ack</c> (with its request id) and, when the recipient acked, <c>Delivered</c>.</summary>
    Local = 1,

    /// <summary>One member's copy of a group message: the fan-out counts it down and acks the sender after the last copy.</summary>
    FanOut = 2,

    /// <summary>A direct message relayed from another server: that server gets a receipt over the peer link.</summary>
    Remote = 3,

    /// <summary>A group-message copy relayed from another server: that server gets a receipt naming the member.</summary>
    RemoteGroupCopy = 4,
}

/// <summary>
/// Who learns the outcome of one delivery (acked by the recipient, or stored for later): a small value kept in the
/// in-flight entry, so tracking a delivery allocates nothing.
/// </summary>
internal readonly struct DeliveryOrigin
{
    private DeliveryOrigin(OriginKind kind, ClientSession? session, GroupFanOut? fanOut, string? serverId, string? sender, uint requestId)
    {
        Kind = kind;
        Session = session;
        FanOut = fanOut;
        ServerId = serverId;
        Sender = sender;
        RequestId = requestId;
    }

    public OriginKind Kind { get; }

    /// <summary>The sending session (<see cref="OriginKind.Local"/>).</summary>
    public ClientSession? Session { get; }

    /// <summary>The group message's fan-out (<see cref="OriginKind.FanOut"/>).</summary>
    public GroupFanOut? FanOut { get; }

    /// <summary>The server to send the receipt to (remote kinds).</summary>
    public string? ServerId { get; }

    /// <summary>The sending user (remote kinds: the receipt is addressed to them).</summary>
    public string? Sender { get; }

    /// <summary>The request id of the sender's message (<see cref="OriginKind.Local"/>).</summary>
    public uint RequestId { get; }

    public static DeliveryOrigin Local(ClientSession session, uint requestId) => new(OriginKind.Local, session, null, null, null, requestId);

    public static DeliveryOrigin Group(GroupFanOut fanOut) => new(OriginKind.FanOut, null, fanOut, null, null, 0);

    public static DeliveryOrigin Remote(string serverId, string sender, bool groupCopy) =>
        new(groupCopy ? OriginKind.RemoteGroupCopy : OriginKind.Remote, null, null, serverId, sender, 0);
}
