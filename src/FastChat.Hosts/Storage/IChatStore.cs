using FastChat.Protocol.Messages;

namespace FastChat.Hosts.Storage;

/// <summary>
/// Everything the balancer and the chat servers keep: accounts and their keys, groups and members, group key
/// envelopes, pending (offline) items per recipient in arrival order, presence, and the server directory.
/// </summary>
/// <remarks>
/// <para>Implementations are thread-safe and shared by every worker in a process; several processes may share one
/// database. Every write is durable when its task completes: a pending item whose <see cref="EnqueueAsync(PendingItem, CancellationToken)"/>
/// returned has been committed and survives a crash of the process.</para>
/// <para>Names are compared ordinally (the hosts only admit lower-case names). Blobs (keys, envelopes, payloads) are
/// opaque and returned byte for byte as stored.</para>
/// </remarks>
public interface IChatStore : IAsyncDisposable
{
    /// <summary>Creates the schema if it is missing and migrates an older one. Idempotent; safe to call from several processes at once.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the store is ready.</returns>
    /// <exception cref="ChatStoreException">The database cannot be reached or migrated.</exception>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    // ---- Accounts -------------------------------------------------------------------------------------------

    /// <summary>Creates an account.</summary>
    /// <param name="account">The account to store.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> if it was created; <see langword="false"/> if an account with that name exists (nothing is changed).</returns>
    Task<bool> CreateAccountAsync(Account account, CancellationToken cancellationToken = default);

    /// <summary>Reads an account.</summary>
    /// <param name="userName">The user name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The account, or <see langword="null"/> if there is none.</returns>
    Task<Account?> GetAccountAsync(string userName, CancellationToken cancellationToken = default);

    // ---- Groups ---------------------------------------------------------------------------------------------

    /// <summary>Creates a group whose admin is its first member, at key epoch 0.</summary>
    /// <param name="group">The group name.</param>
    /// <param name="admin">The creating user, who becomes admin and member.</param>
    /// <param name="memberLimit">The most members the group may have (the admin counts).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> if created; <see langword="false"/> if a group with that name exists.</returns>
    Task<bool> CreateGroupAsync(string group, string admin, int memberLimit, CancellationToken cancellationToken = default);

    /// <summary>Reads a group with its members in the order they joined.</summary>
    /// <param name="group">The group name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The group, or <see langword="null"/> if there is none.</returns>
    Task<GroupInfo?> GetGroupAsync(string group, CancellationToken cancellationToken = default);

