using System.Text.Json.Serialization;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Everything the training loop needs to know besides the network and the data, as plain settings.
/// Defaults follow the original's legacy CIFAR recipe (AdamW lr 5e-4, weight decay 3e-2, batch 128,
/// 200 epochs, 5 warmup epochs, cosine decay, label smoothing 0.1), except that augmentations are off
/// until asked for, because they are data-dependent (flips hurt digits, padding 4 is large for small images).
/// </summary>
public sealed record TrainingSettings
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 200;

    /// <summary>Images per optimisation step; the last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Images per forward pass when evaluating; null uses <see cref="BatchSize"/>.</summary>
    public int? EvaluationBatchSize { get; init; }

    /// <summary>Peak learning rate, reached at the end of the warmup.</summary>
    public double LearningRate { get; init; } = 5e-4;

    /// <summary>
    /// AdamW's decoupled weight decay, applied to every trainable parameter (biases and norms included),
    /// as the original's legacy recipe does through <c>torch.optim.AdamW(model.parameters())</c>.
    /// </summary>
    public double WeightDecay { get; init; } = 3e-2;

    /// <summary>AdamW's first-moment decay.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>AdamW's second-moment decay.</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary>AdamW's denominator epsilon.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Epochs of linear warmup from <see cref="WarmupStartLearningRate"/> to <see cref="LearningRate"/> (fractions allowed).</summary>
    public double WarmupEpochs { get; init; } = 5;

    /// <summary>Learning rate of the first step of the warmup.</summary>
    public double WarmupStartLearningRate { get; init; } = 1e-5;

    /// <summary>Floor of the cosine decay, reached at the last step of training.</summary>
    public double MinLearningRate { get; init; } = 1e-5;

    /// <summary>Label smoothing of the training loss (0 for plain cross-entropy). Validation loss never smooths.</summary>
    public double LabelSmoothing { get; init; } = 0.1;

    /// <summary>Seeds libtorch (dropout, drop path) and the shuffling and augmentation decisions.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// libtorch intra-op threads during training (<c>torch.set_num_threads</c>); 0 leaves the process setting.
    /// Results are bitwise reproducible only for the same seed and thread count.
    /// </summary>
    public int Threads { get; init; }

    /// <summary>Clips the global L2 norm of the gradients to this value before each step; null does not clip.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>
    /// Input normalisation, part of the trained model (the ONNX export folds it in). Null computes it from the
    /// training set: per-channel mean and standard deviation after scaling bytes by 1/255 (floats by 1).
    /// </summary>
    public PixelNormalization? Normalization { get; init; }

    /// <summary>
    /// Random crop back to the input size after zero-padding each side by this many pixels (0: off).
    /// The original's CIFAR recipe uses 4. Padding is black in raw pixel values, applied before normalisation.
    /// </summary>
    public int RandomCropPadding { get; init; }

    /// <summary>Flips each training image left-right with probability 1/2 (the original's CIFAR recipe does; not for digits or text).</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>
    /// AutoAugment or RandAugment, applied to each training image before the crop and flip (the original's
    /// legacy order). Needs 8-bit images (a data set that stores bytes); None turns it off.
    /// </summary>
    public AugmentationPolicy AugmentationPolicy { get; init; }

    /// <summary>RandAugment: operations per image (timm's <c>n</c>, 2 by default).</summary>
    public int RandAugmentOperations { get; init; } = 2;

    /// <summary>RandAugment: mean magnitude on timm's 0..10 scale (the original's timm recipe: 9).</summary>
    public double RandAugmentMagnitude { get; init; } = 9;

    /// <summary>RandAugment: standard deviation of the magnitude drawn per operation (timm's <c>mstd</c>; 0 keeps it fixed).</summary>
    public double RandAugmentMagnitudeStd { get; init; } = 0.5;

    /// <summary>
    /// Chance that an image gets a random rectangle replaced by noise (timm's random erasing, "pixel" mode), after the
    /// policy, crop and flip; 0 turns it off. The original's timm recipe uses 0.25.
    /// </summary>
    public double RandomErasingProbability { get; init; }

    /// <summary>
    /// Mixup: each image is blended with its partner (the image at the mirrored batch position) with a weight drawn
    /// from Beta(alpha, alpha), and so are their label-smoothed targets. 0 turns mixup off.
    /// </summary>
    public double MixupAlpha { get; init; }

    /// <summary>
    /// CutMix: a box of each image is replaced by the same box of its partner, its area drawn from Beta(alpha, alpha),
    /// and the targets are mixed by the area kept. 0 turns CutMix off.
    /// </summary>
    public double CutMixAlpha { get; init; }

    /// <summary>Chance that an image is mixed at all when mixup or CutMix is on (timm's <c>mixup_prob</c>).</summary>
    public double MixProbability { get; init; } = 1;

    /// <summary>With both mixup and CutMix on, the chance that a mixed image uses CutMix rather than mixup (timm's <c>switch_prob</c>).</summary>
    public double MixSwitchProbability { get; init; } = 0.5;

    /// <summary>
    /// Where training runs; Auto takes CUDA when TorchSharp sees it and falls back to the CPU otherwise; Cuda without CUDA
    /// is an error. The network is moved there.
    /// </summary>
    public TrainingDevice Device { get; init; }

    /// <summary>
    /// Number format of the forward pass (training and validation): None (float32) or BFloat16 autocast with float32
    /// master weights, for CUDA. Not part of what a checkpoint must match, like the device.
    /// </summary>
    public MixedPrecision MixedPrecision { get; init; }

    /// <summary>
    /// Keeps the trainable parameters, their gradients and AdamW's moments in one flat buffer, so that zeroing the
    /// gradients and the optimizer step are a few kernels instead of a few per parameter (the same AdamW, the same
    /// checkpoint format). Null turns it on: on CUDA each kernel launch costs, and on the CPU the per-parameter step runs
    /// about ten small kernels per parameter on one thread while the other cores wait.
    /// </summary>
    public bool? FlatOptimizer { get; init; }

    /// <summary>
    /// The validation metric that picks the best epoch; None keeps the last weights. With a metric and validation data
    /// the network ends with the best epoch's weights, also when training is cancelled or stops early.
    /// </summary>
    public EarlyStoppingMetric EarlyStoppingMetric { get; init; }

    /// <summary>Stops after this many epochs in a row without improvement of <see cref="EarlyStoppingMetric"/>; 0 never stops early.</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>Smallest change of <see cref="EarlyStoppingMetric"/> that counts as an improvement.</summary>
    public double EarlyStoppingMinDelta { get; init; }

    /// <summary>Writes a checkpoint every this many epochs (and after the last); 0 writes none.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Folder that receives one <c>epoch-NNNN</c> checkpoint folder per checkpoint; required when <see cref="CheckpointEvery"/> is set.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>
    /// A checkpoint folder (or a folder of them, whose latest is taken) to continue from. The run goes on from the
    /// epoch after the checkpoint's and ends with the same weights as an uninterrupted run with the same settings,
    /// seed and thread count.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Constant alpha of the value mixing during training; null keeps the network's own. Ignored when <see cref="MixingSchedule"/> is set.</summary>
    public double? Alpha { get; init; }

    /// <summary>Constant beta of the value mixing during training; null keeps the network's own. Ignored when <see cref="MixingSchedule"/> is set.</summary>
    public double? Beta { get; init; }

    /// <summary>
    /// Alpha and beta per step, written into the network's <c>Mixing</c> before every step; null uses
    /// <see cref="Alpha"/> and <see cref="Beta"/> throughout. Code, not data: not serialised.
    /// </summary>
    [JsonIgnore]
    public IMixingSchedule? MixingSchedule { get; init; }

    /// <summary>
    /// Called on the training thread after every <see cref="StepCallbackEvery"/>-th step of an epoch and after its last
    /// step; null for none. Reading the running loss waits for the device, so keep the interval coarse on a GPU.
    /// Code, not data: not serialised, and a checkpoint does not compare it.
    /// </summary>
    [JsonIgnore]
    public Action<StepProgress>? StepCallback { get; init; }

    /// <summary>Steps between two <see cref="StepCallback"/> calls (at least 1).</summary>
    [JsonIgnore]
    public int StepCallbackEvery { get; init; } = 10;

    /// <summary>
    /// Factor on the scheduled learning rate for the classifier head (<c>classifier.fc</c>); 1 by default. With a
    /// <see cref="BodyLearningRateMultiplier"/> that differs, the optimizer gets two parameter groups.
    /// </summary>
    public double HeadLearningRateMultiplier { get; init; } = 1;

    /// <summary>
    /// Factor on the scheduled learning rate for everything but the head; 1 by default. Below 1 it fine-tunes a
    /// pretrained body more gently than the head (0 freezes it: AdamW with rate 0 leaves a weight unchanged).
    /// </summary>
    public double BodyLearningRateMultiplier { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot train.</summary>
    public void Validate()
    {
        Require(Epochs >= 1, nameof(Epochs), Epochs, "at least 1");
        Require(BatchSize >= 1, nameof(BatchSize), BatchSize, "at least 1");
        Require(EvaluationBatchSize is null or >= 1, nameof(EvaluationBatchSize), EvaluationBatchSize!, "null or at least 1");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "positive");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "0 or more");
        Require(AdamBeta1 is >= 0 and < 1, nameof(AdamBeta1), AdamBeta1, "in [0, 1)");
        Require(AdamBeta2 is >= 0 and < 1, nameof(AdamBeta2), AdamBeta2, "in [0, 1)");
        Require(AdamEpsilon > 0, nameof(AdamEpsilon), AdamEpsilon, "positive");
        Require(WarmupEpochs >= 0 && double.IsFinite(WarmupEpochs), nameof(WarmupEpochs), WarmupEpochs, "0 or more");
        Require(WarmupStartLearningRate >= 0 && double.IsFinite(WarmupStartLearningRate), nameof(WarmupStartLearningRate), WarmupStartLearningRate, "0 or more");
        Require(MinLearningRate >= 0 && MinLearningRate <= LearningRate, nameof(MinLearningRate), MinLearningRate, $"in [0, LearningRate ({LearningRate})]");
        Require(LabelSmoothing is >= 0 and < 1, nameof(LabelSmoothing), LabelSmoothing, "in [0, 1)");
        Require(Threads >= 0, nameof(Threads), Threads, "0 (keep) or more");
        Require(GradientClipNorm is null || GradientClipNorm > 0, nameof(GradientClipNorm), GradientClipNorm!, "null or positive");
        Require(RandomCropPadding >= 0, nameof(RandomCropPadding), RandomCropPadding, "0 or more");
        Require(RandAugmentOperations >= 1, nameof(RandAugmentOperations), RandAugmentOperations, "at least 1");
        Require(RandAugmentMagnitude is >= 0 and <= 10, nameof(RandAugmentMagnitude), RandAugmentMagnitude, "in [0, 10]");
        Require(RandAugmentMagnitudeStd >= 0 && double.IsFinite(RandAugmentMagnitudeStd), nameof(RandAugmentMagnitudeStd), RandAugmentMagnitudeStd, "0 or more");
        Require(RandomErasingProbability is >= 0 and <= 1, nameof(RandomErasingProbability), RandomErasingProbability, "in [0, 1]");
        Require(MixupAlpha >= 0 && double.IsFinite(MixupAlpha), nameof(MixupAlpha), MixupAlpha, "0 (off) or more");
        Require(CutMixAlpha >= 0 && double.IsFinite(CutMixAlpha), nameof(CutMixAlpha), CutMixAlpha, "0 (off) or more");
        Require(MixProbability is >= 0 and <= 1, nameof(MixProbability), MixProbability, "in [0, 1]");
        Require(MixSwitchProbability is >= 0 and <= 1, nameof(MixSwitchProbability), MixSwitchProbability, "in [0, 1]");
        Require(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "0 (never stop) or more");
        Require(EarlyStoppingMinDelta >= 0 && double.IsFinite(EarlyStoppingMinDelta), nameof(EarlyStoppingMinDelta), EarlyStoppingMinDelta, "0 or more");
        Require(Enum.IsDefined(Device), nameof(Device), Device, "Auto, Cpu or Cuda");
        Require(Enum.IsDefined(MixedPrecision), nameof(MixedPrecision), MixedPrecision, "None or BFloat16");
        Require(StepCallbackEvery >= 1, nameof(StepCallbackEvery), StepCallbackEvery, "at least 1");
        Require(CheckpointEvery >= 0, nameof(CheckpointEvery), CheckpointEvery, "0 (none) or more");
        Require(CheckpointEvery == 0 || !string.IsNullOrEmpty(CheckpointFolder), nameof(CheckpointFolder), CheckpointFolder, "a folder when CheckpointEvery is set");
        Require(Alpha is null || double.IsFinite(Alpha.Value), nameof(Alpha), Alpha!, "finite");
        Require(Beta is null || double.IsFinite(Beta.Value), nameof(Beta), Beta!, "finite");
        Require(HeadLearningRateMultiplier >= 0 && double.IsFinite(HeadLearningRateMultiplier), nameof(HeadLearningRateMultiplier), HeadLearningRateMultiplier, "0 or more");
        Require(BodyLearningRateMultiplier >= 0 && double.IsFinite(BodyLearningRateMultiplier), nameof(BodyLearningRateMultiplier), BodyLearningRateMultiplier, "0 or more");
    }

    private static void Require(bool ok, string setting, object? value, string expected)
    {
        if (!ok)
            throw new ArgumentException($"TrainingSettings.{setting} is {value ?? "null"}; expected {expected}.", setting);
    }
}
