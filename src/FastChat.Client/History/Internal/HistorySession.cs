using System.Globalization;
using FastChat.Protocol.Messages;
using FastChat.Shared.Sqlite;
using Microsoft.Data.Sqlite;

namespace FastChat.Client.History.Internal;

/// <summary>
/// One open connection to a history file and the history's statements prepared on it. The writer loop owns one
/// session, and each read rents one from the history's <see cref="SqliteSessionPool{TSession}"/>.
/// </summary>
/// <remarks>
/// The write methods expect the writer's transaction to be open; each read method is one statement, which SQLite answers
/// from one snapshot.
/// </remarks>
internal sealed class HistorySession : SqliteSessionBase, ISqliteSession<HistorySession>
{
    // Every query that returns entries selects these columns, in this order, from "messages AS m".
    private const string EntryColumns =
        "m.id, m.direction, m.peer, m.group_name, m.sent_at, m.recorded_at, m.kind, m.text, m.file_path, m.file_name, "
        + "m.file_size, m.state, m.error, m.delivered_count";

    // FULL syncs every commit: the history is also the duplicate check, and a message acknowledged to the server must
    // still be known after a power cut. Writes are group-committed, so a burst costs one sync.
    private const string Settings = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

    private HistorySession(SqliteConnection connection)
        : base(connection, (int)Statement.Count)
    {
    }

    private enum Statement
    {
        SelectMeta,
        UpsertMeta,
        InsertMessage,
        UpdateSent,
        UpdateFailed,
        SelectSentTarget,
        InsertDelivery,
        UpdateDelivered,
        HasReceived,
        SelectSent,
        SelectDirect,
        SelectGroup,
        SelectRecent,
        SelectPending,
        SelectDeliveries,
        SelectConversations,
        MarkDirectRead,
        MarkGroupRead,
        Count,
    }

    /// <inheritdoc/>
    public static Type Owner => typeof(ChatHistory);

    /// <inheritdoc/>
    public static string? DisposedMessage => "The chat history was disposed.";

    /// <summary>Opens a connection and sets it up: busy timeout, WAL, full synchronous commits, foreign keys.</summary>
    /// <exception cref="SqliteException">The database cannot be opened.</exception>
    /// <exception cref="ChatHistoryException">The file cannot use WAL journaling (it is not on a local disk, for one).</exception>
    public static HistorySession Open(string connectionString, int busyTimeoutMilliseconds) =>
        new(OpenConnection(
            connectionString,
            busyTimeoutMilliseconds,
            Settings,
            static (database, mode) => new ChatHistoryException(
                $"The history file '{database}' cannot use WAL journaling (the journal mode is '{mode}'); it must be a file on a local disk.")));

    /// <inheritdoc/>
    public static bool IsOwnException(Exception exception) => exception is ChatHistoryException;

    /// <inheritdoc/>
    public static Exception Failed(string database, string operation, Exception exception) =>
        HistoryErrors.Failed(database, operation, exception);

    // ---- Meta -------------------------------------------------------------------------------------------------

    public string? SelectMeta(string key)
    {
        SqliteCommand command = Command(Statement.SelectMeta);
        command.Parameters[0].Value = key;
        return command.ExecuteScalar() as string;
    }

    public void UpsertMeta(string key, string value)
    {
        SqliteCommand command = Command(Statement.UpsertMeta);
        command.Parameters[0].Value = key;
        command.Parameters[1].Value = value;
        command.ExecuteNonQuery();
    }

    // ---- Writes -----------------------------------------------------------------------------------------------

    /// <summary>Inserts an entry (already normalised by <see cref="ChatHistory"/>); <see langword="false"/> if its id is already recorded.</summary>
    public bool InsertMessage(HistoryEntry entry)
    {
        SqliteCommand command = Command(Statement.InsertMessage);
        SqliteParameterCollection parameters = command.Parameters;
        parameters[0].Value = entry.Id.ToByteArray();
        parameters[1].Value = (int)entry.Direction;
        parameters[2].Value = entry.Peer;
        parameters[3].Value = (object?)entry.Group ?? DBNull.Value;
        parameters[4].Value = entry.SentAt.Ticks;
        parameters[5].Value = entry.RecordedAt.Ticks;
        parameters[6].Value = (int)entry.Kind;
        parameters[7].Value = (object?)entry.Text ?? DBNull.Value;
        parameters[8].Value = (object?)entry.FilePath ?? DBNull.Value;
        parameters[9].Value = (object?)entry.FileName ?? DBNull.Value;
        parameters[10].Value = entry.FileSize is long size ? size : DBNull.Value;
        parameters[11].Value = (int)entry.State;
        return command.ExecuteNonQuery() == 1;
    }

