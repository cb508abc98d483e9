using System.Diagnostics;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Training;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>
/// The raw TorchSharp training step on fixed tensors: forward, label-smoothed cross-entropy, backward and AdamW (the
/// trainer's flat form), with the trainer's default hyperparameters (smoothing 0.1, weight decay 0.03) and the preset's
/// regularisation (attention dropout, stochastic depth). No data loading, augmentation or bookkeeping: the best the
/// trainer's loop could do.
/// </summary>
internal static class TrainStepBenchmark
{
    /// <summary>
    /// Median wall seconds per step and the median matmul rate measured between the steps (0 when not asked for); the
    /// same two in process CPU time (all threads), which another process's load disturbs much less than wall time.
    /// </summary>
    public sealed record Result(double SecondsPerStep, double InterleavedMatmulGflops, double CpuSecondsPerStep, double MatmulGflopsPerCpuSecond);

    /// <summary>Times <paramref name="steps"/> steps after <paramref name="warmup"/> unmeasured ones.</summary>
    /// <param name="architecture">The network.</param>
    /// <param name="batchSize">Images per step.</param>
    /// <param name="warmup">Unmeasured steps first (allocator, oneDNN primitive caches).</param>
    /// <param name="steps">Measured steps.</param>
    /// <param name="matmulSize">
    /// When positive, three n^3 matmuls run after every measured step and the fastest counts (with half-batches, two
    /// at once, one on each of the step's threads). Another process on the
    /// machine changes the available CPU from minute to minute; interleaving puts the ceiling and the step under the
    /// same conditions, so their ratio holds even when both absolute numbers are depressed. (One matmul right after a
    /// CCT-7 step once ran at a fifth of its rate: the first call after a large step pays for the allocator and caches.)
    /// </param>
    public static Result Run(CctArchitecture architecture, int batchSize, int warmup, int steps, int matmulSize = 0)
    {
        manual_seed(1);
        using var network = new CctNetwork(architecture);
        network.train();
        // The optimizer Fit builds with its default settings (the flat AdamW, lr 5e-4, weight decay 0.03).
        using var optimizer = OptimizerGroups.CreateAdamW(network, new TrainingSettings(), flat: true).Optimizer;
        using var images = randn(batchSize, architecture.InputChannels, architecture.ImageHeight, architecture.ImageWidth);
        using var labels = randint(0, architecture.NumClasses, [batchSize], ScalarType.Int64);
        var seconds = new List<double>();
        var cpuSeconds = new List<double>();
        var matmul = new List<double>();
        var matmulPerCpu = new List<double>();
        using var a = matmulSize > 0 ? randn(matmulSize, matmulSize) : null;
        using var b = matmulSize > 0 ? randn(matmulSize, matmulSize) : null;
        // The allocator setting the trainer applies while it trains (TorchRuntime.ReuseFreedMemory).
        using var heap = MallocArenas.ReuseFreedBlocks();
        // And the step split into two half-batches on two threads where the trainer splits it (TorchRuntime.HalfBatchesOnCpu).
        using var halves = HalfBatchStep.For(CPU, mixesImages: false, autocast: false);
        halves?.Seed(1);
        int imagesPerPiece = HalfBatchStep.ImagesPerPiece(architecture);
        for (int i = 0; i < warmup + steps; i++)
        {
            double cpu = CpuClock.Seconds();
            var clock = Stopwatch.StartNew();
            using (NewDisposeScope())
            {
                optimizer.zero_grad();
                if (halves is null)
                    nn.functional.cross_entropy(network.call(images), labels, label_smoothing: 0.1).backward();
                else
                    halves.Run(part => HalfBatchStep.Backward(part, images, labels, imagesPerPiece,
                        (pieceImages, pieceLabels) => nn.functional.cross_entropy(network.call(pieceImages), pieceLabels, label_smoothing: 0.1)));
                optimizer.step();
            }
            if (i < warmup)
                continue;
            seconds.Add(clock.Elapsed.TotalSeconds);
            cpuSeconds.Add(CpuClock.Seconds() - cpu);
            if (a is not null && b is not null)
            {
                // With half-batches the step's own two threads run one matmul each at the same time, with the halves'
                // intra-op threads: the machine's rate either way, without changing the step's thread settings.
                double flops = 2.0 * matmulSize * matmulSize * matmulSize * (halves is null ? 1 : 2);
                double best = 0, bestPerCpu = 0;
                for (int r = 0; r < 3; r++)
                {
                    cpu = CpuClock.Seconds();
                    clock.Restart();
                    if (halves is null)
                        mm(a, b).Dispose();
                    else
                        halves.Run(_ => mm(a, b).Dispose());
                    double wall = clock.Elapsed.TotalSeconds;
                    double used = CpuClock.Seconds() - cpu;
                    best = Math.Max(best, flops / wall / 1e9);
                    bestPerCpu = Math.Max(bestPerCpu, flops / used / 1e9);
                }
                matmul.Add(best);
                matmulPerCpu.Add(bestPerCpu);
            }
        }
        return new Result(Timings.Median(seconds), matmul.Count > 0 ? Timings.Median(matmul) : 0,
            Timings.Median(cpuSeconds), matmulPerCpu.Count > 0 ? Timings.Median(matmulPerCpu) : 0);
    }
}
