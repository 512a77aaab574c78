using FastChat.Client.Crypto;
using FastChat.Protocol.Messages;

namespace FastChat.Client.Tests.Crypto;

/// <summary>
/// A group "team" administered by alice: bob and carol are members from epoch 1; dave joins at epoch 2; carol is
/// removed at epoch 3 (the admin rotates the key and wraps it for the remaining members only).
/// </summary>
public sealed class GroupEnvelopeTests : IDisposable
{
    private const string Group = "team";

    private readonly IdentityKeys _alice = IdentityKeys.Generate();
    private readonly IdentityKeys _bob = IdentityKeys.Generate();
    private readonly IdentityKeys _carol = IdentityKeys.Generate();
    private readonly IdentityKeys _dave = IdentityKeys.Generate();
    private readonly GroupKey _epoch1 = GroupKey.Generate(1);
    private readonly GroupKey _epoch2 = GroupKey.Generate(2);
    private readonly GroupKey _epoch3 = GroupKey.Generate(3);
    private readonly MessageId _id = MessageId.NewId();
    private readonly DateTime _sentAt = new(2025, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    public void Dispose()
    {
        _alice.Dispose();
        _bob.Dispose();
        _carol.Dispose();
        _dave.Dispose();
    }

    [Fact]
    public void Seal_ThenOpen_EveryMemberReadsTheSameBytes()
    {
        byte[] envelope = GroupEnvelope.Seal(_alice, "alice", Group, _epoch1, _id, _sentAt, "hello team"u8);

        foreach ((IdentityKeys member, string name) in new[] { (_alice, "alice"), (_bob, "bob"), (_carol, "carol") })
        {
            GroupKeyRing ring = ReceiveKeys(member, name, _epoch1);
            Assert.Equal("hello team"u8.ToArray(), GroupEnvelope.Open(ring, _alice.ToPublicIdentity("alice"), 1, _id, _sentAt, envelope));
        }

        Assert.Equal("hello team"u8.Length + GroupEnvelope.Overhead, envelope.Length);
    }

    [Fact]
    public void Seal_SpanOverloads_RoundTrip()
    {
        GroupKeyRing ring = Ring(_epoch1);
        byte[] envelope = new byte[GroupEnvelope.GetEnvelopeLength(5)];
        byte[] plaintext = new byte[5];

        int written = GroupEnvelope.Seal(_bob, "bob", Group, _epoch1, _id, _sentAt, "12345"u8, envelope);
        int read = GroupEnvelope.Open(ring, _bob.ToPublicIdentity("bob"), 1, _id, _sentAt, envelope, plaintext);

        Assert.Equal(envelope.Length, written);
        Assert.Equal(5, read);
        Assert.Equal("12345"u8.ToArray(), plaintext);
    }

    /// <summary>Guards forward secrecy at joins: a member who joined at epoch 2 never got the epoch 1 key and cannot read earlier messages.</summary>
    [Fact]
    public void Open_LateJoinerReadsEarlierEpoch_ThrowsUnknownEpoch()
    {
        byte[] earlier = GroupEnvelope.Seal(_bob, "bob", Group, _epoch1, _id, _sentAt, "before dave"u8);
        GroupKeyRing daveRing = ReceiveKeys(_dave, "dave", _epoch2);

        var ex = Assert.Throws<EnvelopeException>(() => GroupEnvelope.Open(daveRing, _bob.ToPublicIdentity("bob"), 1, _id, _sentAt, earlier));

        Assert.Equal(EnvelopeFailure.UnknownEpoch, ex.Failure);
        Assert.Contains("No key for epoch 1", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Guards removal: after the admin rotates the key, the removed member cannot read the next epoch's messages.</summary>
    [Fact]
    public void Open_RemovedMemberReadsNextEpoch_ThrowsUnknownEpoch()
    {
        GroupKeyRing carolRing = ReceiveKeys(_carol, "carol", _epoch1, _epoch2);
        GroupKeyRing bobRing = ReceiveKeys(_bob, "bob", _epoch1, _epoch2, _epoch3);
        byte[] after = GroupEnvelope.Seal(_alice, "alice", Group, bobRing.Latest!, _id, _sentAt, "after carol left"u8);

        var ex = Assert.Throws<EnvelopeException>(() => GroupEnvelope.Open(carolRing, _alice.ToPublicIdentity("alice"), 3, _id, _sentAt, after));

        Assert.Equal(EnvelopeFailure.UnknownEpoch, ex.Failure);
        Assert.Contains("epoch 3", ex.Message, StringComparison.Ordinal);
        Assert.Equal("after carol left"u8.ToArray(), GroupEnvelope.Open(bobRing, _alice.ToPublicIdentity("alice"), 3, _id, _sentAt, after));
    }

    /// <summary>Guards member authenticity: carol holds the group key but cannot produce a message that opens as bob's.</summary>
    [Fact]
    public void Open_MemberForgesAnotherMember_ThrowsBadSignature()
    {
        byte[] forged = GroupEnvelope.Seal(_carol, "bob", Group, _epoch1, _id, _sentAt, "I am bob"u8);

        var ex = Assert.Throws<EnvelopeException>(() => GroupEnvelope.Open(Ring(_epoch1), _bob.ToPublicIdentity("bob"), 1, _id, _sentAt, forged));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    /// <summary>Guards the header binding: the server cannot move a message to another group or epoch, or change its id or time.</summary>
    [Theory]
    [InlineData("group")]
    [InlineData("epoch")]
    [InlineData("id")]
    [InlineData("sentAt")]
    [InlineData("sender")]
    public void Open_HeaderFieldChanged_ThrowsBadSignature(string field)
    {
        byte[] envelope = GroupEnvelope.Seal(_alice, "alice", Group, _epoch2, _id, _sentAt, "hello"u8);
        GroupKeyRing ring = field == "group" ? new GroupKeyRing("other") : Ring(_epoch1);
        ring.Add(_epoch1);
        ring.Add(_epoch2);
        int epoch = field == "epoch" ? 1 : 2;
        MessageId id = field == "id" ? MessageId.NewId() : _id;
        DateTime sentAt = field == "sentAt" ? _sentAt.AddTicks(-1) : _sentAt;
        PublicIdentity sender = field == "sender" ? _alice.ToPublicIdentity("bob") : _alice.ToPublicIdentity("alice");

        var ex = Assert.Throws<EnvelopeException>(() => GroupEnvelope.Open(ring, sender, epoch, id, sentAt, envelope));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    /// <summary>Guards each region of the envelope: a change anywhere fails the signature; the version byte is reported as unsupported.</summary>
    [Theory]
    [InlineData("version", 0, EnvelopeFailure.UnsupportedVersion)]
    [InlineData("nonce", 5, EnvelopeFailure.BadSignature)]
    [InlineData("ciphertext", 13 + 2, EnvelopeFailure.BadSignature)]
    [InlineData("tag", 13 + 10 + 4, EnvelopeFailure.BadSignature)]
    [InlineData("signature", 13 + 10 + 16 + 63, EnvelopeFailure.BadSignature)]
    public void Open_RegionModified_ThrowsWithReason(string region, int offset, EnvelopeFailure expected)
    {
        byte[] envelope = GroupEnvelope.Seal(_alice, "alice", Group, _epoch1, _id, _sentAt, "0123456789"u8);
        envelope[offset] ^= 0x04;

        var ex = Assert.Throws<EnvelopeException>(() => GroupEnvelope.Open(Ring(_epoch1), _alice.ToPublicIdentity("alice"), 1, _id, _sentAt, envelope));

        Assert.True(expected == ex.Failure, $"Modifying the {region} gave {ex.Failure}, not {expected}.");
    }

    /// <summary>Guards the key check after a valid signature: a member whose key for the epoch differs (a conflicting key envelope) gets Tampered, not garbage.</summary>
    [Fact]
    public void Open_DifferentKeyForSameEpoch_ThrowsTampered()
    {
        byte[] envelope = GroupEnvelope.Seal(_alice, "alice", Group, _epoch1, _id, _sentAt, "hello"u8);

        var ex = Assert.Throws<EnvelopeException>(() => GroupEnvelope.Open(Ring(GroupKey.Generate(1)), _alice.ToPublicIdentity("alice"), 1, _id, _sentAt, envelope));

        Assert.Equal(EnvelopeFailure.Tampered, ex.Failure);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(GroupEnvelope.Overhead - 1)]
    public void Open_TooShort_ThrowsMalformed(int length)
    {
        var ex = Assert.Throws<EnvelopeException>(() => GroupEnvelope.Open(Ring(_epoch1), _alice.ToPublicIdentity("alice"), 1, _id, _sentAt, new byte[length]));

        Assert.Equal(EnvelopeFailure.Malformed, ex.Failure);
    }

    /// <summary>Guards domain separation: a group message cannot be passed off as a group file offer.</summary>
    [Fact]
    public void OpenFromGroup_GroupMessageEnvelope_ThrowsBadSignature()
    {
        byte[] envelope = GroupEnvelope.Seal(_alice, "alice", Group, _epoch1, _id, _sentAt, "not a manifest"u8);

        var ex = Assert.Throws<EnvelopeException>(() => FileManifest.OpenFromGroup(Ring(_epoch1), _alice.ToPublicIdentity("alice"), 1, _id, _sentAt, envelope));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    [Fact]
    public void GroupKeyWrap_SealThenOpen_ReturnsSameKey()
    {
        byte[] envelope = GroupKeyWrap.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), Group, _epoch2);

        GroupKey key = GroupKeyWrap.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), Group, 2, envelope);

        Assert.True(key.IsSameKey(_epoch2));
        Assert.Equal(2, key.Epoch);
    }

    /// <summary>Guards key distribution: only the admin's key envelopes are accepted; a member cannot slip others a key of its choosing.</summary>
    [Fact]
    public void GroupKeyWrap_SealedByNonAdmin_ThrowsBadSignature()
    {
        byte[] envelope = GroupKeyWrap.Seal(_carol, "alice", _bob.ToPublicIdentity("bob"), Group, GroupKey.Generate(2));

        var ex = Assert.Throws<EnvelopeException>(() => GroupKeyWrap.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), Group, 2, envelope));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    /// <summary>Guards the binding of a key envelope to its group and epoch: it cannot be replayed as another group's key or another epoch's.</summary>
    [Theory]
    [InlineData("other", 2)]
    [InlineData(Group, 3)]
    [InlineData(Group, 1)]
    public void GroupKeyWrap_OpenedForOtherGroupOrEpoch_ThrowsBadSignature(string group, int epoch)
    {
        byte[] envelope = GroupKeyWrap.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), Group, _epoch2);

