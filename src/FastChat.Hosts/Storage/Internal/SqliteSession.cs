using System.Globalization;
using FastChat.Protocol.Messages;
using FastChat.Shared.Sqlite;
using Microsoft.Data.Sqlite;

namespace FastChat.Hosts.Storage.Internal;

/// <summary>
/// One open connection to the store's database and the store's statements prepared on it. The writer loop owns one
/// session, and readers rent theirs from the store's <see cref="SqliteSessionPool{TSession}"/>.
/// </summary>
/// <remarks>
/// The write methods expect the caller to have opened a transaction (<see cref="SqliteSessionBase.Begin"/>); the read
/// methods run one statement each, which SQLite reads from one snapshot.
/// </remarks>
internal sealed class SqliteSession : SqliteSessionBase, ISqliteSession<SqliteSession>
{
    private const string Provider = "SQLite";

    // FULL syncs the WAL on every commit: a pending item whose enqueue returned is on disk, not in a buffer.
    // journal_size_limit truncates the WAL back to 64 MiB after a checkpoint, so a burst of file chunks does not leave a
    // huge WAL file behind.
    private const string Settings = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = 67108864;";

    private SqliteSession(SqliteConnection connection)
        : base(connection, (int)Statement.Count)
    {
    }

    private enum Statement
    {
        InsertAccount,
        SelectAccount,
        InsertGroup,
        InsertMember,
        SelectGroup,
        SelectGroupsOfMember,
        SelectGroupForAdd,
        SelectGroupState,
        DeleteMember,
        DeleteMemberEnvelopes,
        SelectFirstMember,
        DeleteGroup,
        UpdateGroup,
        UpsertEnvelope,
        SelectEnvelopes,
        InsertPending,
        SelectPending,
        CountPending,
        DeletePending,
        UpsertPresence,
        DeletePresence,
        DeleteServerPresence,
        SelectPresence,
        UpsertServer,
        SelectServer,
        Count,
    }

    /// <inheritdoc/>
    public static Type Owner => typeof(SqliteChatStore);

    /// <inheritdoc/>
    public static string? DisposedMessage => null;

    /// <summary>Opens a connection and sets it up: busy timeout, WAL, full synchronous commits, foreign keys.</summary>
    /// <exception cref="SqliteException">The database cannot be opened.</exception>
    /// <exception cref="ChatStoreException">The database cannot use WAL journaling (an in-memory database, for one).</exception>
    public static SqliteSession Open(string connectionString, int busyTimeoutMilliseconds) =>
        new(OpenConnection(
            connectionString,
            busyTimeoutMilliseconds,
            Settings,
            static (database, mode) => new ChatStoreException(
                $"SQLite store '{database}' cannot use WAL journaling (the journal mode is '{mode}'); FastChat needs a database file on a local disk.")));

    /// <inheritdoc/>
    public static bool IsOwnException(Exception exception) => exception is ChatStoreException;

    /// <inheritdoc/>
    public static Exception Failed(string database, string operation, Exception exception) =>
        StoreErrors.Failed(Provider, database, operation, exception);

    // ---- Accounts ---------------------------------------------------------------------------------------------

    public bool InsertAccount(Account account)
    {
        SqliteCommand command = Command(Statement.InsertAccount);
        SqliteParameterCollection parameters = command.Parameters;
        parameters[0].Value = account.UserName;
        parameters[1].Value = account.KdfAlgorithm;
        parameters[2].Value = account.KdfSalt;
        parameters[3].Value = account.KdfIterations;
        parameters[4].Value = account.ServerSalt;
        parameters[5].Value = account.AuthKeyHash;
        parameters[6].Value = account.AgreementPublicKey;
        parameters[7].Value = account.SigningPublicKey;
        parameters[8].Value = account.WrappedPrivateKeys;
        parameters[9].Value = StoreArguments.ToUtc(account.CreatedAt).Ticks;
        return command.ExecuteNonQuery() == 1;
    }

    public Account? SelectAccount(string userName)
    {
        SqliteCommand command = Command(Statement.SelectAccount);
        command.Parameters[0].Value = userName;
        using SqliteDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return StoreRecords.ReadAccount(reader, userName, ReadTime(reader, 8));
    }

    // ---- Groups -----------------------------------------------------------------------------------------------

