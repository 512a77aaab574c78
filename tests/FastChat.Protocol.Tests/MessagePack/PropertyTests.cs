using FastChat.Protocol.MessagePack;
using FsCheck;
using FsCheck.Fluent;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

/// <summary>Round-trip properties over generated values (seeded, so a failure reproduces).</summary>
public class PropertyTests
{
    private static readonly Config Seeded = Config.QuickThrowOnFailure
        .WithMaxTest(500)
        .WithReplay(new Replay(new Rnd(0x5EED_F00DUL, 0x9E37_79B9_7F4A_7C15UL), null));

    [Fact]
    public void Int64_AnyValue_RoundTripsInSmallestFormat()
    {
        Check.One(Seeded, Prop.ForAll(ArbMap.Default.ArbFor<long>(), (long value) =>
        {
            byte[] bytes = Encode((ref MessagePackWriter w) => w.Write(value));
            int expectedSize = value switch
            {
                >= -32 and <= 127 => 1,
                >= -128 and <= 255 => 2,
                >= -32768 and <= 65535 => 3,
                >= int.MinValue and <= uint.MaxValue => 5,
                _ => 9,
            };
            return bytes.Length == expectedSize && Read(bytes, (ref MessagePackReader r) => r.ReadInt64()) == value;
        }));
    }

    [Fact]
    public void UInt64_AnyValue_RoundTrips()
    {
        Check.One(Seeded, Prop.ForAll(ArbMap.Default.ArbFor<ulong>(), (ulong value) =>
            Read(Encode((ref MessagePackWriter w) => w.Write(value)), (ref MessagePackReader r) => r.ReadUInt64()) == value));
    }

    [Fact]
    public void Double_AnyBitPattern_RoundTripsBitForBit()
    {
        Check.One(Seeded, Prop.ForAll(ArbMap.Default.ArbFor<long>(), (long bits) =>
        {
            double value = BitConverter.Int64BitsToDouble(bits);
            double read = Read(Encode((ref MessagePackWriter w) => w.Write(value)), (ref MessagePackReader r) => r.ReadDouble());
            return BitConverter.DoubleToInt64Bits(read) == bits;
        }));
    }

    [Fact]
    public void String_AnyText_RoundTrips()
    {
        Check.One(Seeded, Prop.ForAll(ArbMap.Default.ArbFor<NonNull<string>>(), (NonNull<string> text) =>
        {
            // Lone surrogates cannot survive UTF-8; compare with what UTF-8 makes of them.
            string expected = System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(text.Get));
            return Read(Encode((ref MessagePackWriter w) => w.Write(text.Get)), (ref MessagePackReader r) => r.ReadString()) == expected;
        }));
    }

    [Fact]
    public void DateTime_AnyTick_RoundTrips()
    {
        Check.One(Seeded, Prop.ForAll(ArbMap.Default.ArbFor<long>(), (long seed) =>
        {
            long ticks = (long)((ulong)seed % (ulong)(DateTime.MaxValue.Ticks + 1));
            var value = new DateTime(ticks, DateTimeKind.Utc);
            return Read(Encode((ref MessagePackWriter w) => w.Write(value)), (ref MessagePackReader r) => r.ReadDateTime()) == value;
        }));
    }
}