    /// <summary>The groups a user is a member of, by name.</summary>
    /// <param name="userName">The user.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The group names, ordered ordinally.</returns>
    Task<IReadOnlyList<string>> GetGroupsOfMemberAsync(string userName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a member atomically: the limit is checked, the member inserted and the group's key epoch advanced by one in
    /// one transaction. The epoch advances so the admin rotates the group key: a member who joins later must not hold the
    /// key of messages sent before they joined.
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="member">The user to add.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see cref="GroupChangeStatus.Ok"/> with the new epoch, or <see cref="GroupChangeStatus.GroupNotFound"/>, <see cref="GroupChangeStatus.AlreadyMember"/> or <see cref="GroupChangeStatus.GroupFull"/> with the unchanged epoch.</returns>
    Task<GroupChange> AddMemberAsync(string group, string member, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a member (a removal by the admin or a member leaving) and advances the group's key epoch by one, so
    /// the remaining members rotate the group key. The member's stored key envelopes for the group are deleted. If the
    /// admin leaves, the longest-standing remaining member becomes admin; if nobody remains, the group is deleted.
    /// </summary>
    /// <param name="group">The group.</param>
    /// <param name="member">The user to remove.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see cref="GroupChangeStatus.Ok"/> with the new epoch and admin, <see cref="GroupChangeStatus.GroupNotFound"/> or <see cref="GroupChangeStatus.NotMember"/>.</returns>
    Task<GroupChange> RemoveMemberAsync(string group, string member, CancellationToken cancellationToken = default);

    /// <summary>Stores (or replaces) the wrapped group key for one member and epoch.</summary>
    /// <param name="envelope">The envelope.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the envelope is committed.</returns>
    /// <exception cref="ChatStoreException">The group does not exist (callers check membership first), or the database failed.</exception>
    Task PutGroupKeyEnvelopeAsync(GroupKeyEnvelopeRecord envelope, CancellationToken cancellationToken = default);

    /// <summary>Every stored key envelope addressed to a member, across their groups, ordered by group then epoch.</summary>
    /// <param name="member">The member.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The envelopes.</returns>
    Task<IReadOnlyList<GroupKeyEnvelopeRecord>> GetGroupKeyEnvelopesAsync(string member, CancellationToken cancellationToken = default);

    // ---- Pending items (offline delivery) -------------------------------------------------------------------

    /// <summary>Appends a pending item to its recipient's queue and commits it before returning.</summary>
    /// <param name="item">The item; its <see cref="PendingItem.Sequence"/> is ignored (the store assigns it).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> if stored; <see langword="false"/> if an item with the same recipient, id, kind and part is already pending (a duplicate; nothing is changed).</returns>
    Task<bool> EnqueueAsync(PendingItem item, CancellationToken cancellationToken = default);

    /// <summary>Appends several pending items in one transaction (a group message to many offline members, or a file's chunks), skipping duplicates.</summary>
    /// <param name="items">The items, appended in this order.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many were stored (duplicates are not counted).</returns>
    Task<int> EnqueueBatchAsync(IReadOnlyList<PendingItem> items, CancellationToken cancellationToken = default);

    /// <summary>Reads a recipient's pending items in arrival order.</summary>
    /// <param name="recipient">The recipient.</param>
    /// <param name="afterSequence">Only items with a larger <see cref="PendingItem.Sequence"/> (0 for the start).</param>
    /// <param name="limit">The most items to return.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The items, by ascending sequence.</returns>
    Task<IReadOnlyList<PendingItem>> GetPendingAsync(string recipient, long afterSequence, int limit, CancellationToken cancellationToken = default);

    /// <summary>Counts a recipient's pending items that are messages or file offers (what a user sees as "messages waiting").</summary>
    /// <param name="recipient">The recipient.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The count.</returns>
    Task<int> CountPendingAsync(string recipient, CancellationToken cancellationToken = default);

    /// <summary>Deletes every pending item of a recipient with the given id (a message, or a file's offer, chunks and completion) once the recipient acknowledged it.</summary>
    /// <param name="recipient">The recipient.</param>
    /// <param name="id">The message or file id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many items were deleted.</returns>
    Task<int> DeletePendingAsync(string recipient, MessageId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every pending item of a recipient whose id is one of <paramref name="ids"/>, in one transaction: what
    /// <see cref="DeletePendingAsync(string, MessageId, CancellationToken)"/> does for each id, with one commit (and on a
    /// database server one round trip) for the whole batch, so a recipient acknowledging a long backlog is not held to one
    /// commit per item.
    /// </summary>
    /// <param name="recipient">The recipient.</param>
    /// <param name="ids">The message or file ids. Ids with nothing pending for <paramref name="recipient"/> are ignored, and so are repeats; an empty list changes nothing and does not reach the database. The store may read the list until the task completes.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many items were deleted (a file id counts its offer, chunks and completion).</returns>
    /// <exception cref="ArgumentException"><paramref name="recipient"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is <see langword="null"/>.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="ChatStoreException">The database failed; none of the items is deleted.</exception>
    Task<int> DeletePendingAsync(string recipient, IReadOnlyList<MessageId> ids, CancellationToken cancellationToken = default);

    // ---- Presence and servers -------------------------------------------------------------------------------

    /// <summary>Records that a user is connected to a server (replacing any earlier record).</summary>
    /// <param name="userName">The user.</param>
    /// <param name="serverId">The server.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when recorded.</returns>
    Task SetPresenceAsync(string userName, string serverId, CancellationToken cancellationToken = default);

    /// <summary>Clears a user's presence, but only if it still names <paramref name="serverId"/> (a newer session elsewhere wins).</summary>
    /// <param name="userName">The user.</param>
    /// <param name="serverId">The server the user is leaving.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> if a record was cleared.</returns>
    Task<bool> ClearPresenceAsync(string userName, string serverId, CancellationToken cancellationToken = default);

    /// <summary>Clears every presence record naming a server (at its start, after a crash, or at its shutdown).</summary>
    /// <param name="serverId">The server.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many records were cleared.</returns>
    Task<int> ClearServerPresenceAsync(string serverId, CancellationToken cancellationToken = default);

    /// <summary>Which server a user is connected to.</summary>
    /// <param name="userName">The user.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The server id, or <see langword="null"/> if the user is offline.</returns>
    Task<string?> GetPresenceAsync(string userName, CancellationToken cancellationToken = default);

    /// <summary>Records (or updates) a chat server's advertised endpoint, so peers can open relay links to it.</summary>
    /// <param name="server">The server.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when recorded.</returns>
    Task UpsertServerAsync(ServerRecord server, CancellationToken cancellationToken = default);

    /// <summary>Reads a chat server's advertised endpoint.</summary>
    /// <param name="serverId">The server.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The record, or <see langword="null"/> if unknown.</returns>
    Task<ServerRecord?> GetServerAsync(string serverId, CancellationToken cancellationToken = default);
}
