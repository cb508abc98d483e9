using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Options of the Compact Transformer trainer (<c>mlContext.MulticlassClassification.Trainers.CompactTransformer</c>).
/// Training hyperparameters come from a named recipe (<see cref="Recipe"/>, see <see cref="TrainingRecipes"/>); every
/// nullable field that is set overrides it. Without a recipe the <c>default</c> one applies: the original's legacy
/// CIFAR recipe (AdamW, lr 5e-4, weight decay 3e-2, 5 warmup epochs then cosine, label smoothing 0.1, random crop with
/// padding 4 and horizontal flip) with 50 epochs of batch 64, since CPU is the everyday target.
/// </summary>
/// <remarks>
/// <para>Input and output columns:</para>
/// <list type="table">
/// <listheader><term>Column</term><description>Type</description></listheader>
/// <item><term><see cref="LabelColumnName"/></term><description>Key type (use <c>MapValueToKey</c>).</description></item>
/// <item><term><see cref="FeatureColumnName"/></term><description>
/// <c>Vector&lt;Single&gt;</c> (or <c>Vector&lt;Byte&gt;</c>) of C*H*W pixels in planar order as <c>ExtractPixels</c> writes them;
/// an image column (<c>LoadImages</c>, any size: resized to the model's size); or encoded image bytes (<c>LoadRawImageBytes</c>).
/// </description></item>
/// <item><term><c>Score</c> (output)</term><description><c>Vector&lt;Single&gt;</c> of class probabilities, with the class names as slot names.</description></item>
/// <item><term><c>PredictedLabel</c> (output)</term><description>Key type with the training label's key values.</description></item>
/// </list>
/// </remarks>
public sealed class CompactTransformerOptions
{
    /// <summary>The key-typed label column.</summary>
    public string LabelColumnName = DefaultColumns.Label;

    /// <summary>The image column: pixels, images or encoded image bytes.</summary>
    public string FeatureColumnName = DefaultColumns.Features;

    /// <summary>Name of the class-probability output column.</summary>
    public string ScoreColumnName = DefaultColumns.Score;

    /// <summary>Name of the predicted-label output column.</summary>
    public string PredictedLabelColumnName = DefaultColumns.PredictedLabel;

    /// <summary>
    /// A preset name of the original (see <see cref="CctPresets.Names"/>), e.g. <c>cct_2_3x2_32</c> or <c>cct_7_3x1_32</c>.
    /// It fixes the encoder and tokenizer; image size, channels and classes come from the data (or the options below).
    /// </summary>
    public string Architecture = "cct_2_3x2_32";

    /// <summary>A free-form architecture; when set it replaces <see cref="Architecture"/> (image size, channels and classes still follow the data).</summary>
    public CctArchitecture? CustomArchitecture;

    /// <summary>
    /// Image height; 0 infers it from a pixel vector's length or uses the architecture's for image columns. Images of an image
    /// column are resized to it whatever their own size, so mixed sizes are fine there.
    /// </summary>
    public int ImageHeight;

    /// <summary>Image width; 0 like <see cref="ImageHeight"/>.</summary>
    public int ImageWidth;

    /// <summary>Channels (1 grayscale, 3 RGB); 0 infers them from a pixel vector or uses 3 for image columns.</summary>
    public int Channels;

    /// <summary>
    /// The training recipe to start from: a name from <see cref="TrainingRecipes.Names"/> (<c>default</c>,
    /// <c>cifar-legacy</c>, <c>cifar-timm</c>, <c>small-data</c>); null is <c>default</c>. Every nullable field below
    /// that is set overrides the recipe's value; left null, it takes the recipe's.
    /// </summary>
    public string? Recipe;

    /// <summary>Number of passes over the training data; null takes the recipe's (50 in <c>default</c>).</summary>
    public int? Epochs;

    /// <summary>Images per optimisation step; null takes the recipe's (64 in <c>default</c>).</summary>
    public int? BatchSize;

    /// <summary>Peak learning rate of AdamW; null takes the recipe's (5e-4 in <c>default</c>).</summary>
    public double? LearningRate;

    /// <summary>Decoupled weight decay of AdamW (applied to every parameter, as the original does); null takes the recipe's (3e-2 in <c>default</c>).</summary>
    public double? WeightDecay;

    /// <summary>AdamW's first-moment decay; null takes the recipe's (0.9).</summary>
    public double? AdamBeta1;

