using System.Runtime.InteropServices;

namespace Microsoft.ML.CompactTransformer.Native;

/// <summary>How glibc's malloc, which libtorch's CPU tensors come from, treats freed memory while we train.</summary>
/// <remarks>
/// Two costs of the allocator's defaults, measured on cct_2 and cct_7 (docs/PERFORMANCE.md):
/// <list type="bullet">
/// <item>Blocks above the mmap threshold (attention scores of cct_7 are 67 MB a batch) are mapped on every malloc and
/// unmapped on every free, so each step faults in and zeroes fresh pages: 140,000-770,000 page faults and about 7-9%
/// of a cct_7 step. While training, <see cref="ReuseFreedBlocks"/> serves every block from the heap and keeps freed ones
/// there for the next step. On threads other than the process's first, glibc's per-thread heaps (64 MB each) are also
/// kept when they empty, which by default unmaps them: the half-batch worker then faulted 6,000-14,000 pages per cct_7
/// step instead of 40,000-90,000 (a block over 64 MB is mapped there whatever the settings, see Training/HalfBatchStep).</item>
/// <item>What is freed inside the heap stays resident: over 10 epochs of cct_2 the bytes in use stayed at 70 MB while the
/// arenas grew from 230 to 282 MB. <see cref="ReleaseFreePages"/> (<c>malloc_trim(0)</c>, a few milliseconds; training
/// calls it after every epoch, with <see cref="ReleaseThisThreadsHeapTop"/> on each of its threads) hands every whole
/// free page back, so the resident set follows what is in use.</item>
/// </list>
/// Both do nothing where the C library is not glibc, and <see cref="ReuseFreedBlocks"/> leaves alone a process whose
/// malloc was configured through the environment.
/// </remarks>
internal static class MallocArenas
{
    // glibc's mallopt parameters and its defaults for them (malloc.c).
    private const int TrimThresholdOption = -1, TopPadOption = -2, MmapMaxOption = -4;
    private const int DefaultTrimThreshold = 128 * 1024, DefaultTopPad = 128 * 1024, DefaultMmapMax = 65536;
    // Twice glibc's largest per-thread heap (64 MB on 64-bit): a heap_trim that keeps this much never unmaps a heap.
    private const int KeepingTopPad = 256 * 1024 * 1024;
    private const int ConsolidationThreshold = 64 * 1024; // FASTBIN_CONSOLIDATION_THRESHOLD: a free this large may trim

    private static readonly object Gate = new();
    private static int reusing;
    private static bool unavailable = !OperatingSystem.IsLinux();

    [ThreadStatic]
    private static int releasesOnThisThread;

    /// <summary>Calls of <see cref="ReleaseFreePages"/> made on the calling thread (tests check when training makes them).</summary>
    internal static int ReleasesOnThisThread => releasesOnThisThread;

    /// <summary>Releases the free pages of every malloc arena; does nothing where the C library has no <c>malloc_trim</c>.</summary>
    public static void ReleaseFreePages()
    {
        releasesOnThisThread++;
        if (unavailable)
            return;
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl, for one, has no malloc_trim): its allocator keeps its own policy.
            unavailable = true;
        }
    }

    /// <summary>
    /// Shrinks the top of the calling thread's heap, which <see cref="ReleaseFreePages"/> leaves alone in a per-thread
    /// arena (threads other than the process's first usually allocate from one), and unmaps its emptied heaps: glibc does
    /// that when a free of 64 KB or more finds the top above the trim threshold and the pad, so both are lowered to their
    /// defaults for one such free.
    /// </summary>
    public static void ReleaseThisThreadsHeapTop()
    {
        if (unavailable)
            return;
        lock (Gate)
        {
            if (reusing > 0)
                TrySet(TrimThresholdOption, DefaultTrimThreshold, TopPadOption, DefaultTopPad);
            Marshal.FreeHGlobal(Marshal.AllocHGlobal(ConsolidationThreshold));
            if (reusing > 0)
                TrySet(TrimThresholdOption, int.MaxValue, TopPadOption, KeepingTopPad);
        }
    }

    /// <summary>
    /// Until the returned scope is disposed, every block comes from the heap (no mmap) and a free never shrinks it or
    /// unmaps a per-thread heap (M_TOP_PAD above the size of such a heap), so a step reuses the previous step's pages.
    /// Scopes nest and may overlap across threads: the last one to end restores glibc's default limits, unmaps the heaps
    /// its own thread emptied and releases the free pages. glibc's dynamic mmap threshold stays off afterwards (any
    /// mallopt call turns it off); blocks over 128 KB are then mapped again, as they are before a process first frees one.
    /// </summary>
    public static IDisposable ReuseFreedBlocks()
    {
        if (!TorchRuntime.ReuseFreedMemory || unavailable || ConfiguredThroughEnvironment())
            return NoScope.Instance;
        lock (Gate)
        {
            if (reusing == 0 && !(TrySet(MmapMaxOption, 0, TrimThresholdOption, int.MaxValue) && TrySet(TopPadOption, KeepingTopPad)))
                return NoScope.Instance;
            reusing++;
        }
        return new Scope();
    }

    private static bool ConfiguredThroughEnvironment() =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal))
        || (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.", StringComparison.Ordinal) ?? false);

    private static bool TrySet(int option, int value, int secondOption = 0, int secondValue = 0)
    {
        try
        {
            return mallopt(option, value) == 1 && (secondOption == 0 || mallopt(secondOption, secondValue) == 1);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;
            return false;
        }
    }

    private sealed class Scope : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0)
                return;
            lock (Gate)
            {
                if (--reusing > 0)
                    return;
                TrySet(MmapMaxOption, DefaultMmapMax, TrimThresholdOption, DefaultTrimThreshold);
                TrySet(TopPadOption, DefaultTopPad);
            }
            // The heaps this thread emptied while they were kept go now, as glibc would have unmapped them.
            ReleaseThisThreadsHeapTop();
            ReleaseFreePages();
        }
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
