using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Runs a network over a whole data set in batches, without gradients and in evaluation mode (no dropout or
/// drop path), restoring the network's mode afterwards. Everything happens on the network's device; off the CPU the
/// images travel in large chunks (<see cref="DeviceBatchStream"/>) and the sums are read once at the end.
/// </summary>
internal static class CctPredictor
{
    /// <summary>Default images per forward pass.</summary>
    public const int DefaultBatchSize = 256;

    /// <summary>Logits, image after image: Count * classes floats (row-major).</summary>
    public static float[] PredictLogits(CctNetwork network, ImageDataset data, PixelNormalization normalization, int batchSize = DefaultBatchSize,
        MixedPrecision precision = MixedPrecision.None) =>
        Predict(network, data, normalization, batchSize, softmax: false, precision);

    /// <summary>Class probabilities (softmax of the logits), image after image: Count * classes floats (row-major).</summary>
    public static float[] PredictProbabilities(CctNetwork network, ImageDataset data, PixelNormalization normalization, int batchSize = DefaultBatchSize,
        MixedPrecision precision = MixedPrecision.None) =>
        Predict(network, data, normalization, batchSize, softmax: true, precision);

    /// <summary>
    /// Mean cross-entropy, top-1 and top-5 accuracy of <paramref name="network"/> on <paramref name="data"/>; null when
    /// <paramref name="cancellationToken"/> stopped the pass between two batches.
    /// </summary>
    public static EvaluationMetrics? Evaluate(CctNetwork network, ImageDataset data, PixelNormalization normalization, int batchSize = DefaultBatchSize,
        MixedPrecision precision = MixedPrecision.None, CancellationToken cancellationToken = default)
    {
        if (data.Count == 0)
            return new EvaluationMetrics(0, double.NaN, double.NaN, double.NaN);
        int k = Math.Min(5, network.Architecture.NumClasses);
        var device = DeviceOf(network);
        // Sums stay on the device and are read once, so a GPU is not synchronised per batch.
        using var lossSum = zeros(1, ScalarType.Float64, device);
        using var top1 = zeros(1, ScalarType.Int64, device);
        using var top5 = zeros(1, ScalarType.Int64, device);
        ForEachBatch(network, data, normalization, batchSize, precision, (logits, labels, _) =>
        {
            lossSum.add_(ClassificationLoss.CrossEntropy(logits, labels, 0, nn.Reduction.Sum).to_type(ScalarType.Float64));
            top1.add_(logits.argmax(1).eq(labels).sum());
            var (_, best) = logits.topk(k, dim: 1);
            top5.add_(best.eq(labels.unsqueeze(1)).sum());
        }, cancellationToken);
        if (cancellationToken.IsCancellationRequested)
            return null;
        double n = data.Count;
        return new EvaluationMetrics(data.Count, DeviceScalars.Read(lossSum) / n, DeviceScalars.Read(top1) / n, DeviceScalars.Read(top5) / n);
    }

    private static float[] Predict(CctNetwork network, ImageDataset data, PixelNormalization normalization, int batchSize, bool softmax,
        MixedPrecision precision)
    {
        int classes = network.Architecture.NumClasses;
        var result = new float[(long)data.Count * classes];
        ForEachBatch(network, data, normalization, batchSize, precision, (logits, _, offset) =>
        {
            var values = softmax ? logits.softmax(1) : logits;
            values.cpu().data<float>().ToArray().CopyTo(result, (long)offset * classes);
        });
        return result;
    }

    /// <summary>Calls <paramref name="onBatch"/>(logits, labels, index of the batch's first image) for consecutive batches, until cancelled.</summary>
    private static void ForEachBatch(CctNetwork network, ImageDataset data, PixelNormalization normalization, int batchSize,
        MixedPrecision precision, Action<Tensor, Tensor, int> onBatch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (data.Count == 0)
            return;
        bool wasTraining = network.training;
        network.eval();
        try
        {
            using var noGrad = no_grad();
            var device = DeviceOf(network);
            var dtype = Autocast.DtypeOf(precision);
            int size = Math.Min(batchSize, data.Count);
            using IBatchSource batches = device.type == DeviceType.CPU
                ? new BatchLoader(data, size, normalization, device)
                : new DeviceBatchStream(data, size, normalization, device);
            batches.Begin(Enumerable.Range(0, data.Count).ToArray(), random: null);
            for (int start = 0; start < data.Count && !cancellationToken.IsCancellationRequested; start += size)
            {
                using var scope = NewDisposeScope();
                var (images, labels, _) = batches.Next();
                Tensor logits;
                using (Autocast.Enter(device, dtype))
                    logits = network.call(images);
                // Losses and probabilities in float32, also after a bfloat16 forward pass.
                onBatch(dtype is null ? logits : logits.to_type(ScalarType.Float32), labels, start);
            }
        }
        finally
        {
            network.train(wasTraining);
        }
    }

    /// <summary>The device of the network's parameters (all of them live on one).</summary>
    internal static Device DeviceOf(CctNetwork network) => network.parameters().First().device;
}
