using Microsoft.AspNetCore.SignalR;

namespace FastChat.Compare.SignalR;

/// <summary>
/// The hub the comparison drives: a topic is a SignalR group, a publish is a group send. Payloads travel as base64
/// strings, since the JSON hub protocol has no bytes.
/// </summary>
internal sealed class RelayHub : Hub
{
    /// <summary>The method name clients receive messages under.</summary>
    public const string MessageMethod = "m";

    /// <summary>Adds the caller to <paramref name="topic"/>'s group; the completion tells the caller the subscription is in place.</summary>
    public Task Subscribe(string topic) => Groups.AddToGroupAsync(Context.ConnectionId, topic);

    /// <summary>Sends <paramref name="payload"/> to every connection in <paramref name="topic"/>'s group.</summary>
    public Task Publish(string topic, string payload) => Clients.Group(topic).SendAsync(MessageMethod, payload);
}
