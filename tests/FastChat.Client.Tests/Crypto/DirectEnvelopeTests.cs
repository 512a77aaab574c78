using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Crypto;

public sealed class DirectEnvelopeTests : IDisposable
{
    // Layout for an n-byte plaintext: version 0 | key id 1..9 | ephemeral 9..74 | nonce 74..86 | ciphertext 86..86+n | tag | signature (64).
    private const int CiphertextOffset = 86;

    private readonly IdentityKeys _alice = IdentityKeys.Generate();
    private readonly IdentityKeys _bob = IdentityKeys.Generate();
    private readonly IdentityKeys _carol = IdentityKeys.Generate();
    private readonly MessageId _id = MessageId.NewId();
    private readonly DateTime _sentAt = new(2025, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    public void Dispose()
    {
        _alice.Dispose();
        _bob.Dispose();
        _carol.Dispose();
    }

    /// <summary>
    /// Guards the cached peer keys in <see cref="PublicIdentity"/>: one identity shared by many threads (a contact used by
    /// the receive loop and several senders at once) must seal and open correctly on every thread.
    /// </summary>
    [Fact]
    public async Task SealAndOpen_OneSharedIdentityOnManyThreads_AllSucceed()
    {
        PublicIdentity aliceIdentity = _alice.ToPublicIdentity("alice");
        PublicIdentity bobIdentity = _bob.ToPublicIdentity("bob");
        const int Threads = 8;
        const int Rounds = 25;

        Task[] workers = new Task[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            workers[t] = Task.Run(() =>
            {
                for (int round = 0; round < Rounds; round++)
                {
                    byte[] plaintext = [(byte)thread, (byte)round, 42];
                    MessageId id = MessageId.NewId();
                    byte[] envelope = DirectEnvelope.Seal(_alice, "alice", bobIdentity, id, _sentAt, plaintext);
                    Assert.Equal(plaintext, DirectEnvelope.Open(_bob, "bob", aliceIdentity, id, _sentAt, envelope));
                }
            });
        }

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(70_000)]
    public void Seal_ThenOpen_ReturnsPlaintext(int length)
    {
        byte[] plaintext = new byte[length];
        new Random(length).NextBytes(plaintext);

        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, plaintext);
        byte[] opened = DirectEnvelope.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt, envelope);

