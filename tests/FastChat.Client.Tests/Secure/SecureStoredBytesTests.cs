using System.Security.Cryptography;
using System.Text;
using FastChat.Client.Secure;
using FastChat.Client.Tests.TestSupport;
using FastChat.Hosts.Balancer;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Storage;
using FastChat.Protocol.Messages;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FastChat.Client.Tests.Secure;

/// <summary>
/// Issue 4 §1: what the servers store for an offline recipient — pending messages, group key envelopes, the accounts'
/// wrapped keys — holds no plaintext and no private or group key, read back raw from SQLite and from PostgreSQL.
/// </summary>
public sealed class SecureStoredBytesTests : IDisposable
{
    private static readonly TimeSpan Timeout = EventLog.DefaultTimeout;
    private static readonly string? s_postgres = Environment.GetEnvironmentVariable("FASTCHAT_TEST_POSTGRES");

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Guards the end-to-end promise on SQLite: the server's database never holds a message, a file, a private key or a group key in the clear.</summary>
    [Fact]
    public async Task StoredRows_Sqlite_HoldNoPlaintextAndNoKeys()
    {
        string data = Path.Combine(_folder.Path, "server");
        SqliteChatStore store = SqliteChatStore.ForDataDirectory(data);
        await using StoreCluster cluster = await StoreCluster.StartAsync(store);

        await using Secrets secrets = await ExchangeWithOfflineRecipientAsync(cluster);

        string connection = new SqliteConnectionStringBuilder { DataSource = store.DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        StoredRows rows = await ReadRowsAsync(
            () => new SqliteConnection(connection),
            "SELECT payload FROM pending WHERE recipient = $1",
            "SELECT * FROM accounts",
            "SELECT envelope FROM group_key_envelopes",
            secrets.Recipient,
            static (command, name, value) => ((SqliteCommand)command).Parameters.AddWithValue(name, value));
        secrets.AssertAbsentFrom(rows);

        // The database files as a whole (main file and write-ahead log), not only the rows read back.
        foreach (string file in Directory.GetFiles(data))
        {
            secrets.AssertAbsentFrom(file, await File.ReadAllBytesAsync(file));
        }

        await secrets.AssertRecipientReadsEverythingAsync();
    }

    /// <summary>Guards the same promise on PostgreSQL (run when FASTCHAT_TEST_POSTGRES names a server).</summary>
    [SkippableFact]
    public async Task StoredRows_Postgres_HoldNoPlaintextAndNoKeys()
    {
        Skip.If(string.IsNullOrWhiteSpace(s_postgres), "PostgreSQL not available: set FASTCHAT_TEST_POSTGRES");
        string database = "fastchat_test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(s_postgres!, $"CREATE DATABASE {database}");
        try
        {
            string connection = new NpgsqlConnectionStringBuilder(s_postgres) { Database = database, MaxPoolSize = 8 }.ConnectionString;
            await using (StoreCluster cluster = await StoreCluster.StartAsync(new PostgresChatStore(connection)))
            {
                await using Secrets secrets = await ExchangeWithOfflineRecipientAsync(cluster);
                string unpooled = new NpgsqlConnectionStringBuilder(connection) { Pooling = false }.ConnectionString;
                StoredRows rows = await ReadRowsAsync(
                    () => new NpgsqlConnection(unpooled),
                    "SELECT payload FROM pending WHERE recipient = $1",
                    "SELECT * FROM accounts",
                    "SELECT envelope FROM group_key_envelopes",
                    secrets.Recipient,
                    static (command, _, value) => ((NpgsqlCommand)command).Parameters.Add(new NpgsqlParameter { Value = value }));
                secrets.AssertAbsentFrom(rows);
                await secrets.AssertRecipientReadsEverythingAsync();
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(s_postgres!, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Alice sends bob, who is offline, a direct message, a group message and a file.</summary>
    private async Task<Secrets> ExchangeWithOfflineRecipientAsync(StoreCluster cluster)
    {
        SecureUser alice = await SecureUser.SignUpAsync(cluster.ClientOptions, _folder.Path, "alice");
        SecureUser bob = await SecureUser.SignUpAsync(cluster.ClientOptions, _folder.Path, "bob");
        string group = TestCluster.NewName("team");
        await alice.Client.CreateGroupAsync(group).WaitAsync(Timeout);
        await alice.Client.AddMemberAsync(group, bob.Name).WaitAsync(Timeout);
        byte[] alicePrivate = SecretBytes.PrivateScalars(alice.Client.IdentityKeys!, alice.Name);
        byte[] bobPrivate = SecretBytes.PrivateScalars(bob.Client.IdentityKeys!, bob.Name);
        byte[] groupKey = alice.Client.GetGroupKeyRing(group)!.Latest!.Key.ToArray();
        await bob.GoOfflineAsync();

        string directText = "direct secret " + Guid.NewGuid().ToString("N");
        string groupText = "group secret " + Guid.NewGuid().ToString("N");
        byte[] content = RandomNumberGenerator.GetBytes(300_000);
        string path = Path.Combine(alice.Folder, "secret.bin");
        await File.WriteAllBytesAsync(path, content);
        MessageId direct = await alice.Client.SendTextAsync(bob.Name, directText).WaitAsync(Timeout);
        MessageId grouped = await alice.Client.SendGroupTextAsync(group, groupText).WaitAsync(Timeout);
        MessageId file = await alice.Client.SendFileAsync(bob.Name, path).WaitAsync(Timeout);

        return new Secrets(alice, bob, direct, directText, grouped, groupText, file, content, alicePrivate, bobPrivate, groupKey);
    }

    private static async Task<StoredRows> ReadRowsAsync(
        Func<System.Data.Common.DbConnection> open,
        string pendingSql,
        string accountsSql,
        string envelopesSql,
        string recipient,
        Action<System.Data.Common.DbCommand, string, object> addParameter)
    {
        await using System.Data.Common.DbConnection connection = open();
        await connection.OpenAsync();
        var pending = new List<byte[]>();
        await using (System.Data.Common.DbCommand command = connection.CreateCommand())
        {
            command.CommandText = pendingSql;
            addParameter(command, "$1", recipient);
            await using System.Data.Common.DbDataReader reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                pending.Add((byte[])reader.GetValue(0));
            }
        }

        return new StoredRows(pending, await ReadAllAsync(connection, accountsSql), await ReadAllAsync(connection, envelopesSql));
    }

    // Every column of every row, as bytes: blobs as they are, everything else as UTF-8 text.
    private static async Task<List<byte[]>> ReadAllAsync(System.Data.Common.DbConnection connection, string sql)
    {
        var values = new List<byte[]>();
        await using System.Data.Common.DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        await using System.Data.Common.DbDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            for (int i = 0; i < reader.FieldCount; i++)
            {
                object value = reader.GetValue(i);
                values.Add(value is byte[] bytes ? bytes : Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty));
            }
        }

        return values;
    }

    private sealed record StoredRows(List<byte[]> Pending, List<byte[]> Accounts, List<byte[]> Envelopes);

    private sealed record Secrets(
        SecureUser Alice,
        SecureUser Bob,
        MessageId Direct,
        string DirectText,
        MessageId Group,
        string GroupText,
        MessageId File,
        byte[] FileContent,
        byte[] AlicePrivate,
        byte[] BobPrivate,
        byte[] GroupKey) : IAsyncDisposable
    {
        public string Recipient => Bob.Name;

        public void AssertAbsentFrom(StoredRows rows)
        {
            // What was read is what the test means to read: bob's queue holds the three items (the file as an offer,
            // its chunks and its completion), the accounts hold both users, and the envelopes the group key.
            Assert.True(rows.Pending.Count >= 3, $"expected bob's three pending items, found {rows.Pending.Count} rows");
            Assert.True(rows.Pending.Sum(p => (long)p.Length) > FileContent.Length, "the file's ciphertext is in bob's queue");
            Assert.Contains(rows.Accounts, v => v.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(Alice.Name)));
            Assert.Contains(rows.Accounts, v => v.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(Bob.Name)));
            Assert.True(rows.Envelopes.Count >= 2, $"expected the group key's envelopes for alice and bob, found {rows.Envelopes.Count}");

            foreach ((string what, List<byte[]> values) in new[] { ("pending", rows.Pending), ("accounts", rows.Accounts), ("group_key_envelopes", rows.Envelopes) })
            {
                foreach (byte[] value in values)
                {
                    AssertAbsentFrom(what, value);
                }
            }
        }

        public void AssertAbsentFrom(string where, byte[] stored)
        {
            foreach ((string what, byte[] secret) in Needles())
            {
                Assert.False(SecretBytes.Contains(stored, secret), $"{what} appears in {where}");
            }
        }

        public async Task AssertRecipientReadsEverythingAsync()
        {
            await Bob.SignInAgainAsync();
            Assert.Equal(DirectText, (await Bob.Events.WaitForAsync<TextReceived>(e => e.Id == Direct)).Text);
            Assert.Equal(GroupText, (await Bob.Events.WaitForAsync<TextReceived>(e => e.Id == Group)).Text);
            FileSaved saved = await Bob.Events.WaitForAsync<FileSaved>(e => e.Id == File);
            Assert.Equal(FileContent, await System.IO.File.ReadAllBytesAsync(saved.Path));
        }

        public async ValueTask DisposeAsync()
        {
            await Bob.DisposeAsync();
            await Alice.DisposeAsync();
        }

        private IEnumerable<(string What, byte[] Secret)> Needles()
        {
            yield return ("the direct message's text", Encoding.UTF8.GetBytes(DirectText));
            yield return ("the group message's text", Encoding.UTF8.GetBytes(GroupText));
            yield return ("alice's password", Encoding.UTF8.GetBytes(Alice.Password));
            yield return ("bob's password", Encoding.UTF8.GetBytes(Bob.Password));
            yield return ("alice's agreement private key", AlicePrivate[..32]);
            yield return ("alice's signing private key", AlicePrivate[32..]);
            yield return ("bob's agreement private key", BobPrivate[..32]);
            yield return ("bob's signing private key", BobPrivate[32..]);
            yield return ("the group key", GroupKey);

            // Any 32 plaintext bytes of the file, taken every 4 KiB (a chunk in the clear would contain 16 of them).
            for (int offset = 0; offset + 32 <= FileContent.Length; offset += 4096)
            {
                yield return ($"the file's bytes at {offset}", FileContent[offset..(offset + 32)]);
            }
        }
    }

