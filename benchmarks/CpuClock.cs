using System.Runtime.InteropServices;

namespace Benchmarks;

/// <summary>
/// CPU time of the whole process (all threads), in nanoseconds of precision: Process.TotalProcessorTime counts in
/// scheduler ticks of 10 ms on Linux, too coarse for a 20 ms matmul.
/// </summary>
internal static class CpuClock
{
    private const int ProcessCpuTimeId = 2; // CLOCK_PROCESS_CPUTIME_ID

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>Seconds of CPU this process has used so far.</summary>
    public static double Seconds()
    {
        if (ClockGetTime(ProcessCpuTimeId, out var t) != 0)
            throw new InvalidOperationException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed.");
        return t.Seconds + t.Nanoseconds * 1e-9;
    }
}