    public bool InsertGroup(string group, string admin, int memberLimit)
    {
        SqliteCommand command = Command(Statement.InsertGroup);
        command.Parameters[0].Value = group;
        command.Parameters[1].Value = admin;
        command.Parameters[2].Value = memberLimit;
        if (command.ExecuteNonQuery() != 1)
        {
            return false;
        }

        InsertMember(group, admin);
        return true;
    }

    public GroupInfo? SelectGroup(string group)
    {
        SqliteCommand command = Command(Statement.SelectGroup);
        command.Parameters[0].Value = group;
        using SqliteDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        string admin = reader.GetString(0);
        int memberLimit = reader.GetInt32(1);
        int keyEpoch = reader.GetInt32(2);
        var members = new List<string>();
        do
        {
            members.Add(reader.GetString(3));
        }
        while (reader.Read());

        return new GroupInfo(group, admin, memberLimit, keyEpoch, members);
    }

    public List<string> SelectGroupsOfMember(string member)
    {
        SqliteCommand command = Command(Statement.SelectGroupsOfMember);
        command.Parameters[0].Value = member;
        using SqliteDataReader reader = command.ExecuteReader();
        var groups = new List<string>();
        while (reader.Read())
        {
            groups.Add(reader.GetString(0));
        }

        return groups;
    }

    public GroupChange AddMember(string group, string member)
    {
        int keyEpoch;
        string admin;
        SqliteCommand command = Command(Statement.SelectGroupForAdd);
        command.Parameters[0].Value = group;
        command.Parameters[1].Value = member;
        using (SqliteDataReader reader = command.ExecuteReader())
        {
            if (!reader.Read())
            {
                return new GroupChange(GroupChangeStatus.GroupNotFound, 0, string.Empty);
            }

            keyEpoch = reader.GetInt32(0);
            admin = reader.GetString(1);
            int memberLimit = reader.GetInt32(2);
            long memberCount = reader.GetInt64(3);
            bool isMember = reader.GetInt64(4) != 0;
            if (isMember)
            {
                return new GroupChange(GroupChangeStatus.AlreadyMember, keyEpoch, admin);
            }

            if (memberCount >= memberLimit)
            {
                return new GroupChange(GroupChangeStatus.GroupFull, keyEpoch, admin);
            }
        }

        InsertMember(group, member);
        SqliteCommand update = Command(Statement.UpdateGroup);
        update.Parameters[0].Value = group;
        update.Parameters[1].Value = keyEpoch + 1;
        update.Parameters[2].Value = admin;
        update.ExecuteNonQuery();
        return new GroupChange(GroupChangeStatus.Ok, keyEpoch + 1, admin);
    }

    public GroupChange RemoveMember(string group, string member)
    {
        int keyEpoch;
        string admin;
        SqliteCommand state = Command(Statement.SelectGroupState);
        state.Parameters[0].Value = group;
        using (SqliteDataReader reader = state.ExecuteReader())
        {
            if (!reader.Read())
            {
                return new GroupChange(GroupChangeStatus.GroupNotFound, 0, string.Empty);
            }

            keyEpoch = reader.GetInt32(0);
            admin = reader.GetString(1);
        }

        SqliteCommand deleteMember = Command(Statement.DeleteMember);
        deleteMember.Parameters[0].Value = group;
        deleteMember.Parameters[1].Value = member;
        if (deleteMember.ExecuteNonQuery() == 0)
        {
            return new GroupChange(GroupChangeStatus.NotMember, keyEpoch, admin);
        }

        SqliteCommand deleteEnvelopes = Command(Statement.DeleteMemberEnvelopes);
        deleteEnvelopes.Parameters[0].Value = group;
        deleteEnvelopes.Parameters[1].Value = member;
        deleteEnvelopes.ExecuteNonQuery();

        int newEpoch = keyEpoch + 1;
        SqliteCommand first = Command(Statement.SelectFirstMember);
        first.Parameters[0].Value = group;
        string? longestStanding = first.ExecuteScalar() as string;
        if (longestStanding is null)
        {
            // Nobody is left: the group goes, and its remaining envelopes with it (ON DELETE CASCADE).
            SqliteCommand deleteGroup = Command(Statement.DeleteGroup);
            deleteGroup.Parameters[0].Value = group;
            deleteGroup.ExecuteNonQuery();
            return new GroupChange(GroupChangeStatus.Ok, newEpoch, string.Empty, GroupDeleted: true);
        }

        string newAdmin = string.Equals(admin, member, StringComparison.Ordinal) ? longestStanding : admin;
        SqliteCommand update = Command(Statement.UpdateGroup);
        update.Parameters[0].Value = group;
        update.Parameters[1].Value = newEpoch;
        update.Parameters[2].Value = newAdmin;
        update.ExecuteNonQuery();
        return new GroupChange(GroupChangeStatus.Ok, newEpoch, newAdmin);
    }