    public bool UpdateSent(MessageId id)
    {
        SqliteCommand command = Command(Statement.UpdateSent);
        command.Parameters[0].Value = id.ToByteArray();
        return command.ExecuteNonQuery() == 1;
    }

    public bool UpdateFailed(MessageId id, string reason)
    {
        SqliteCommand command = Command(Statement.UpdateFailed);
        command.Parameters[0].Value = id.ToByteArray();
        command.Parameters[1].Value = reason;
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Records a recipient's acknowledgement of a sent message; <see langword="false"/> if the message is unknown, the recipient cannot have received it, or it was already recorded.</summary>
    public bool InsertDelivery(MessageId id, string recipient, string owner, DateTime deliveredAt)
    {
        long sequence;
        SqliteCommand target = Command(Statement.SelectSentTarget);
        target.Parameters[0].Value = id.ToByteArray();
        using (SqliteDataReader reader = target.ExecuteReader())
        {
            if (!reader.Read())
            {
                return false;
            }

            sequence = reader.GetInt64(0);
            bool isGroup = !reader.IsDBNull(2);

            // A direct message has one recipient; a group message goes to everyone in the group but its sender.
            bool plausible = isGroup
                ? !string.Equals(recipient, owner, StringComparison.Ordinal)
                : string.Equals(recipient, reader.GetString(1), StringComparison.Ordinal);
            if (!plausible)
            {
                return false;
            }
        }

        SqliteCommand insert = Command(Statement.InsertDelivery);
        insert.Parameters[0].Value = sequence;
        insert.Parameters[1].Value = recipient;
        insert.Parameters[2].Value = deliveredAt.Ticks;
        if (insert.ExecuteNonQuery() != 1)
        {
            return false;
        }

        SqliteCommand update = Command(Statement.UpdateDelivered);
        update.Parameters[0].Value = sequence;
        update.ExecuteNonQuery();
        return true;
    }

    public void MarkRead(bool isGroup, string name)
    {
        SqliteCommand command = Command(isGroup ? Statement.MarkGroupRead : Statement.MarkDirectRead);
        command.Parameters[0].Value = name;
        command.ExecuteNonQuery();
    }

    // ---- Reads ------------------------------------------------------------------------------------------------

    public bool HasReceived(string sender, MessageId id)
    {
        SqliteCommand command = Command(Statement.HasReceived);
        command.Parameters[0].Value = sender;
        command.Parameters[1].Value = id.ToByteArray();
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) != 0;
    }

    public HistoryEntry? SelectSent(MessageId id)
    {
        SqliteCommand command = Command(Statement.SelectSent);
        command.Parameters[0].Value = id.ToByteArray();
        using SqliteDataReader reader = command.ExecuteReader();
        return reader.Read() ? ReadEntry(reader, 0) : null;
    }

    public List<HistoryEntry> SelectDirect(string peer, int limit) => SelectNewest(Statement.SelectDirect, peer, limit);

    public List<HistoryEntry> SelectGroup(string group, int limit) => SelectNewest(Statement.SelectGroup, group, limit);

    public List<HistoryEntry> SelectRecent(int limit) => SelectNewest(Statement.SelectRecent, null, limit);

    public List<HistoryEntry> SelectPending()
    {
        using SqliteDataReader reader = Command(Statement.SelectPending).ExecuteReader();
        var entries = new List<HistoryEntry>();
        while (reader.Read())
        {
            entries.Add(ReadEntry(reader, 0));
        }

        return entries;
    }

