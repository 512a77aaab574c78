using System.Globalization;

namespace FastChat.Client.History.Internal;

/// <summary>The history file's schema as an ordered list of migrations, applied by <see cref="Migrate"/>.</summary>
/// <remarks>
/// Migration <c>n</c> (1-based) takes a file at version <c>n - 1</c> to version <c>n</c>, and <c>schema_version</c> records
/// each one applied. Append new migrations; never edit one that has shipped, since files in users' homes were made by it.
/// </remarks>
internal static class HistorySchema
{
    private static readonly string[] s_migrations =
    [
        // 1: the initial schema. Times are UTC ticks; enums are stored as their numeric values.
        """
        CREATE TABLE meta (
            key TEXT NOT NULL PRIMARY KEY,
            value TEXT NOT NULL) WITHOUT ROWID;

        -- seq is the order entries were recorded in, which is the order conversations show them in: senders' clocks
        -- disagree, so ordering by sent_at could show a reply above the message it answers. AUTOINCREMENT keeps seq from
        -- ever being reused, because read markers compare against it.
        CREATE TABLE messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id BLOB NOT NULL,
            direction INTEGER NOT NULL,
            peer TEXT NOT NULL,
            group_name TEXT,
            sent_at INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            text TEXT,
            file_path TEXT,
            file_name TEXT,
            file_size INTEGER,
            state INTEGER NOT NULL,
            error TEXT,
            delivered_count INTEGER NOT NULL DEFAULT 0);

        -- A sent id is ours, so it is unique on its own; a received id is chosen by its sender, so it is unique per sender.
        -- The second index is the durable duplicate and replay check.
        CREATE UNIQUE INDEX messages_sent_id ON messages (id) WHERE direction = 0;
        CREATE UNIQUE INDEX messages_received_id ON messages (peer, id) WHERE direction = 1;
        CREATE INDEX messages_direct ON messages (peer, seq) WHERE group_name IS NULL;
        CREATE INDEX messages_group ON messages (group_name, seq) WHERE group_name IS NOT NULL;
        CREATE INDEX messages_pending ON messages (seq) WHERE direction = 0 AND state = 0;

        -- One row per recipient that acknowledged a sent message: a group message is delivered member by member, and a
        -- member's repeated acknowledgement must not count twice.
        CREATE TABLE deliveries (
            message INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
            recipient TEXT NOT NULL,
            delivered_at INTEGER NOT NULL,
            PRIMARY KEY (message, recipient)) WITHOUT ROWID;

        -- The newest seq the user has seen in each conversation; received entries after it are unread.
        CREATE TABLE read_markers (
            is_group INTEGER NOT NULL,
            name TEXT NOT NULL,
            last_read INTEGER NOT NULL,
            PRIMARY KEY (is_group, name)) WITHOUT ROWID;
        """,
    ];

    /// <summary>The schema version this code creates and understands.</summary>
    public static int CurrentVersion => s_migrations.Length;

    /// <summary>
    /// Brings the file to <see cref="CurrentVersion"/> and checks (or, on a new file, records) its owner. Runs inside the
    /// writer's transaction, so two processes opening the same new file migrate it once.
    /// </summary>
    /// <exception cref="ChatHistoryException">The file has a newer schema than this code knows, or belongs to another user.</exception>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">The database failed.</exception>
    public static bool Migrate(HistorySession session, string owner)
    {
        session.ExecuteScript("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL);");
        long version = session.ExecuteInt64("SELECT MAX(version) FROM schema_version;");
        if (version > CurrentVersion)
        {
            throw new ChatHistoryException(
                $"The history file '{session.DataSource}' has schema version {version}, newer than this FastChat knows ({CurrentVersion}); use a newer FastChat to read it.");
        }

        for (long next = version + 1; next <= CurrentVersion; next++)
        {
            session.ExecuteScript(s_migrations[next - 1]);
            session.ExecuteScript(string.Create(
                CultureInfo.InvariantCulture,
                $"INSERT INTO schema_version (version, applied_at) VALUES ({next}, {DateTime.UtcNow.Ticks});"));
        }

        string? recorded = session.SelectMeta("owner");
        if (recorded is null)
        {
            session.UpsertMeta("owner", owner);
            return true;
        }

        if (!string.Equals(recorded, owner, StringComparison.Ordinal))
        {
            // Opening another user's history would mix their messages (and their duplicate checks) into this user's.
            throw new ChatHistoryException($"The history file '{session.DataSource}' belongs to '{recorded}', not to '{owner}'.");
        }

        return false;
    }
}
