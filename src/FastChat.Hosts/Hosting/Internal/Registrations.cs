namespace FastChat.Hosts.Hosting.Internal;

/// <summary>Marks a service collection in which a balancer was added (there is at most one per process).</summary>
internal sealed class BalancerRegistration;

/// <summary>One chat server added with <c>AddFastChatServer</c>: its options live under this options name.</summary>
internal sealed class ChatServerRegistration
{
    public ChatServerRegistration(string name) => Name = name;

    public string Name { get; }
}

/// <summary>Marks a service collection in which the store was added.</summary>
internal sealed class StorageRegistration;

/// <summary>Marks a service collection in which the cluster key is read from <c>ClusterOptions</c>.</summary>
internal sealed class ClusterRegistration;
