using Microsoft.ML;
using Microsoft.ML.CompactTransformer;
using Microsoft.ML.CompactTransformer.Data;

namespace Benchmarks;

/// <summary>
/// Memory over a run: the peak resident set of each epoch of a small Fit (with a validation set, so the evaluation path
/// is in it too), and the peaks of two identical Fit calls in one process. A leak per step or per Fit shows as growth
/// after the first epoch / the first call; the first epoch itself is allowed to grow (allocator pools, oneDNN caches).
/// </summary>
internal static class MemoryBenchmark
{
    public sealed record Result(IReadOnlyList<long> EpochPeaks, (long Peak, long After) FirstFit, (long Peak, long After) SecondFit);

    public static Result Run(int epochs, int trainingImages)
    {
        var ml = new MLContext(seed: 1);
        var train = ImageDatasetDataView.ToDataView(ml, SyntheticImages.Create(trainingImages, seed: 3));
        var validation = ImageDatasetDataView.ToDataView(ml, SyntheticImages.Create(128, seed: 4));
        using var sampler = new WorkingSetSampler();
        var epochPeaks = new List<long>();
        CompactTransformerOptions Options(int count, Action<Microsoft.ML.CompactTransformer.Training.EpochMetrics>? onEpoch) => new()
        {
            Architecture = "cct_2_3x2_32",
            Epochs = count,
            BatchSize = 64,
            Seed = 1,
            MetricsCallback = onEpoch,
        };

        sampler.TakePeak();
        using (new CompactTransformerEstimator(Options(epochs, _ => epochPeaks.Add(sampler.TakePeak()))).Fit(train, validation))
        {
        }

        // Peak during the call, and the resident set once the call's garbage is collected.
        (long Peak, long After) Fit()
        {
            Collect();
            sampler.TakePeak();
            using (new CompactTransformerEstimator(Options(3, null)).Fit(train, validation))
            {
            }
            long peak = sampler.TakePeak();
            Collect();
            return (peak, WorkingSetSampler.Current());
        }
        var first = Fit();
        var second = Fit();
        return new Result(epochPeaks, first, second);
    }

    /// <summary>
    /// Growth of <paramref name="peaks"/> from index <paramref name="from"/> to the last, read off their least-squares
    /// line: the line's rise over the span relative to its value at <paramref name="from"/>. A leak is a trend; one
    /// epoch's peak wanders +-4% around the next (which pages a step touches after the epoch-end release depends on where
    /// malloc places its blocks, and the sampler may miss a millisecond's peak), and the difference of two single epochs
    /// reads that wander as growth or shrinkage.
    /// </summary>
    public static double FittedGrowth(IReadOnlyList<long> peaks, int from)
    {
        int n = peaks.Count - from;
        if (n < 2)
            throw new ArgumentException($"At least two peaks from index {from} are needed.", nameof(peaks));
        double meanX = (n - 1) / 2.0, meanY = peaks.Skip(from).Average();
        double sxy = 0, sxx = 0;
        for (int i = 0; i < n; i++)
        {
            sxy += (i - meanX) * (peaks[from + i] - meanY);
            sxx += (i - meanX) * (i - meanX);
        }
        double slope = sxy / sxx, start = meanY - slope * meanX;
        return slope * (n - 1) / start;
    }

    // Managed garbage from the previous run must not count against the next one.
    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
