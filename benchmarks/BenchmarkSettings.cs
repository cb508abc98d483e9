namespace Benchmarks;

/// <summary>
/// How much work each measurement does. CCT-7/3x1 costs about 5 s per training step on 2 cores, so its step counts
/// stay small even in the full run; <c>--quick</c> trims everything to a few minutes.
/// </summary>
internal sealed record BenchmarkSettings
{
    public required bool Quick { get; init; }
    public int BatchSize { get; init; } = 64;
    public int MatmulSize { get; init; } = 1024;
    public int MatmulRepeats { get; init; }
    public int SmallWarmupSteps { get; init; }
    public int SmallSteps { get; init; }
    public int LargeWarmupSteps { get; init; }
    public int LargeSteps { get; init; }
    /// <summary>Steps of each side of the oneDNN comparison: fewer, because without oneDNN CCT-2's step is several times slower.</summary>
    public int OneDnnSmallSteps { get; init; }
    public int OneDnnLargeSteps { get; init; }
    /// <summary>Steps per epoch of the end-to-end Fit; the first epoch is warmup, the others are measured.</summary>
    public int SmallFitStepsPerEpoch { get; init; }
    /// <summary>
    /// CCT-7's Fit epochs are fewer but longer than CCT-2's: the first step of every epoch faults its working set back in
    /// after the epoch-end release of free pages (~2 s of a ~5.5 s step for CCT-7), a price a real epoch of hundreds of
    /// steps does not notice; with 3-step epochs it was ~11% of the measured rate.
    /// </summary>
    public int LargeFitStepsPerEpoch { get; init; }
    public int SmallFitEpochs { get; init; }
    public int LargeFitEpochs { get; init; }
    /// <summary>Turns of (raw steps, Fit) per model; each ratio is taken within a turn, and the median turn reported.</summary>
    public int Rounds { get; init; }
    public int MemoryEpochs { get; init; }
    /// <summary>
    /// Training images of the memory section's Fit. Enough steps per epoch (16 at batch 64) that the managed heap's
    /// first ~20 MB (TorchSharp's tensor wrappers, until the first gen-0 collection) fill within the first epoch or two: with 4-step epochs
    /// that warm-up lasted to epoch 9 and read as growth.
    /// </summary>
    public int MemoryImages { get; init; }
    public int InferenceRows { get; init; }
    public int LatencySamples { get; init; }
    public int PngCount { get; init; }

    public static BenchmarkSettings For(bool quick) => quick
        ? new BenchmarkSettings
        {
            Quick = true, MatmulRepeats = 10, SmallWarmupSteps = 2, SmallSteps = 8, LargeWarmupSteps = 1, LargeSteps = 2, OneDnnSmallSteps = 4, OneDnnLargeSteps = 1,
            SmallFitStepsPerEpoch = 8, LargeFitStepsPerEpoch = 2, SmallFitEpochs = 2, LargeFitEpochs = 2, Rounds = 2, MemoryEpochs = 10, MemoryImages = 1024,
            InferenceRows = 2_000, LatencySamples = 300, PngCount = 1_000,
        }
        : new BenchmarkSettings
        {
            Quick = false, MatmulRepeats = 30, SmallWarmupSteps = 3, SmallSteps = 30, LargeWarmupSteps = 1, LargeSteps = 5, OneDnnSmallSteps = 10, OneDnnLargeSteps = 2,
            SmallFitStepsPerEpoch = 15, LargeFitStepsPerEpoch = 8, SmallFitEpochs = 3, LargeFitEpochs = 2, Rounds = 3, MemoryEpochs = 10, MemoryImages = 1024,
            InferenceRows = 10_000, LatencySamples = 1_000, PngCount = 5_000,
        };
}