    /// <summary>A balancer and one chat server over a given store, on loopback ports the system picks.</summary>
    private sealed class StoreCluster : IAsyncDisposable
    {
        private readonly IChatStore _store;
        private readonly ChatBalancer _balancer;
        private readonly ChatServer _server;

        private StoreCluster(IChatStore store, ChatBalancer balancer, ChatServer server)
        {
            _store = store;
            _balancer = balancer;
            _server = server;
        }

        public static async Task<StoreCluster> StartAsync(IChatStore store)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await store.InitializeAsync(timeout.Token);
            ClusterKey key = ClusterKey.Generate();
            var balancer = new ChatBalancer(new BalancerOptions { Host = "127.0.0.1", Port = 0, Strategy = "round-robin", ServerTimeout = TimeSpan.FromSeconds(10) }, store, key);
            await balancer.StartAsync(timeout.Token);
            var server = new ChatServer(
                new ChatServerOptions
                {
                    Id = "s1",
                    Host = "127.0.0.1",
                    Port = 0,
                    Balancer = $"127.0.0.1:{balancer.EndPoint.Port}",
                    LoadReportInterval = TimeSpan.FromMilliseconds(100),
                    ShutdownTimeout = TimeSpan.FromSeconds(2),
                },
                store,
                key);
            await server.StartAsync(timeout.Token);
            while (!balancer.GetServers().Any(s => s.Live))
            {
                await Task.Delay(20, timeout.Token);
            }

            return new StoreCluster(store, balancer, server);
        }

        public ChatClientOptions ClientOptions() => new()
        {
            BalancerHost = "127.0.0.1",
            BalancerPort = _balancer.EndPoint.Port,
            KdfIterations = 100_000,
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        };

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await _server.StopAsync(timeout.Token);
            await _server.DisposeAsync();
            await _balancer.StopAsync(timeout.Token);
            await _balancer.DisposeAsync();
            await _store.DisposeAsync();
        }
    }
}
