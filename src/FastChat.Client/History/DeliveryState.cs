namespace FastChat.Client.History;

/// <summary>Where a <see cref="HistoryEntry"/> stands on its way to the other side.</summary>
/// <remarks>
/// <para>A sent message starts <see cref="Pending"/>. The states only move forward:</para>
/// <list type="bullet">
/// <item><description><see cref="Pending"/> → <see cref="Sent"/> when the server acknowledges it;</description></item>
/// <item><description><see cref="Pending"/> or <see cref="Sent"/> → <see cref="Delivered"/> when a recipient acknowledges it (the
/// recipient's acknowledgement may overtake the server's);</description></item>
/// <item><description><see cref="Pending"/> → <see cref="Failed"/> when the server refuses it or it cannot be sent;</description></item>
/// <item><description><see cref="Failed"/> → <see cref="Sent"/> or <see cref="Delivered"/> when a resend goes through.</description></item>
/// </list>
/// <para>A received message is <see cref="Received"/> and stays so. The numeric values are stored in the history file: never renumber them.</para>
/// </remarks>
public enum DeliveryState
{
    /// <summary>Sent, not yet acknowledged by the server: it may have to be sent again.</summary>
    Pending = 0,

    /// <summary>The server acknowledged it: it has taken responsibility for delivering it.</summary>
    Sent = 1,

    /// <summary>A recipient acknowledged it (for a group message: at least one member did).</summary>
    Delivered = 2,

    /// <summary>This user received it.</summary>
    Received = 3,

    /// <summary>It could not be sent; <see cref="HistoryEntry.Error"/> says why.</summary>
    Failed = 4,
}
