using System.Buffers;
using System.Text;
using FastChat.Protocol.Internal;
using FastChat.Protocol.Tests.Framing;

namespace FastChat.Protocol.Tests.Messages;

public class NameCacheTests
{
    [Fact]
    public void GetOrAdd_SameBytesTwice_ReturnsTheSameInstance()
    {
        var cache = new NameCache(64);

        string first = cache.GetOrAdd("alice"u8.ToArray());
        string second = cache.GetOrAdd("alice"u8.ToArray());

        Assert.Equal("alice", first);
        Assert.Same(first, second);
    }

    [Fact]
    public void GetOrAdd_NewName_DecodesIt()
    {
        var cache = new NameCache(64);

        Assert.Equal("zoë-名前", cache.GetOrAdd(Encoding.UTF8.GetBytes("zoë-名前")));
        Assert.Equal("bob", cache.GetOrAdd("bob"u8));
    }

    [Fact]
    public void GetOrAdd_Empty_ReturnsEmptyString()
    {
        Assert.Same(string.Empty, new NameCache(4).GetOrAdd(ReadOnlySpan<byte>.Empty));
    }

    /// <summary>Guards correctness under collisions: with one slot every name collides, and each must still come back right.</summary>
    [Fact]
    public void GetOrAdd_CollidingNames_ReturnsCorrectStringsAndReplacesTheSlot()
    {
        var cache = new NameCache(1);
        Assert.Equal(1, cache.Capacity);

        string a1 = cache.GetOrAdd("a"u8);
        string b1 = cache.GetOrAdd("b"u8);
        string b2 = cache.GetOrAdd("b"u8);
        string a2 = cache.GetOrAdd("a"u8);

        Assert.Equal("a", a1);
        Assert.Equal("b", b1);
        Assert.Same(b1, b2);
        Assert.Equal("a", a2);
        Assert.NotSame(a1, a2);
    }

    [Fact]
    public void GetOrAdd_NameOfMaximumCachedLength_IsCached()
    {
        var cache = new NameCache(64);
        byte[] name = Encoding.UTF8.GetBytes(new string('n', NameCache.MaxCachedLength));

        Assert.Same(cache.GetOrAdd(name), cache.GetOrAdd(name));
    }

    [Fact]
    public void GetOrAdd_LongerThanMaximum_DecodesWithoutCaching()
    {
        var cache = new NameCache(64);
        string text = new('l', NameCache.MaxCachedLength + 1);
        byte[] name = Encoding.UTF8.GetBytes(text);

        string first = cache.GetOrAdd(name);
        string second = cache.GetOrAdd(name);

        Assert.Equal(text, first);
        Assert.Equal(text, second);
        Assert.NotSame(first, second);
    }

    /// <summary>Guards the strict decoding decision: invalid UTF-8 is a protocol violation, never U+FFFD and never DecoderFallbackException.</summary>
    [Theory]
    [InlineData("c328")]
    [InlineData("c080")]
    [InlineData("eda080")]
    [InlineData("ff")]
    [InlineData("616263e282")]
    public void GetOrAdd_InvalidUtf8_ThrowsProtocolViolation(string hex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        var cache = new NameCache(64);

        ProtocolViolationException ex = Assert.Throws<ProtocolViolationException>(() => cache.GetOrAdd(bytes));
        Assert.Equal("The string is not valid UTF-8.", ex.Message);

        // And it must not have been cached as something else.
        Assert.Throws<ProtocolViolationException>(() => cache.GetOrAdd(bytes));
        Assert.Throws<ProtocolViolationException>(() => cache.GetOrAdd(TestSequences.OneBytePerSegment(bytes)));
    }

    [Fact]
    public void Decode_InvalidUtf8LongerThanCache_ThrowsProtocolViolation()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes(new string('x', 100)), 0xff];

        Assert.Throws<ProtocolViolationException>(() => NameCache.Decode(bytes));
        Assert.Throws<ProtocolViolationException>(() => NameCache.Decode(TestSequences.Split(bytes, 50)));
        Assert.Throws<ProtocolViolationException>(() => new NameCache(8).GetOrAdd(TestSequences.Split(bytes, 50)));
    }

    [Fact]
    public void GetOrAdd_MultiSegmentName_HitsTheSameEntryAsContiguous()
    {
        var cache = new NameCache(64);
        byte[] name = "carol-the-admin"u8.ToArray();

        string contiguous = cache.GetOrAdd(name);
        string fragmented = cache.GetOrAdd(TestSequences.OneBytePerSegment(name));

        Assert.Same(contiguous, fragmented);
    }

    [Fact]
    public void GetOrAdd_LongMultiSegmentName_Decodes()
    {
        string text = string.Concat(Enumerable.Repeat("ü", 100));
        ReadOnlySequence<byte> sequence = TestSequences.Split(Encoding.UTF8.GetBytes(text), 1, 77, 150);

        Assert.Equal(text, new NameCache(8).GetOrAdd(sequence));
    }

    /// <summary>Guards the hot path: a cache hit allocates nothing.</summary>
    [Fact]
    public void GetOrAdd_Hit_AllocatesNothing()
    {
        var cache = new NameCache(64);
        byte[] name = "dave"u8.ToArray();
        cache.GetOrAdd(name);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int length = 0;
        for (int i = 0; i < 1000; i++)
        {
            length += cache.GetOrAdd(name).Length;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(4000, length);
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// Guards lock-free safety: threads racing on a tiny cache (every slot contested) must always get the string
    /// that matches their bytes, never another thread's.
    /// </summary>
    [Fact]
    public void GetOrAdd_ConcurrentCollidingNames_AlwaysReturnsTheMatchingString()
    {
        var cache = new NameCache(2);
        string[] names = [.. Enumerable.Range(0, 16).Select(i => $"user-{i}")];
        byte[][] encoded = [.. names.Select(Encoding.UTF8.GetBytes)];
        int mismatches = 0;

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                int index = (i * 7 + worker) % names.Length;
                if (cache.GetOrAdd(encoded[index]) != names[index])
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        });

        Assert.Equal(0, mismatches);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData((1 << 20) + 1)]
    public void Constructor_CapacityOutOfRange_ThrowsArgumentOutOfRange(int capacity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NameCache(capacity));
    }

    [Fact]
    public void Constructor_Capacity_RoundsUpToPowerOfTwo()
    {
        Assert.Equal(128, new NameCache(100).Capacity);
    }
}
