using System.Runtime.InteropServices;
using Microsoft.ML.CompactTransformer.Native;
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
    public void While_freed_blocks_are_reused_a_large_block_is_written_without_page_faults_and_the_defaults_return_after()
    {
        // 40 MB: above the largest mmap threshold glibc adopts by itself (32 MB), so by default every such block is a
        // fresh mapping whose pages fault in; below the 64 MB heap of a per-thread arena (test threads have one).
        const int size = 40 << 20;
        long FaultsWritingAFreshBlock()
        {
            // A block of the size written and freed before, with a small block kept alive so that the free does not
            // leave the heap empty (glibc unmaps a per-thread heap that becomes empty, whatever the settings).
            IntPtr pin = Marshal.AllocHGlobal(32);
            IntPtr freed = Marshal.AllocHGlobal(size);
            FaultsWriting(freed, size);
            Marshal.FreeHGlobal(freed);
            IntPtr block = Marshal.AllocHGlobal(size);
            try
            {
                return FaultsWriting(block, size);
            }
            finally
            {
                Marshal.FreeHGlobal(block);
                Marshal.FreeHGlobal(pin);
            }
        }

        Assert.True(TorchRuntime.ReuseFreedMemory);
        long pages = size / Environment.SystemPageSize;
        long outside = FaultsWritingAFreshBlock();
        long inside;
        using (MallocArenas.ReuseFreedBlocks())
            inside = FaultsWritingAFreshBlock();
        long after = FaultsWritingAFreshBlock();
        log.WriteLine($"page faults writing {pages} pages: {outside} by default, {inside} while reusing, {after} after");
        Assert.True(outside > pages / 2, $"the premise: a fresh {size >> 20} MB block faults in its pages ({outside} faults)");
        Assert.True(inside < pages / 20, $"{inside} page faults writing a reused block");
        Assert.True(after > pages / 2, $"the defaults were not restored: {after} faults");
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
            long asFreed = FaultsWritingBlocks(count);
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