        var ex = Assert.Throws<EnvelopeException>(() => GroupKeyWrap.Open(_bob, "bob", _alice.ToPublicIdentity("alice"), group, epoch, envelope));

        Assert.Equal(EnvelopeFailure.BadSignature, ex.Failure);
    }

    /// <summary>Guards per-member wrapping: the removed member cannot open the new key wrapped for someone else.</summary>
    [Fact]
    public void GroupKeyWrap_OpenedByAnotherMember_ThrowsWrongRecipient()
    {
        byte[] forBob = GroupKeyWrap.Seal(_alice, "alice", _bob.ToPublicIdentity("bob"), Group, _epoch3);

        var ex = Assert.Throws<EnvelopeException>(() => GroupKeyWrap.Open(_carol, "bob", _alice.ToPublicIdentity("alice"), Group, 3, forBob));

        Assert.Equal(EnvelopeFailure.WrongRecipient, ex.Failure);
    }

    [Fact]
    public void GroupKeyRing_AddGetRemove_TracksEpochs()
    {
        var ring = new GroupKeyRing(Group);
        Assert.Null(ring.Latest);

        ring.Add(_epoch2);
        ring.Add(_epoch1);
        GroupKey replacement = GroupKey.Generate(2);
        ring.Add(replacement);

        Assert.Equal(2, ring.Count);
        Assert.Same(replacement, ring.Latest);
        Assert.Same(_epoch1, ring.GetKey(1));
        Assert.True(ring.Remove(1));
        Assert.False(ring.TryGetKey(1, out _));
        var ex = Assert.Throws<EnvelopeException>(() => ring.GetKey(1));
        Assert.Equal(EnvelopeFailure.UnknownEpoch, ex.Failure);
    }

    [Fact]
    public void GroupKey_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupKey.Generate(-1));
        Assert.Throws<ArgumentException>(() => new GroupKey(1, new byte[31]));
        Assert.False(GroupKey.Generate(1).IsSameKey(GroupKey.Generate(1)));
        GroupKey key = GroupKey.Generate(7);
        Assert.DoesNotContain(Convert.ToHexStringLower(key.Key[..4]), key.ToString(), StringComparison.Ordinal);
    }

    private static GroupKeyRing Ring(params GroupKey[] keys)
    {
        var ring = new GroupKeyRing(Group);
        foreach (GroupKey key in keys)
        {
            ring.Add(key);
        }

        return ring;
    }

    // The way a member builds its ring: from the admin's key envelopes.
    private GroupKeyRing ReceiveKeys(IdentityKeys member, string name, params GroupKey[] keys)
    {
        var ring = new GroupKeyRing(Group);
        foreach (GroupKey key in keys)
        {
            byte[] envelope = GroupKeyWrap.Seal(_alice, "alice", member.ToPublicIdentity(name), Group, key);
            ring.Add(GroupKeyWrap.Open(member, name, _alice.ToPublicIdentity("alice"), Group, key.Epoch, envelope));
        }

        return ring;
    }
}