    public List<HistoryDelivery> SelectDeliveries(MessageId id)
    {
        SqliteCommand command = Command(Statement.SelectDeliveries);
        command.Parameters[0].Value = id.ToByteArray();
        using SqliteDataReader reader = command.ExecuteReader();
        var deliveries = new List<HistoryDelivery>();
        while (reader.Read())
        {
            deliveries.Add(new HistoryDelivery(reader.GetString(0), ReadTime(reader, 1)));
        }

        return deliveries;
    }

    public List<HistoryConversation> SelectConversations()
    {
        using SqliteDataReader reader = Command(Statement.SelectConversations).ExecuteReader();
        var conversations = new List<HistoryConversation>();
        while (reader.Read())
        {
            conversations.Add(new HistoryConversation(
                reader.GetString(1),
                reader.GetInt64(0) != 0,
                ReadEntry(reader, 4),
                reader.GetInt32(2),
                reader.GetInt32(3)));
        }

        return conversations;
    }

    private static string? ReadNullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private List<HistoryEntry> SelectNewest(Statement statement, string? key, int limit)
    {
        SqliteCommand command = Command(statement);
        int parameter = 0;
        if (key is not null)
        {
            command.Parameters[parameter++].Value = key;
        }

        command.Parameters[parameter].Value = limit;
        using SqliteDataReader reader = command.ExecuteReader();

        // Sized for a screenful, not for the limit, which may be int.MaxValue.
        var entries = new List<HistoryEntry>(Math.Min(limit, 64));
        while (reader.Read())
        {
            entries.Add(ReadEntry(reader, 0));
        }

        // The query takes the newest N (newest first, so LIMIT keeps the right ones); conversations read oldest first.
        entries.Reverse();
        return entries;
    }

    private HistoryEntry ReadEntry(SqliteDataReader reader, int offset) => new()
    {
        Id = ReadId(reader, offset),
        Direction = (HistoryDirection)reader.GetInt32(offset + 1),
        Peer = reader.GetString(offset + 2),
        Group = ReadNullableString(reader, offset + 3),
        SentAt = ReadTime(reader, offset + 4),
        RecordedAt = ReadTime(reader, offset + 5),
        Kind = (HistoryKind)reader.GetInt32(offset + 6),
        Text = ReadNullableString(reader, offset + 7),
        FilePath = ReadNullableString(reader, offset + 8),
        FileName = ReadNullableString(reader, offset + 9),
        FileSize = reader.IsDBNull(offset + 10) ? null : reader.GetInt64(offset + 10),
        State = (DeliveryState)reader.GetInt32(offset + 11),
        Error = ReadNullableString(reader, offset + 12),
        DeliveredCount = reader.GetInt32(offset + 13),
    };

    private MessageId ReadId(SqliteDataReader reader, int ordinal) =>
        TryReadId(reader, ordinal, out MessageId id)
            ? id
            : throw new ChatHistoryException($"The history file '{DataSource}' holds a message id that is not {MessageId.Size} bytes; the file is damaged.");

    private SqliteCommand Command(Statement statement) => Prepared((int)statement);

