using System.Buffers.Binary;
using System.Globalization;

namespace FastChat.Protocol.MessagePack.Internal;

// The timestamp extension (type -1):
// https://github.com/msgpack/msgpack/blob/master/spec.md#timestamp-extension-type
internal static class Timestamp
{
    // 1970-01-01T00:00:00Z.
    public const long UnixEpochTicks = 621_355_968_000_000_000;

    // DateTime's range in whole seconds relative to the Unix epoch (0001-01-01 and 9999-12-31T23:59:59).
    public const long MinSeconds = (0 - UnixEpochTicks) / TimeSpan.TicksPerSecond;
    public const long MaxSeconds = (3_155_378_975_999_999_999 - UnixEpochTicks) / TimeSpan.TicksPerSecond;

    public const int NanosecondsPerTick = 100;
    public const uint MaxNanoseconds = 999_999_999;

    // Splits a UTC DateTime into seconds since the epoch (floored, so pre-1970 instants have a
    // non-negative nanosecond part as the specification requires) and nanoseconds.
    public static void FromDateTime(DateTime utc, out long seconds, out uint nanoseconds)
    {
        long ticks = utc.Ticks - UnixEpochTicks;
        seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += TimeSpan.TicksPerSecond;
        }

        nanoseconds = (uint)(remainder * NanosecondsPerTick);
    }

    // data is the extension's payload: 4, 8 or 12 bytes (the caller checked).
    public static DateTime ToDateTime(ReadOnlySpan<byte> data)
    {
        long seconds;
        uint nanoseconds;
        switch (data.Length)
        {
            case 4:
                seconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                nanoseconds = 0;
                break;
            case 8:
                ulong packed = BinaryPrimitives.ReadUInt64BigEndian(data);
                nanoseconds = (uint)(packed >> 34);
                seconds = (long)(packed & 0x3_ffff_ffffUL);
                break;
            default:
                nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                seconds = BinaryPrimitives.ReadInt64BigEndian(data[4..]);
                break;
        }

        if (nanoseconds > MaxNanoseconds)
        {
            MessagePackThrowHelper.ThrowInvalidTimestamp(string.Create(
                CultureInfo.InvariantCulture,
                $"the nanoseconds field is {nanoseconds}, more than {MaxNanoseconds}"));
        }

        if (seconds is < MinSeconds or > MaxSeconds)
        {
            MessagePackThrowHelper.ThrowInvalidTimestamp(string.Create(
                CultureInfo.InvariantCulture,
                $"{seconds} s after 1970-01-01T00:00:00Z is outside the range of DateTime (years 1 to 9999)"));
        }

        // DateTime counts 100 ns ticks: finer nanoseconds are truncated (toward the earlier instant).
        return new DateTime(
            UnixEpochTicks + (seconds * TimeSpan.TicksPerSecond) + (nanoseconds / NanosecondsPerTick),
            DateTimeKind.Utc);
    }
}
