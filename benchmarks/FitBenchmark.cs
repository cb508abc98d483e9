using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.CompactTransformer;
using Microsoft.ML.CompactTransformer.Data;

namespace Benchmarks;

/// <summary>
/// End-to-end training throughput: <see cref="CompactTransformerEstimator.Fit(IDataView)"/> on an IDataView over synthetic
/// 8-bit images (<see cref="ImageDatasetDataView"/>) with the default recipe (random crop with padding 4 and flip, smoothed
/// cross-entropy, AdamW, warmup-cosine schedule), so every step goes from the cached tensor through augmentation to the
/// optimizer. The rate is the trainer's own per-epoch ImagesPerSecond (the epoch's training loop only: reading the data
/// view, building the network and exporting ONNX are outside it), over the epochs after the first.
/// </summary>
internal static class FitBenchmark
{
    public sealed record Result(double ImagesPerSecond, double FitSeconds, double EpochSeconds);

    public static Result Run(string architecture, int batchSize, int stepsPerEpoch, int epochs)
    {
        var ml = new MLContext(seed: 1);
        var data = SyntheticImages.Create(batchSize * stepsPerEpoch);
        var view = ImageDatasetDataView.ToDataView(ml, data);
        var estimator = new CompactTransformerEstimator(new CompactTransformerOptions
        {
            Architecture = architecture,
            Epochs = epochs,
            BatchSize = batchSize,
            Seed = 1,
        });
        var clock = Stopwatch.StartNew();
        using var model = estimator.Fit(view);
        double fitSeconds = clock.Elapsed.TotalSeconds;
        var measured = model.History.Epochs.Skip(1).ToArray();
        if (measured.Length == 0)
            throw new InvalidOperationException("At least two epochs are needed: the first is warmup.");
        // Images over seconds summed across epochs (not a mean of rates), so a slow epoch weighs what it cost.
        double images = (double)data.Count * measured.Length;
        double seconds = measured.Sum(e => data.Count / e.ImagesPerSecond);
        return new Result(images / seconds, fitSeconds, model.History.Epochs.Sum(e => e.Seconds));
    }
}