    /// <summary>AdamW's second-moment decay; null takes the recipe's (0.999).</summary>
    public double? AdamBeta2;

    /// <summary>Epochs of linear warmup before the cosine decay (fractions allowed); null takes the recipe's (5 in <c>default</c>).</summary>
    public double? WarmupEpochs;

    /// <summary>Learning rate of the first warmup step; null takes <see cref="MinLearningRate"/> when that is set, else the recipe's (1e-5).</summary>
    public double? WarmupStartLearningRate;

    /// <summary>Floor of the cosine decay, reached at the last step (and the warmup start unless <see cref="WarmupStartLearningRate"/> is set); null takes the recipe's (1e-5).</summary>
    public double? MinLearningRate;

    /// <summary>Label smoothing of the training loss; null takes the recipe's (0.1).</summary>
    public double? LabelSmoothing;

    /// <summary>Padding of the random crop augmentation, in pixels, 0 for none; null takes the recipe's (4 in every preset).</summary>
    public int? RandomCropPadding;

    /// <summary>Random horizontal flips (turn off for digits and text); null takes the recipe's (on in every preset).</summary>
    public bool? HorizontalFlip;

    /// <summary>AutoAugment (CIFAR-10 policy) or RandAugment per image, on 8-bit pixels only; null takes the recipe's (None in <c>default</c>).</summary>
    public AugmentationPolicy? AugmentationPolicy;

    /// <summary>RandAugment operations per image; null takes the recipe's (2).</summary>
    public int? RandAugmentOperations;

    /// <summary>RandAugment magnitude on 0..10; null takes the recipe's (9).</summary>
    public double? RandAugmentMagnitude;

    /// <summary>Standard deviation of the RandAugment magnitude; null takes the recipe's (0.5).</summary>
    public double? RandAugmentMagnitudeStd;

    /// <summary>Chance of erasing a random rectangle of each image with noise (timm's random erasing); null takes the recipe's (0.25 in <c>cifar-timm</c>, 0 in <c>default</c>).</summary>
    public double? RandomErasingProbability;

    /// <summary>Mixup's Beta(alpha, alpha), 0 for none; null takes the recipe's (0.8 in <c>cifar-timm</c>, 0 in <c>default</c>).</summary>
    public double? MixupAlpha;

    /// <summary>CutMix's Beta(alpha, alpha), 0 for none; null takes the recipe's (1.0 in <c>cifar-timm</c>, 0 in <c>default</c>).</summary>
    public double? CutMixAlpha;

    /// <summary>Chance that an image is mixed when mixup or CutMix is on; null takes the recipe's.</summary>
    public double? MixProbability;

    /// <summary>Chance of CutMix rather than mixup when both are on; null takes the recipe's (0.5).</summary>
    public double? MixSwitchProbability;

    /// <summary>Clips the global gradient norm to this value; null takes the recipe's (no clipping in the presets).</summary>
    public double? GradientClipNorm;

    /// <summary>Dropout of the network; null takes the recipe's, or the architecture's when the recipe sets none.</summary>
    public double? Dropout;

    /// <summary>Attention dropout of the network; null takes the recipe's, or the architecture's.</summary>
    public double? AttentionDropout;

    /// <summary>Largest stochastic-depth (drop-path) rate; null takes the recipe's, or the architecture's.</summary>
    public double? StochasticDepth;

    /// <summary>
    /// Where training runs: Auto takes CUDA when a CUDA libtorch and a GPU are present and falls back to the CPU
    /// otherwise; Cuda insists (Fit throws, before reading any data, when CUDA is not available); Cpu never uses a GPU.
    /// </summary>
    public TrainingDevice Device = TrainingDevice.Auto;

    /// <summary>
    /// Number format of the forward pass: None (float32, the default) or BFloat16 (autocast with float32 master weights,
    /// about twice the matrix throughput on recent GPUs; meant for CUDA).
    /// </summary>
    public MixedPrecision MixedPrecision = MixedPrecision.None;

    /// <summary>
    /// Keeps parameters, gradients and AdamW's moments in one flat buffer so that an optimizer step is a few kernels
    /// (the same AdamW up to rounding, the same checkpoints); null (default) turns it on, false keeps TorchSharp's
    /// per-parameter AdamW.
    /// </summary>
    public bool? FlatOptimizer;

