using System.Runtime.InteropServices;
using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.CompactTransformer.Tests.Training;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// What training asks of glibc's malloc (Native/MallocArenas): freed blocks kept for the next step while training, free
/// pages handed back afterwards. Page faults are counted for this thread alone (RUSAGE_THREAD); the collection runs alone,
/// as these settings are process-wide.
/// </summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class MallocArenasTests(ITestOutputHelper log)
{
    private static readonly byte[] Ones = Enumerable.Repeat((byte)1, 64 * 1024).ToArray();

    [Fact]
    public void While_freed_blocks_are_reused_large_blocks_come_from_the_heap_and_the_defaults_return_after()
    {
        // 40 MB: above the largest mmap threshold glibc adopts by itself (32 MB), so by default such a block is a mapping
        // of its own (counted by mallinfo2's hblks while it lives) unless a free chunk of the heap can hold it. Blocks
        // are allocated, never written (no memory is committed), until one is a mapping, up to ten.
        const int size = 40 << 20, most = 10;
        int AllocatedUntilOneIsMapped()
        {
            var blocks = new List<IntPtr>();
            try
            {
                long before = NativeHeap.MappedBlocks();
                while (blocks.Count < most)
                {
                    blocks.Add(Marshal.AllocHGlobal(size));
                    if (NativeHeap.MappedBlocks() > before)
                        return blocks.Count;
                }
                return int.MaxValue; // none mapped
            }
            finally
            {
                foreach (var block in blocks)
                    Marshal.FreeHGlobal(block);
            }
        }

        Assert.True(TorchRuntime.ReuseFreedMemory);
        int outside = AllocatedUntilOneIsMapped();
        int inside;
        using (MallocArenas.ReuseFreedBlocks())
            inside = AllocatedUntilOneIsMapped();
        int after = AllocatedUntilOneIsMapped();
        string Told(int n) => n == int.MaxValue ? $"none of {most}" : $"number {n}";
        log.WriteLine($"first {size >> 20} MB block mapped on its own: {Told(outside)} by default, {Told(inside)} while reusing, {Told(after)} after");
        Assert.True(outside <= most, $"the premise: {size >> 20} MB blocks become mappings of their own ({Told(outside)})");
        Assert.Equal(int.MaxValue, inside);
        Assert.True(after <= most, $"the defaults were not restored: {Told(after)} of {size >> 20} MB blocks was mapped");
    }

    [Fact]
    public void While_freed_blocks_are_reused_a_block_of_a_freed_size_is_written_again_without_page_faults()
    {
        // What the setting is for, on a thread of its own. A second block is kept alive so that freeing the first does not
        // empty the heap (the next test covers an emptied one).
        const int size = 16 << 20;
        long faults = FewestFaultsOnAThreadOfItsOwn(size, countedFrom: 0, arrange: () =>
        {
            IntPtr first = Marshal.AllocHGlobal(size);
            IntPtr keep = Marshal.AllocHGlobal(size); // the heap stays in use when the first block is freed
            FaultsWriting(first, size);
            Marshal.FreeHGlobal(first);
            return keep;
        });
        long pages = size / Environment.SystemPageSize;
        log.WriteLine($"page faults writing a {size >> 20} MB block of a freed size again (fewest of 3 cycles): {faults} of {pages} pages");
        Assert.InRange(faults, 0, pages / 20);
    }

    [Fact]
    public void While_freed_blocks_are_reused_a_per_thread_heap_that_empties_is_kept()
    {
        // The half-batch worker's case: on a thread other than the process's first, glibc serves blocks from per-thread
        // heaps of at most 64 MB, and by default unmaps a heap as soon as its last block is freed, so the next step faults
        // it in again. Two 40 MB blocks cannot share one heap; freeing the second empties the heap it is in.
        const int size = 40 << 20;
        // The first cycle does not count: it maps the heap the later ones find emptied.
        long faults = FewestFaultsOnAThreadOfItsOwn(size, countedFrom: 1, arrange: () =>
        {
            IntPtr first = Marshal.AllocHGlobal(size);
            FaultsWriting(first, size);
            return first;
        });
        long pages = size / Environment.SystemPageSize;
        log.WriteLine($"page faults writing a {size >> 20} MB block in a heap emptied by the previous free (fewest of the last 2 cycles): {faults} of {pages} pages");
        Assert.InRange(faults, 0, pages / 20);
    }

    [Fact]
    public void An_epoch_is_reported_after_its_release_of_free_pages()
    {
        // Fit trains on this thread, which makes the epoch-end release; a metrics callback that reads the resident set
        // must find that epoch's free pages already handed back.
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(32, seed: 1));
        var options = SyntheticImages.TinyOptions(epochs: 3);
        int before = MallocArenas.ReleasesOnThisThread;
        var seen = new List<int>();
        options.MetricsCallback = m => seen.Add(MallocArenas.ReleasesOnThisThread - before);
        using (new CompactTransformerEstimator(options).Fit(train))
        {
        }
        Assert.Equal([1, 2, 3], seen);
    }

    [Fact]
    public void Releasing_free_pages_hands_fragmented_free_heap_back_to_the_system()
    {
        // 64 KB blocks (under the mmap threshold, so from the heap), every other one kept alive, so that the freed ones
        // cannot merge into the heap's top and be trimmed with it: their pages stay mapped, as freed activations did.
        const int count = 1000, size = 64 * 1024;
        long pages = (long)count * size / Environment.SystemPageSize;
        var kept = new List<IntPtr>();
        long FaultsWritingBlocks(int blocks)
        {
            var allocated = Enumerable.Range(0, blocks).Select(_ => Marshal.AllocHGlobal(size)).ToArray();
            long faults = allocated.Sum(b => FaultsWriting(b, size));
            for (int i = 0; i < allocated.Length; i++)
            {
                if (blocks > count && i % 2 == 1)
                    kept.Add(allocated[i]);
                else
                    Marshal.FreeHGlobal(allocated[i]);
            }
            return faults;
        }
        try
        {
            FaultsWritingBlocks(2 * count);
            // Twice, the fewer faults counting: a freed block may first merge with a neighbour handed back earlier.
            long asFreed = Math.Min(FaultsWritingBlocks(count), FaultsWritingBlocks(count));
            MallocArenas.ReleaseFreePages();
            long released = FaultsWritingBlocks(count);
            log.WriteLine($"page faults writing {pages} pages of freed blocks again: {asFreed} as freed, {released} after the release");
            Assert.True(asFreed < pages / 10, $"the premise: freed heap blocks stay mapped ({asFreed} faults writing them again)");
            Assert.True(released > pages / 2, $"only {released} of {pages} pages were handed back");
        }
        finally
        {
            foreach (var block in kept)
                Marshal.FreeHGlobal(block);
        }
    }

    /// <summary>
    /// On a new thread, while freed blocks are reused: <paramref name="arrange"/> sets the heap up and returns a block it
    /// keeps, then three cycles allocate, write and free a block of <paramref name="size"/> bytes; the fewest page faults
    /// of the cycles from <paramref name="countedFrom"/> on (a freed block may first merge with a neighbour whose pages
    /// were handed back earlier: the steady state is what a training step sees).
    /// </summary>
    private static long FewestFaultsOnAThreadOfItsOwn(int size, int countedFrom, Func<IntPtr> arrange)
    {
        long faults = -1;
        var thread = new Thread(() =>
        {
            using (MallocArenas.ReuseFreedBlocks())
            {
                IntPtr kept = arrange();
                for (int cycle = 0; cycle < 3; cycle++)
                {
                    IntPtr block = Marshal.AllocHGlobal(size);
                    long written = FaultsWriting(block, size);
                    if (cycle >= countedFrom)
                        faults = faults < 0 ? written : Math.Min(faults, written);
                    Marshal.FreeHGlobal(block);
                }
                Marshal.FreeHGlobal(kept);
            }
        });
        thread.Start();
        thread.Join();
        return faults;
    }

    /// <summary>Minor page faults of this thread while it writes every byte of <paramref name="size"/> bytes at <paramref name="block"/>.</summary>
    private static long FaultsWriting(IntPtr block, int size)
    {
        long before = ThreadPageFaults();
        for (int offset = 0; offset < size; offset += Ones.Length)
            Marshal.Copy(Ones, 0, block + offset, Math.Min(Ones.Length, size - offset));
        return ThreadPageFaults() - before;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxResident, SharedText, UnsharedData, UnsharedStack, MinorFaults, MajorFaults;
        public long Swaps, BlocksIn, BlocksOut, MessagesSent, MessagesReceived, Signals, VoluntarySwitches, InvoluntarySwitches;
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetResourceUsage(int who, out ResourceUsage usage);

    private const int ThisThread = 1; // RUSAGE_THREAD

    private static long ThreadPageFaults() =>
        GetResourceUsage(ThisThread, out var usage) == 0 ? usage.MinorFaults : throw new InvalidOperationException("getrusage failed");
}
