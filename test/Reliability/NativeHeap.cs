using System.Runtime.InteropServices;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// Bytes the C heap (glibc malloc, which libtorch and ONNX Runtime allocate from) has handed out and not taken back. Unlike
/// the resident set it does not count what the allocator keeps cached after a free, nor the managed heap, so it shows
/// native memory that was never released.
/// </summary>
internal static class NativeHeap
{
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 GetMallInfo2();

    /// <summary>Blocks malloc currently holds as mappings of their own (mallinfo2's hblks).</summary>
    public static long MappedBlocks() => (long)GetMallInfo2().HBlks;

    /// <summary>Bytes in use in all malloc arenas plus those in mmap-ed blocks.</summary>
    public static long InUseBytes()
    {
        var info = GetMallInfo2();
        return (long)(info.UordBlks + info.HBlkHd);
    }
}