    /// <summary>
    /// With validation data, the metric that picks the epoch whose weights the model keeps (also when Fit is cancelled
    /// or stops early); None keeps the last epoch's. Top-1 by default, the "best" of the original's tables.
    /// </summary>
    public EarlyStoppingMetric EarlyStoppingMetric = EarlyStoppingMetric.ValidationTop1;

    /// <summary>Stops after this many epochs without improvement of <see cref="EarlyStoppingMetric"/>; 0 never stops early.</summary>
    public int EarlyStoppingPatience;

    /// <summary>Smallest change of <see cref="EarlyStoppingMetric"/> that counts as an improvement.</summary>
    public double EarlyStoppingMinDelta;

    /// <summary>Writes a training checkpoint every this many epochs (and after the last) into <see cref="CheckpointFolder"/>; 0 writes none.</summary>
    public int CheckpointEvery;

    /// <summary>Folder of the checkpoints: one <c>epoch-NNNN</c> folder each (weights, optimizer state, history, settings).</summary>
    public string? CheckpointFolder;

    /// <summary>
    /// A checkpoint folder (or a folder of them: the latest is taken) to continue an interrupted run from; the options must
    /// match that run's. The result equals an uninterrupted run's with the same seed and thread count.
    /// </summary>
    public string? ResumeFrom;

    /// <summary>Seed of weights, order and augmentation: the same seed and thread count give the same model.</summary>
    public int Seed;

    /// <summary>libtorch threads while training; 0 keeps libtorch's default.</summary>
    public int NumberOfThreads;

    /// <summary>Which form of the value transform <c>V' = beta * V + alpha * softmax_over_tokens(V)</c> to train with.</summary>
    public AttentionVariant Attention = AttentionVariant.Standard;

    /// <summary>Alpha for <see cref="AttentionVariant.Remix"/>, <see cref="AttentionVariant.Additive"/>, <see cref="AttentionVariant.Subtractive"/> and <see cref="AttentionVariant.Custom"/>.</summary>
    public double? Alpha;

    /// <summary>Beta for <see cref="AttentionVariant.Custom"/>.</summary>
    public double? Beta;

    /// <summary>
    /// Where the value transform applies. The default, pooling, is what Bukatin's experiment changed;
    /// <see cref="AttentionScope.SelfAttention"/> is the RFP's formula.
    /// </summary>
    public AttentionScope AttentionScope = AttentionScope.Pooling;

    /// <summary>A schedule of (alpha, beta) per epoch and step; when set it overrides the constant weights above.</summary>
    public IMixingSchedule? MixingSchedule;

    /// <summary>Factor on the learning rate of the classifier head (<c>classifier.fc</c>); see <see cref="BodyLearningRateMultiplier"/>.</summary>
    public double HeadLearningRateMultiplier = 1;

    /// <summary>
    /// Factor on the learning rate of everything but the head. Fine-tuning a pretrained model (see
    /// <see cref="InitialWeightsPath"/>) often trains the body at a fraction (e.g. 0.1) of the head's rate; 0 freezes it.
    /// </summary>
    public double BodyLearningRateMultiplier = 1;

    /// <summary>Factor applied to input pixels before the mean and std (1/255 for 0-255 pixels, 1 for pixels already in 0-1).</summary>
    public float PixelScale = 1f / 255;

    /// <summary>Per-channel mean subtracted after <see cref="PixelScale"/>; null computes it from the training data.</summary>
    public float[]? Mean;

    /// <summary>Per-channel standard deviation divided by after the mean; null computes it from the training data.</summary>
    public float[]? Std;

    /// <summary>
    /// Weights to start from: a PyTorch state_dict of the original (.pt/.pth) or a model zip saved from this trainer
    /// (a positional embedding of another grid is interpolated and a classifier head of another class count replaced),
    /// or a training checkpoint folder of a run with the same architecture (its latest epoch).
    /// </summary>
    public string? InitialWeightsPath;

    /// <summary>Called after every epoch with its metrics, on the training thread.</summary>
    public Action<EpochMetrics>? MetricsCallback;

    /// <summary>Told about every epoch's metrics, like <see cref="MetricsCallback"/>.</summary>
    public IProgress<EpochMetrics>? Progress;

    /// <summary>Called on the training thread every <see cref="StepCallbackEvery"/> steps and at the end of each epoch (for per-batch progress bars).</summary>
    public Action<StepProgress>? StepCallback;

    /// <summary>Steps between two <see cref="StepCallback"/> calls.</summary>
    public int StepCallbackEvery = 10;
}