    public void UpsertEnvelope(GroupKeyEnvelopeRecord envelope)
    {
        SqliteCommand command = Command(Statement.UpsertEnvelope);
        SqliteParameterCollection parameters = command.Parameters;
        parameters[0].Value = envelope.Group;
        parameters[1].Value = envelope.Member;
        parameters[2].Value = envelope.Epoch;
        parameters[3].Value = envelope.Sender;
        parameters[4].Value = envelope.Envelope;
        try
        {
            command.ExecuteNonQuery();
        }
        catch (SqliteException e) when (e.SqliteExtendedErrorCode == SQLitePCL.raw.SQLITE_CONSTRAINT_FOREIGNKEY)
        {
            throw StoreErrors.GroupMissing(envelope.Group, e);
        }
    }

    public List<GroupKeyEnvelopeRecord> SelectEnvelopes(string member)
    {
        SqliteCommand command = Command(Statement.SelectEnvelopes);
        command.Parameters[0].Value = member;
        using SqliteDataReader reader = command.ExecuteReader();
        var envelopes = new List<GroupKeyEnvelopeRecord>();
        while (reader.Read())
        {
            envelopes.Add(StoreRecords.ReadEnvelope(reader, member));
        }

        return envelopes;
    }

    // ---- Pending items ----------------------------------------------------------------------------------------

    public bool InsertPending(PendingItem item)
    {
        SqliteCommand command = Command(Statement.InsertPending);
        SqliteParameterCollection parameters = command.Parameters;
        parameters[0].Value = item.Recipient;
        parameters[1].Value = item.Id.ToByteArray();
        parameters[2].Value = (int)item.Kind;
        parameters[3].Value = item.Part;
        parameters[4].Value = item.Payload;
        parameters[5].Value = StoreArguments.EnqueuedAt(item.EnqueuedAt).Ticks;
        return command.ExecuteNonQuery() == 1;
    }

    public int InsertPending(IReadOnlyList<PendingItem> items)
    {
        int stored = 0;
        for (int i = 0; i < items.Count; i++)
        {
            if (InsertPending(items[i]))
            {
                stored++;
            }
        }

        return stored;
    }

    public List<PendingItem> SelectPending(string recipient, long afterSequence, int limit)
    {
        SqliteCommand command = Command(Statement.SelectPending);
        command.Parameters[0].Value = recipient;
        command.Parameters[1].Value = afterSequence;
        command.Parameters[2].Value = limit;
        using SqliteDataReader reader = command.ExecuteReader();

        // Sized for a typical drain page, not for the limit, which may be int.MaxValue.
        var items = new List<PendingItem>(Math.Min(limit, 64));
        while (reader.Read())
        {
            items.Add(new PendingItem(
                reader.GetInt64(0),
                recipient,
                ReadId(reader, 1),
                (PendingKind)reader.GetInt32(2),
                reader.GetInt32(3),
                reader.GetFieldValue<byte[]>(4),
                ReadTime(reader, 5)));
        }

        return items;
    }