    /// <inheritdoc/>
    protected override (string Sql, string[] Parameters) Define(int statement) => (Statement)statement switch
    {
        Statement.SelectMeta => ("SELECT value FROM meta WHERE key = $key", ["$key"]),
        Statement.UpsertMeta => (
            "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            ["$key", "$value"]),
        Statement.InsertMessage => (
            "INSERT INTO messages (id, direction, peer, group_name, sent_at, recorded_at, kind, text, file_path, file_name, file_size, state) "
            + "VALUES ($id, $direction, $peer, $group, $sent, $recorded, $kind, $text, $path, $name, $size, $state) "
            + "ON CONFLICT DO NOTHING",
            ["$id", "$direction", "$peer", "$group", "$sent", "$recorded", "$kind", "$text", "$path", "$name", "$size", "$state"]),

        // Pending or Failed -> Sent; a message already Sent or Delivered stays where it is.
        Statement.UpdateSent => (
            "UPDATE messages SET state = 1, error = NULL WHERE direction = 0 AND id = $id AND state IN (0, 4)",
            ["$id"]),

        // Pending -> Failed (or a new reason for a failed one); the server's acknowledgement is final.
        Statement.UpdateFailed => (
            "UPDATE messages SET state = 4, error = $error WHERE direction = 0 AND id = $id AND state IN (0, 4)",
            ["$id", "$error"]),
        Statement.SelectSentTarget => ("SELECT seq, peer, group_name FROM messages WHERE direction = 0 AND id = $id", ["$id"]),
        Statement.InsertDelivery => (
            "INSERT INTO deliveries (message, recipient, delivered_at) VALUES ($message, $recipient, $at) "
            + "ON CONFLICT (message, recipient) DO NOTHING",
            ["$message", "$recipient", "$at"]),
        Statement.UpdateDelivered => (
            "UPDATE messages SET state = 2, error = NULL, delivered_count = delivered_count + 1 WHERE seq = $seq",
            ["$seq"]),
        Statement.HasReceived => (
            "SELECT EXISTS (SELECT 1 FROM messages WHERE direction = 1 AND peer = $peer AND id = $id)",
            ["$peer", "$id"]),
        Statement.SelectSent => (
            "SELECT " + EntryColumns + " FROM messages AS m WHERE m.direction = 0 AND m.id = $id",
            ["$id"]),
        Statement.SelectDirect => (
            "SELECT " + EntryColumns + " FROM messages AS m WHERE m.group_name IS NULL AND m.peer = $peer ORDER BY m.seq DESC LIMIT $limit",
            ["$peer", "$limit"]),
        Statement.SelectGroup => (
            "SELECT " + EntryColumns + " FROM messages AS m WHERE m.group_name = $group ORDER BY m.seq DESC LIMIT $limit",
            ["$group", "$limit"]),
        Statement.SelectRecent => (
            "SELECT " + EntryColumns + " FROM messages AS m ORDER BY m.seq DESC LIMIT $limit",
            ["$limit"]),
        Statement.SelectPending => (
            "SELECT " + EntryColumns + " FROM messages AS m WHERE m.direction = 0 AND m.state = 0 ORDER BY m.seq",
            []),
        Statement.SelectDeliveries => (
            "SELECT d.recipient, d.delivered_at FROM deliveries AS d JOIN messages AS m ON m.seq = d.message "
            + "WHERE m.direction = 0 AND m.id = $id ORDER BY d.delivered_at, d.recipient",
            ["$id"]),

        // One pass over the messages, grouped by conversation (a direct peer or a group), then the newest entry of
        // each. A personal history is small enough that this beats keeping a summary table in step on every write.
        Statement.SelectConversations => (
            "WITH c AS ("
            + "SELECT m.group_name IS NOT NULL AS is_group, COALESCE(m.group_name, m.peer) AS name, MAX(m.seq) AS last_seq, "
            + "COUNT(*) AS total, SUM(m.direction = 1 AND m.seq > COALESCE(r.last_read, 0)) AS unread "
            + "FROM messages AS m LEFT JOIN read_markers AS r "
            + "ON r.is_group = (m.group_name IS NOT NULL) AND r.name = COALESCE(m.group_name, m.peer) "
            + "GROUP BY m.group_name IS NOT NULL, COALESCE(m.group_name, m.peer)) "
            + "SELECT c.is_group, c.name, c.total, c.unread, " + EntryColumns + " "
            + "FROM c JOIN messages AS m ON m.seq = c.last_seq ORDER BY c.last_seq DESC",
            []),

        // Move the marker to the conversation's newest entry (0 for a conversation with none yet).
        Statement.MarkDirectRead => (
            "INSERT INTO read_markers (is_group, name, last_read) "
            + "SELECT 0, $name, COALESCE(MAX(seq), 0) FROM messages WHERE group_name IS NULL AND peer = $name "
            + "ON CONFLICT (is_group, name) DO UPDATE SET last_read = excluded.last_read",
            ["$name"]),
        Statement.MarkGroupRead => (
            "INSERT INTO read_markers (is_group, name, last_read) "
            + "SELECT 1, $name, COALESCE(MAX(seq), 0) FROM messages WHERE group_name = $name "
            + "ON CONFLICT (is_group, name) DO UPDATE SET last_read = excluded.last_read",
            ["$name"]),
        _ => throw new ArgumentOutOfRangeException(nameof(statement)),
    };
}