        Assert.Equal(DirectEnvelope.GetEnvelopeLength(length), envelope.Length);
        Assert.Equal(length + DirectEnvelope.Overhead, envelope.Length);
        Assert.Equal(plaintext, opened);
    }

    [Fact]
    public void Seal_SameMessageTwice_ProducesUnrelatedEnvelopes()
    {
        PublicIdentity bob = _bob.ToPublicIdentity("bob");

        byte[] first = DirectEnvelope.Seal(_alice, "alice", bob, _id, _sentAt, "same"u8);
        byte[] second = DirectEnvelope.Seal(_alice, "alice", bob, _id, _sentAt, "same"u8);

        Assert.False(first.AsSpan(9, 65).SequenceEqual(second.AsSpan(9, 65)));
        Assert.False(first.AsSpan(CiphertextOffset, 4).SequenceEqual(second.AsSpan(CiphertextOffset, 4)));
    }

    [Fact]
    public void Seal_SpanOverloads_RoundTrip()
    {
        byte[] plaintext = "span based"u8.ToArray();
        byte[] envelope = new byte[DirectEnvelope.GetEnvelopeLength(plaintext.Length) + 10];
        byte[] opened = new byte[plaintext.Length + 5];

        int written = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, plaintext, envelope);
        int read = DirectEnvelope.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt, envelope.AsSpan(0, written), opened);

        Assert.Equal(plaintext.Length + DirectEnvelope.Overhead, written);
        Assert.Equal(plaintext, opened.AsSpan(0, read).ToArray());
    }

    [Fact]
    public void Seal_DestinationTooSmall_ThrowsArgumentException()
    {
        byte[] envelope = new byte[DirectEnvelope.Overhead];

        Assert.Throws<ArgumentException>(() => DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "x"u8, envelope));
    }

    /// <summary>Guards each region of the envelope: a change anywhere is caught by the signature, checked first; the version byte is reported as unsupported.</summary>
    [Theory]
    [InlineData("version", 0, EnvelopeFailure.UnsupportedVersion)]
    [InlineData("key id", 4, EnvelopeFailure.BadSignature)]
    [InlineData("ephemeral key", 40, EnvelopeFailure.BadSignature)]
    [InlineData("nonce", 80, EnvelopeFailure.BadSignature)]
    [InlineData("ciphertext", CiphertextOffset + 3, EnvelopeFailure.BadSignature)]
    [InlineData("tag", CiphertextOffset + 10 + 8, EnvelopeFailure.BadSignature)]
    [InlineData("signature", CiphertextOffset + 10 + 16 + 30, EnvelopeFailure.BadSignature)]
    public void Open_RegionModified_ThrowsWithReason(string region, int offset, EnvelopeFailure expected)
    {
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "0123456789"u8);
        envelope[offset] ^= 0x20;

        var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt, envelope));

        Assert.True(expected == ex.Failure, $"Modifying the {region} gave {ex.Failure}, not {expected}.");
    }

    /// <summary>Guards every single byte: no one-bit change to an envelope is accepted.</summary>
    [Fact]
    public void Open_AnyByteFlipped_IsRejected()
    {
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "abc"u8);
        PublicIdentity alice = _alice.ToPublicIdentity("alice");

        for (int i = 0; i < envelope.Length; i++)
        {
            envelope[i] ^= 0x01;
            var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(_bob, "bob", alice, _id, _sentAt, envelope));
            Assert.Equal(i == 0 ? EnvelopeFailure.UnsupportedVersion : EnvelopeFailure.BadSignature, ex.Failure);
            envelope[i] ^= 0x01;
        }
    }

    /// <summary>Guards the header binding: the server cannot change a message's id, time, sender or recipient without the signature failing.</summary>
    [Theory]
    [InlineData("id")]
    [InlineData("sentAt")]
    [InlineData("sender name")]
    [InlineData("sender keys")]
    [InlineData("recipient name")]
    public void Open_HeaderFieldChanged_ThrowsBadSignature(string field)
    {
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "hello"u8);
        MessageId id = field == "id" ? MessageId.NewId() : _id;
        DateTime sentAt = field == "sentAt" ? _sentAt.AddTicks(1) : _sentAt;
        PublicIdentity sender = field switch
        {
            "sender name" => _alice.ToPublicIdentity("alice2"),
            "sender keys" => _carol.ToPublicIdentity("alice"),
            _ => _alice.ToPublicIdentity("alice"),
        };
        string recipientName = field == "recipient name" ? "bob2" : "bob";

        var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(_bob, recipientName, sender, id, sentAt, envelope));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    [Fact]
    public void Open_SameInstantAsLocalTime_Opens()
    {
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "hello"u8);

        byte[] opened = DirectEnvelope.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt.ToLocalTime(), envelope);

        Assert.Equal("hello"u8.ToArray(), opened);
    }

    /// <summary>Guards the recipient check: another user holding a message addressed to Bob cannot open it, and is told why.</summary>
    [Fact]
    public void Open_ByAnotherUser_ThrowsWrongRecipient()
    {
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "for bob"u8);

        var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(_carol, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt, envelope));

        Assert.Equal(EnvelopeFailure.WrongRecipient, ex.Failure);
        Assert.Contains("someone else", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards against key substitution: a message the server tricked the sender into sealing for a fake "bob" key is flagged, not opened.</summary>
    [Fact]
    public void Open_SealedForSubstitutedKey_ThrowsWrongRecipient()
    {
        PublicIdentity fakeBob = _carol.ToPublicIdentity("bob");
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", fakeBob, _id, _sentAt, "meant for bob"u8);

        var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt, envelope));

        Assert.Equal(EnvelopeFailure.WrongRecipient, ex.Failure);
    }

    /// <summary>Guards sender authenticity: Carol cannot send Bob a message that opens as coming from Alice.</summary>
    [Fact]
    public void Open_ForgedByAnotherSender_ThrowsBadSignature()
    {
        byte[] envelope = DirectEnvelope.Seal(_carol, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "I am alice"u8);

        var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt, envelope));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    /// <summary>Guards the size check on hostile input: short or empty bodies are malformed, never read out of range.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(DirectEnvelope.Overhead - 1)]
    public void Open_TooShort_ThrowsMalformed(int length)
    {
        byte[] envelope = new byte[length];
        if (length > 0)
        {
            envelope[0] = DirectEnvelope.Version;
        }

        var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt, envelope));

        Assert.Equal(EnvelopeFailure.Malformed, ex.Failure);
    }

    /// <summary>Guards the truncation of a valid envelope: cutting bytes off the end breaks the signature.</summary>
    [Fact]
    public void Open_Truncated_IsRejected()
    {
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "a longer message"u8);

        var ex = Assert.Throws<EnvelopeException>(() => DirectEnvelope.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), _id, _sentAt, envelope.AsSpan(0, envelope.Length - 1)));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    /// <summary>Guards domain separation: a direct message cannot be replayed as a file offer or a group key, even with the same id and time.</summary>
    [Fact]
    public void Open_DirectMessageAsOtherFormats_ThrowsBadSignature()
    {
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "not a manifest"u8);
        PublicIdentity alice = _alice.ToPublicIdentity("alice");

        var asOffer = Assert.Throws<EnvelopeException>(() => FileManifest.OpenFromUser(_bob, "bob", alice, _id, _sentAt, envelope));
        var asGroupKey = Assert.Throws<EnvelopeException>(() => GroupKeyWrap.Open(_bob, "bob", alice, "team", 1, envelope));

        Assert.Equal(EnvelopeFailure.BadSignature, asOffer.Failure);
        Assert.Equal(EnvelopeFailure.BadSignature, asGroupKey.Failure);
    }

    /// <summary>Guards the receive flow against a server replaying a stored message: the copy still verifies, so the replay guard must refuse it.</summary>
    [Fact]
    public void Open_ReplayedEnvelope_ReplayGuardRejectsSecondCopy()
    {
        byte[] envelope = DirectEnvelope.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "pay 10"u8);
        var guard = new ReplayGuard();
        PublicIdentity alice = _alice.ToPublicIdentity("alice");

        DirectEnvelope.Open(_bob, "bob", alice, _id, _sentAt, envelope);
        guard.Accept(alice.UserName, _id);
        DirectEnvelope.Open(_bob, "bob", alice, _id, _sentAt, envelope);
        var ex = Assert.Throws<EnvelopeException>(() => guard.Accept(alice.UserName, _id));

        Assert.Equal(EnvelopeFailure.Replayed, ex.Failure);
    }

    [Fact]
    public void SealAndOpen_ConcurrentlyWithSharedKeys_AllSucceed()
    {
        PublicIdentity bob = _bob.ToPublicIdentity("bob");
        PublicIdentity alice = _alice.ToPublicIdentity("alice");
        int opened = 0;

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            MessageId id = MessageId.NewId();
            byte[] plaintext = BitConverter.GetBytes(i);
            byte[] envelope = DirectEnvelope.Seal(_alice, "alice", bob, id, _sentAt, plaintext);
            if (DirectEnvelope.Open(_bob, "bob", alice, id, _sentAt, envelope).AsSpan().SequenceEqual(plaintext))
            {
                Interlocked.Increment(ref opened);
            }
        });

        Assert.Equal(64, opened);
    }

    [Fact]
    public void Seal_DisposedSender_ThrowsObjectDisposed()
    {
        IdentityKeys sender = IdentityKeys.Generate();
        sender.Dispose();

        Assert.Throws<ObjectDisposedException>(() => DirectEnvelope.Seal(sender, "alice", _bob.ToPublicIdentity("bob"), _id, _sentAt, "x"u8));
    }
}