    public int CountPending(string recipient)
    {
        SqliteCommand command = Command(Statement.CountPending);
        command.Parameters[0].Value = recipient;
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public int DeletePending(string recipient, MessageId id)
    {
        SqliteCommand command = Command(Statement.DeletePending);
        command.Parameters[0].Value = recipient;
        command.Parameters[1].Value = id.ToByteArray();
        return command.ExecuteNonQuery();
    }

    // One prepared statement run per id inside the caller's transaction: the cost of a batch is its one commit, and each
    // run is an index lookup on pending_identity, so a single statement over a list of ids would save little here.
    public int DeletePending(string recipient, IReadOnlyList<MessageId> ids)
    {
        SqliteCommand command = Command(Statement.DeletePending);
        SqliteParameter idParameter = command.Parameters[1];
        command.Parameters[0].Value = recipient;
        int deleted = 0;
        for (int i = 0; i < ids.Count; i++)
        {
            idParameter.Value = ids[i].ToByteArray();
            deleted += command.ExecuteNonQuery();
        }

        return deleted;
    }

    // ---- Presence and servers ---------------------------------------------------------------------------------

    public void UpsertPresence(string userName, string serverId)
    {
        SqliteCommand command = Command(Statement.UpsertPresence);
        command.Parameters[0].Value = userName;
        command.Parameters[1].Value = serverId;
        command.Parameters[2].Value = DateTime.UtcNow.Ticks;
        command.ExecuteNonQuery();
    }

    public bool DeletePresence(string userName, string serverId)
    {
        SqliteCommand command = Command(Statement.DeletePresence);
        command.Parameters[0].Value = userName;
        command.Parameters[1].Value = serverId;
        return command.ExecuteNonQuery() == 1;
    }

    public int DeleteServerPresence(string serverId)
    {
        SqliteCommand command = Command(Statement.DeleteServerPresence);
        command.Parameters[0].Value = serverId;
        return command.ExecuteNonQuery();
    }

    public string? SelectPresence(string userName)
    {
        SqliteCommand command = Command(Statement.SelectPresence);
        command.Parameters[0].Value = userName;
        return command.ExecuteScalar() as string;
    }

    public void UpsertServer(ServerRecord server)
    {
        SqliteCommand command = Command(Statement.UpsertServer);
        command.Parameters[0].Value = server.ServerId;
        command.Parameters[1].Value = server.Host;
        command.Parameters[2].Value = server.Port;
        command.Parameters[3].Value = StoreArguments.ToUtc(server.UpdatedAt).Ticks;
        command.ExecuteNonQuery();
    }

    public ServerRecord? SelectServer(string serverId)
    {
        SqliteCommand command = Command(Statement.SelectServer);
        command.Parameters[0].Value = serverId;
        using SqliteDataReader reader = command.ExecuteReader();
        return reader.Read()
            ? new ServerRecord(serverId, reader.GetString(0), reader.GetInt32(1), ReadTime(reader, 2))
            : null;
    }

    private void InsertMember(string group, string member)
    {
        SqliteCommand command = Command(Statement.InsertMember);
        command.Parameters[0].Value = group;
        command.Parameters[1].Value = member;
        command.ExecuteNonQuery();
    }

    private MessageId ReadId(SqliteDataReader reader, int ordinal) =>
        TryReadId(reader, ordinal, out MessageId id)
            ? id
            : throw new ChatStoreException($"SQLite store '{DataSource}' holds a pending item whose id is not {MessageId.Size} bytes; the database is damaged.");

    private SqliteCommand Command(Statement statement) => Prepared((int)statement);

    /// <inheritdoc/>
    protected override (string Sql, string[] Parameters) Define(int statement) => (Statement)statement switch
    {
        Statement.InsertAccount => (
            "INSERT INTO accounts (user_name, kdf_algorithm, kdf_salt, kdf_iterations, server_salt, auth_key_hash, "
            + "agreement_public_key, signing_public_key, wrapped_private_keys, created_at) "
            + "VALUES ($user, $algorithm, $salt, $iterations, $server_salt, $hash, $agreement, $signing, $wrapped, $created) "
            + "ON CONFLICT (user_name) DO NOTHING",
            ["$user", "$algorithm", "$salt", "$iterations", "$server_salt", "$hash", "$agreement", "$signing", "$wrapped", "$created"]),
        Statement.SelectAccount => (
            "SELECT kdf_algorithm, kdf_salt, kdf_iterations, server_salt, auth_key_hash, agreement_public_key, "
            + "signing_public_key, wrapped_private_keys, created_at FROM accounts WHERE user_name = $user",
            ["$user"]),
        Statement.InsertGroup => (
            "INSERT INTO groups (name, admin, member_limit, key_epoch) VALUES ($group, $admin, $limit, 0) ON CONFLICT (name) DO NOTHING",
            ["$group", "$admin", "$limit"]),
        Statement.InsertMember => (
            "INSERT INTO group_members (group_name, member, joined) "
            + "VALUES ($group, $member, (SELECT COALESCE(MAX(joined), 0) + 1 FROM group_members WHERE group_name = $group))",
            ["$group", "$member"]),
        Statement.SelectGroup => (
            "SELECT g.admin, g.member_limit, g.key_epoch, m.member FROM groups AS g "
            + "JOIN group_members AS m ON m.group_name = g.name WHERE g.name = $group ORDER BY m.joined",
            ["$group"]),
        Statement.SelectGroupsOfMember => (
            "SELECT group_name FROM group_members WHERE member = $member ORDER BY group_name",
            ["$member"]),
        Statement.SelectGroupForAdd => (
            "SELECT key_epoch, admin, member_limit, "
            + "(SELECT COUNT(*) FROM group_members WHERE group_name = $group), "
            + "EXISTS (SELECT 1 FROM group_members WHERE group_name = $group AND member = $member) "
            + "FROM groups WHERE name = $group",
            ["$group", "$member"]),
        Statement.SelectGroupState => ("SELECT key_epoch, admin FROM groups WHERE name = $group", ["$group"]),
        Statement.DeleteMember => (
            "DELETE FROM group_members WHERE group_name = $group AND member = $member",
            ["$group", "$member"]),
        Statement.DeleteMemberEnvelopes => (
            "DELETE FROM group_key_envelopes WHERE group_name = $group AND member = $member",
            ["$group", "$member"]),
        Statement.SelectFirstMember => (
            "SELECT member FROM group_members WHERE group_name = $group ORDER BY joined LIMIT 1",
            ["$group"]),
        Statement.DeleteGroup => ("DELETE FROM groups WHERE name = $group", ["$group"]),
        Statement.UpdateGroup => (
            "UPDATE groups SET key_epoch = $epoch, admin = $admin WHERE name = $group",
            ["$group", "$epoch", "$admin"]),
        Statement.UpsertEnvelope => (
            "INSERT INTO group_key_envelopes (group_name, member, epoch, sender, envelope) "
            + "VALUES ($group, $member, $epoch, $sender, $envelope) "
            + "ON CONFLICT (group_name, member, epoch) DO UPDATE SET sender = excluded.sender, envelope = excluded.envelope",
            ["$group", "$member", "$epoch", "$sender", "$envelope"]),
        Statement.SelectEnvelopes => (
            "SELECT group_name, epoch, sender, envelope FROM group_key_envelopes WHERE member = $member ORDER BY group_name, epoch",
            ["$member"]),
        Statement.InsertPending => (
            "INSERT INTO pending (recipient, id, kind, part, payload, enqueued_at) "
            + "VALUES ($recipient, $id, $kind, $part, $payload, $enqueued) "
            + "ON CONFLICT (recipient, id, kind, part) DO NOTHING",
            ["$recipient", "$id", "$kind", "$part", "$payload", "$enqueued"]),
        Statement.SelectPending => (
            "SELECT sequence, id, kind, part, payload, enqueued_at FROM pending "
            + "WHERE recipient = $recipient AND sequence > $after ORDER BY sequence LIMIT $limit",
            ["$recipient", "$after", "$limit"]),
        Statement.CountPending => (
            "SELECT COUNT(*) FROM pending WHERE recipient = $recipient AND kind IN (1, 2)",
            ["$recipient"]),
        Statement.DeletePending => (
            "DELETE FROM pending WHERE recipient = $recipient AND id = $id",
            ["$recipient", "$id"]),
        Statement.UpsertPresence => (
            "INSERT INTO presence (user_name, server_id, updated_at) VALUES ($user, $server, $updated) "
            + "ON CONFLICT (user_name) DO UPDATE SET server_id = excluded.server_id, updated_at = excluded.updated_at",
            ["$user", "$server", "$updated"]),
        Statement.DeletePresence => (
            "DELETE FROM presence WHERE user_name = $user AND server_id = $server",
            ["$user", "$server"]),
        Statement.DeleteServerPresence => ("DELETE FROM presence WHERE server_id = $server", ["$server"]),
        Statement.SelectPresence => ("SELECT server_id FROM presence WHERE user_name = $user", ["$user"]),
        Statement.UpsertServer => (
            "INSERT INTO servers (server_id, host, port, updated_at) VALUES ($server, $host, $port, $updated) "
            + "ON CONFLICT (server_id) DO UPDATE SET host = excluded.host, port = excluded.port, updated_at = excluded.updated_at",
            ["$server", "$host", "$port", "$updated"]),
        Statement.SelectServer => ("SELECT host, port, updated_at FROM servers WHERE server_id = $server", ["$server"]),
        _ => throw new ArgumentOutOfRangeException(nameof(statement)),
    };
}
