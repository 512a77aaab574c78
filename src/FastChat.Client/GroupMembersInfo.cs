namespace FastChat.Client;

/// <summary>A group's admin, current key epoch and members, from <see cref="ChatClient.GetMembersAsync"/>.</summary>
/// <param name="Group">The group.</param>
/// <param name="Admin">The group's admin.</param>
/// <param name="KeyEpoch">The current group key epoch.</param>
/// <param name="Members">The members, the admin included.</param>
public sealed record GroupMembersInfo(string Group, string Admin, int KeyEpoch, IReadOnlyList<string> Members);

