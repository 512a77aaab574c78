using System.Buffers;
using System.Buffers.Binary;
using FastChat.Hosts.Security;
using FastChat.Hosts.Server;
using FastChat.Hosts.Server.Internal;
using FastChat.Hosts.Storage;
using FastChat.Hosts.Tests.TestSupport;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastChat.Hosts.Tests.Server;

/// <summary>
/// Acknowledged stored items are deleted in batches: the <see cref="PendingDeletes"/> queue on its own, and a whole
/// server draining a long backlog.
/// </summary>
public sealed class PendingDeletesTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = ServerHarness.Timeout;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fastchat-tests", Guid.NewGuid().ToString("n"));
    private RecordingChatStore _store = null!;

    public async Task InitializeAsync()
    {
        SqliteChatStore inner = SqliteChatStore.ForDataDirectory(_directory);
        _store = new RecordingChatStore(inner);
        await _store.InitializeAsync().WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        _store.Release();
        await _store.DisposeAsync().AsTask().WaitAsync(Timeout);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a background thread: the temp folder is cleaned up by the system.
        }
    }

    /// <summary>
    /// Guards the coalescing and the bound: while one delete is in flight, later ids wait for the next batch (never a
    /// second delete at once), and once a full batch waits the producer is held until that batch is on its way.
    /// </summary>
    [Fact]
    public async Task AddAsync_WhileADeleteRuns_QueuesOneBoundedBatchAndHoldsTheProducerWhenFull()
    {
        MessageId[] ids = await EnqueueAsync("bob", PendingDeletes.MaxBatchSize + 1);
        _store.Hold();
        var deletes = new PendingDeletes(_store, "bob", NullLogger.Instance, CancellationToken.None);

        Assert.True(deletes.AddAsync(ids[0]).AsTask().IsCompletedSuccessfully);
        await _store.FirstHeldBatch.WaitAsync(Timeout);
        for (int i = 1; i < PendingDeletes.MaxBatchSize; i++)
        {
            Assert.True(deletes.AddAsync(ids[i]).AsTask().IsCompletedSuccessfully);
        }

        Task full = deletes.AddAsync(ids[PendingDeletes.MaxBatchSize]).AsTask();
        Assert.False(full.IsCompleted);
        Assert.Equal(1, _store.BatchCalls);

        _store.Release();
        await full.WaitAsync(Timeout);
        await _store.WhenDeletedAsync(ids.Length).WaitAsync(Timeout);

        Assert.Equal([1, PendingDeletes.MaxBatchSize], _store.BatchSizes);
        Assert.Equal(1, _store.MostBatchesAtOnce);
        Assert.Equal(0, await _store.CountPendingAsync("bob").WaitAsync(Timeout));
    }

    /// <summary>Guards that a failed batch does not stop the queue: its items stay pending (delivered again later) and later acks are still deleted.</summary>
    [Fact]
    public async Task AddAsync_AfterABatchFailed_DeletesLaterIds()
    {
        MessageId[] ids = await EnqueueAsync("bob", 2);
        _store.FailNextBatch();
        var deletes = new PendingDeletes(_store, "bob", NullLogger.Instance, CancellationToken.None);

        await deletes.AddAsync(ids[0]).AsTask().WaitAsync(Timeout);
        await _store.WhenBatchesAsync(1).WaitAsync(Timeout);
        await deletes.AddAsync(ids[1]).AsTask().WaitAsync(Timeout);
        await _store.WhenDeletedAsync(1).WaitAsync(Timeout);

        IReadOnlyList<PendingItem> left = await _store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout);
        Assert.Equal(ids[0], Assert.Single(left).Id);
    }

    /// <summary>
    /// Guards the drain of a long backlog end to end: a user with 2,000 offline messages signs in and acks them all;
    /// afterwards nothing is pending for them, and the server deleted them in batches (one delete at a time), not
    /// one store call per ack.
    /// </summary>
    [Fact]
    public async Task Drain_TwoThousandOfflineMessagesAcked_AreAllDeletedInFewBatches()
    {
        const int Messages = 2000;
        ClusterKey key = ClusterKey.Generate();
        var server = new ChatServer(
            new ChatServerOptions
            {
                Id = "server-1",
                Host = "127.0.0.1",
                Port = 0,

                // Nothing listens there: the balancer link keeps retrying quietly in the background.
                Balancer = "127.0.0.1:1",
                DeliveryTimeout = TimeSpan.FromSeconds(10),
                ShutdownTimeout = TimeSpan.FromSeconds(2),
            },
            _store,
            key);
        await using (server)
        {
            await server.StartAsync(CancellationToken.None).WaitAsync(Timeout);
            MessageId[] ids = await EnqueueAsync("bob", Messages, DirectMessagePayload);

            RawClient bob = await RawClient.ConnectAndGreetAsync(server.EndPoint);
            await using (bob)
            {
                byte[] token = SessionTokens.Issue(key, "bob", server.Id, DateTime.UtcNow + TimeSpan.FromHours(1));
                await bob.SendAsync(new Resume { SessionToken = new(token) });
                Assert.Equal(Messages, (await bob.ReadAsync<Resumed>()).PendingCount);

                // The client acks as it reads, flushing its acks once per 50 messages read.
                var acks = new ArrayBufferWriter<byte>();
                for (int i = 0; i < Messages; i++)
                {
                    DirectMessage received = await bob.ReadAsync<DirectMessage>();
                    Assert.Equal(ids[i], received.Id);
                    WriteFrame(acks, new Ack { Id = received.Id });
                    if (i % 50 == 49)
                    {
                        await bob.SendRawAsync(acks.WrittenMemory);
                        acks.Clear();
                    }
                }

                await _store.WhenDeletedAsync(Messages).WaitAsync(Timeout);
            }

            Assert.Equal(0, await _store.CountPendingAsync("bob").WaitAsync(Timeout));
            Assert.Empty(await _store.GetPendingAsync("bob", 0, 10).WaitAsync(Timeout));
            Assert.Equal(0, _store.SingleCalls);
            Assert.Equal(1, _store.MostBatchesAtOnce);
            Assert.All(_store.BatchSizes, size => Assert.InRange(size, 1, PendingDeletes.MaxBatchSize));

            // One batch per ack would be 2,000; 50 acks arrive per read, so even an idle store sees far fewer.
            Assert.InRange(_store.BatchCalls, 1, Messages / 4);
        }
    }

    private static byte[] DirectMessagePayload(MessageId id)
    {
        var message = new DirectMessage
        {
            Id = id,
            Sender = "alice",
            Recipient = "bob",
            SentAt = DateTime.UtcNow,
            Body = new(new byte[48]),
        };
        var body = new ArrayBufferWriter<byte>(128);
        MessageSerializer.WritePayload(body, 0, in message);
        return body.WrittenSpan.ToArray();
    }

    private static void WriteFrame<T>(ArrayBufferWriter<byte> output, T message)
        where T : struct, IMessage<T>
    {
        var body = new ArrayBufferWriter<byte>(64);
        MessageSerializer.WritePayload(body, 0, in message);
        BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(4), (uint)body.WrittenCount);
        output.Advance(4);
        output.Write(body.WrittenSpan);
    }

    private async Task<MessageId[]> EnqueueAsync(string recipient, int count, Func<MessageId, byte[]>? payload = null)
    {
        var ids = new MessageId[count];
        var items = new PendingItem[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = MessageId.NewId();
            items[i] = new PendingItem(0, recipient, ids[i], PendingKind.Message, 0, payload?.Invoke(ids[i]) ?? new byte[16], DateTime.UtcNow);
        }

        Assert.Equal(count, await _store.EnqueueBatchAsync(items).WaitAsync(Timeout));
        return ids;
    }

    /// <summary>
    /// A store that records the deletes going through it and can hold batch deletes at a gate (or fail the next one);
    /// everything else goes straight to the inner store.
    /// </summary>
    private sealed class RecordingChatStore : IChatStore
    {
        private readonly IChatStore _inner;
        private readonly Lock _lock = new();
        private readonly List<int> _batchSizes = [];
        private readonly List<(Func<bool> Condition, TaskCompletionSource Signal)> _waiters = [];
        private readonly TaskCompletionSource _firstHeldBatch = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _gate = NewOpenGate();
        private bool _failNext;
        private int _batchesAtOnce;
        private int _deleted;

        public RecordingChatStore(IChatStore inner)
        {
            _inner = inner;
        }

        public int SingleCalls { get; private set; }

        public int BatchCalls
        {
            get
            {
                lock (_lock)
                {
                    return _batchSizes.Count;
                }
            }
        }

        public int MostBatchesAtOnce { get; private set; }

        public int[] BatchSizes
        {
            get
            {
                lock (_lock)
                {
                    return [.. _batchSizes];
                }
            }
        }

        /// <summary>Completes when a batch delete reaches a closed gate.</summary>
        public Task FirstHeldBatch => _firstHeldBatch.Task;

        /// <summary>Batch deletes wait from now on until <see cref="Release"/>.</summary>
        public void Hold()
        {
            lock (_lock)
            {
                _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void Release()
        {
            lock (_lock)
            {
                _gate.TrySetResult();
            }
        }

        public void FailNextBatch()
        {
            lock (_lock)
            {
                _failNext = true;
            }
        }

        public Task WhenDeletedAsync(int count) => When(() => _deleted >= count);

        public Task WhenBatchesAsync(int count) => When(() => _batchSizes.Count >= count);

        public async Task<int> DeletePendingAsync(string recipient, IReadOnlyList<MessageId> ids, CancellationToken cancellationToken = default)
        {
            Task gate;
            bool fail;
            lock (_lock)
            {
                _batchSizes.Add(ids.Count);
                MostBatchesAtOnce = Math.Max(MostBatchesAtOnce, ++_batchesAtOnce);
                gate = _gate.Task;
                fail = _failNext;
                _failNext = false;
            }

            int deleted = 0;
            try
            {
                if (!gate.IsCompleted)
                {
                    _firstHeldBatch.TrySetResult();
                    await gate.WaitAsync(Timeout, cancellationToken);
                }

                if (fail)
                {
                    throw new ChatStoreException("The test store failed this batch on purpose.");
                }

                deleted = await _inner.DeletePendingAsync(recipient, ids, cancellationToken);
                return deleted;
            }
            finally
            {
                lock (_lock)
                {
                    _batchesAtOnce--;
                    _deleted += deleted;
                    SignalWaiters();
                }
            }
        }

        public Task<int> DeletePendingAsync(string recipient, MessageId id, CancellationToken cancellationToken = default)
        {
            lock (_lock)
            {
                SingleCalls++;
            }

            return _inner.DeletePendingAsync(recipient, id, cancellationToken);
        }

        public Task InitializeAsync(CancellationToken cancellationToken = default) => _inner.InitializeAsync(cancellationToken);

        public Task<bool> CreateAccountAsync(Account account, CancellationToken cancellationToken = default) => _inner.CreateAccountAsync(account, cancellationToken);

        public Task<Account?> GetAccountAsync(string userName, CancellationToken cancellationToken = default) => _inner.GetAccountAsync(userName, cancellationToken);

        public Task<bool> CreateGroupAsync(string group, string admin, int memberLimit, CancellationToken cancellationToken = default) =>
            _inner.CreateGroupAsync(group, admin, memberLimit, cancellationToken);

        public Task<GroupInfo?> GetGroupAsync(string group, CancellationToken cancellationToken = default) => _inner.GetGroupAsync(group, cancellationToken);

        public Task<IReadOnlyList<string>> GetGroupsOfMemberAsync(string userName, CancellationToken cancellationToken = default) =>
            _inner.GetGroupsOfMemberAsync(userName, cancellationToken);

        public Task<GroupChange> AddMemberAsync(string group, string member, CancellationToken cancellationToken = default) =>
            _inner.AddMemberAsync(group, member, cancellationToken);

        public Task<GroupChange> RemoveMemberAsync(string group, string member, CancellationToken cancellationToken = default) =>
            _inner.RemoveMemberAsync(group, member, cancellationToken);

        public Task PutGroupKeyEnvelopeAsync(GroupKeyEnvelopeRecord envelope, CancellationToken cancellationToken = default) =>
            _inner.PutGroupKeyEnvelopeAsync(envelope, cancellationToken);

        public Task<IReadOnlyList<GroupKeyEnvelopeRecord>> GetGroupKeyEnvelopesAsync(string member, CancellationToken cancellationToken = default) =>
            _inner.GetGroupKeyEnvelopesAsync(member, cancellationToken);

        public Task<bool> EnqueueAsync(PendingItem item, CancellationToken cancellationToken = default) => _inner.EnqueueAsync(item, cancellationToken);

        public Task<int> EnqueueBatchAsync(IReadOnlyList<PendingItem> items, CancellationToken cancellationToken = default) =>
            _inner.EnqueueBatchAsync(items, cancellationToken);

        public Task<IReadOnlyList<PendingItem>> GetPendingAsync(string recipient, long afterSequence, int limit, CancellationToken cancellationToken = default) =>
            _inner.GetPendingAsync(recipient, afterSequence, limit, cancellationToken);

        public Task<int> CountPendingAsync(string recipient, CancellationToken cancellationToken = default) => _inner.CountPendingAsync(recipient, cancellationToken);

        public Task SetPresenceAsync(string userName, string serverId, CancellationToken cancellationToken = default) =>
            _inner.SetPresenceAsync(userName, serverId, cancellationToken);

        public Task<bool> ClearPresenceAsync(string userName, string serverId, CancellationToken cancellationToken = default) =>
            _inner.ClearPresenceAsync(userName, serverId, cancellationToken);

        public Task<int> ClearServerPresenceAsync(string serverId, CancellationToken cancellationToken = default) =>
            _inner.ClearServerPresenceAsync(serverId, cancellationToken);

        public Task<string?> GetPresenceAsync(string userName, CancellationToken cancellationToken = default) => _inner.GetPresenceAsync(userName, cancellationToken);

        public Task UpsertServerAsync(ServerRecord server, CancellationToken cancellationToken = default) => _inner.UpsertServerAsync(server, cancellationToken);

        public Task<ServerRecord?> GetServerAsync(string serverId, CancellationToken cancellationToken = default) => _inner.GetServerAsync(serverId, cancellationToken);

        public ValueTask DisposeAsync() => _inner.DisposeAsync();

        private static TaskCompletionSource NewOpenGate()
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            gate.SetResult();
            return gate;
        }

        private Task When(Func<bool> condition)
        {
            lock (_lock)
            {
                if (condition())
                {
                    return Task.CompletedTask;
                }

                var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((condition, signal));
                return signal.Task;
            }
        }

        // Called under _lock.
        private void SignalWaiters()
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition())
                {
                    _waiters[i].Signal.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}
