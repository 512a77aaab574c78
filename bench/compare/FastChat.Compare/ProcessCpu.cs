using System.Globalization;

namespace FastChat.Compare;

/// <summary>The CPU time (user + system) of server processes, from <c>/proc/PID/stat</c>.</summary>
internal static class ProcessCpu
{
    /// <summary>
    /// The CPU seconds <paramref name="pids"/> have used so far, summed; <see langword="null"/> when one cannot be read
    /// (no such process, or not Linux).
    /// </summary>
    public static double? Seconds(IReadOnlyList<int> pids, int clockTicks)
    {
        if (pids.Count == 0)
        {
            return null;
        }

        long ticks = 0;
        foreach (int pid in pids)
        {
            if (ReadTicks(pid) is not { } used)
            {
                return null;
            }

            ticks += used;
        }

        return (double)ticks / clockTicks;
    }

    /// <summary>utime + stime of <paramref name="pid"/> in clock ticks, or <see langword="null"/>.</summary>
    internal static long? ReadTicks(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return ParseTicks(stat);
    }

    /// <summary>
    /// Fields 14 and 15 (utime, stime) of a stat line. The command name (field 2) is in parentheses and may hold spaces
    /// or parentheses itself, so counting starts after the last ')'.
    /// </summary>
    internal static long? ParseTicks(string stat)
    {
        int close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        string[] fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // fields[0] is field 3 (state), so field N is fields[N - 3].
        if (fields.Length < 13
            || !long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out long user)
            || !long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out long system))
        {
            return null;
        }

        return user + system;
    }
}
