using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Options of the Compact Transformer trainer (<c>mlContext.MulticlassClassification.Trainers.CompactTransformer</c>).
/// Defaults follow the original's legacy CIFAR recipe (AdamW, lr 5e-4, weight decay 3e-2, 5 warmup epochs then
/// cosine, label smoothing 0.1, random crop with padding 4 and horizontal flip) with fewer epochs, since CPU is
/// the everyday target.
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

    /// <summary>Image height; 0 infers it from a pixel vector's length or uses the architecture's for image columns.</summary>
    public int ImageHeight;

    /// <summary>Image width; 0 like <see cref="ImageHeight"/>.</summary>
    public int ImageWidth;

    /// <summary>Channels (1 grayscale, 3 RGB); 0 infers them from a pixel vector or uses 3 for image columns.</summary>
    public int Channels;

    /// <summary>Number of passes over the training data.</summary>
    public int Epochs = 50;

    /// <summary>Images per optimisation step.</summary>
    public int BatchSize = 64;

    /// <summary>Peak learning rate of AdamW.</summary>
    public double LearningRate = 5e-4;

    /// <summary>Decoupled weight decay of AdamW (applied to every parameter, as the original does).</summary>
    public double WeightDecay = 3e-2;

    /// <summary>Epochs of linear warmup before the cosine decay (fractions allowed).</summary>
    public double WarmupEpochs = 5;

    /// <summary>Learning rate at the start of warmup and at the end of the cosine decay.</summary>
    public double MinLearningRate = 1e-5;

    /// <summary>Label smoothing of the training loss (0.1 in the original).</summary>
    public double LabelSmoothing = 0.1;

    /// <summary>Padding of the random crop augmentation, in pixels; 0 turns it off.</summary>
    public int RandomCropPadding = 4;

    /// <summary>Random horizontal flips; turn off for digits and text.</summary>
    public bool HorizontalFlip = true;

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
    /// Weights to start from: a PyTorch state_dict of the original (.pt/.pth) or a model zip saved from this trainer.
    /// A positional embedding of another grid is interpolated and a classifier head of another class count replaced.
    /// </summary>
    public string? InitialWeightsPath;

    /// <summary>Called after every epoch with its metrics, on the training thread.</summary>
    public Action<EpochMetrics>? MetricsCallback;

    /// <summary>Told about every epoch's metrics, like <see cref="MetricsCallback"/>.</summary>
    public IProgress<EpochMetrics>? Progress;
}
