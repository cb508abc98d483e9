using System.Diagnostics;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>The CPU's fp32 matrix-multiply rate through libtorch: the ceiling a training step is compared with.</summary>
internal static class MatmulBenchmark
{
    /// <summary>GFLOP/s of an n x n by n x n torch.mm (median and best of the repeats, after two warmup calls).</summary>
    public static (double Median, double Best) GflopsPerSecond(int n, int repeats)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var a = randn(n, n);
        var b = randn(n, n);
        // TorchSharp 0.107's mm has no out parameter: each result is freed at once (a 4 MB allocation is noise next to 2 GFLOP).
        for (int i = 0; i < 2; i++)
            mm(a, b).Dispose();
        var seconds = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            mm(a, b).Dispose();
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        double flops = 2.0 * n * n * n;
        return (flops / Timings.Median(seconds) / 1e9, flops / seconds.Min() / 1e9);
    }
}
