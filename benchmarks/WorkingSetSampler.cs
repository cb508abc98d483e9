using System.Globalization;

namespace Benchmarks;

/// <summary>
/// Samples the process's resident set every few milliseconds on a background thread and keeps the peak since the
/// last <see cref="TakePeak"/>, so a peak can be told per epoch (the OS's VmHWM only ever grows).
/// </summary>
internal sealed class WorkingSetSampler : IDisposable
{
    private readonly Thread thread;
    private volatile bool stopping;
    private long peak;

    public WorkingSetSampler()
    {
        peak = Current();
        thread = new Thread(Sample) { IsBackground = true, Name = "working-set sampler" };
        thread.Start();
    }

    /// <summary>Resident bytes now, from /proc/self/statm (cheap enough to read every 5 ms; Process.Refresh is not).</summary>
    public static long Current()
    {
        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    /// <summary>The peak since the previous call (or since construction), then starts a new window at the current value.</summary>
    public long TakePeak()
    {
        long now = Current();
        long seen = Interlocked.Exchange(ref peak, now);
        return Math.Max(seen, now);
    }

    private void Sample()
    {
        while (!stopping)
        {
            long now = Current();
            long seen;
            do
            {
                seen = Interlocked.Read(ref peak);
            }
            while (now > seen && Interlocked.CompareExchange(ref peak, now, seen) != seen);
            Thread.Sleep(5);
        }
    }

    public void Dispose()
    {
        stopping = true;
        thread.Join();
    }
}
