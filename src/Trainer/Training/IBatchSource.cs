using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Where the training loop and the predictor take their batches from: one pass over a given order of images,
/// batch after batch, as (normalised images, labels, own-label weights when mixed) on the training device.
/// </summary>
internal interface IBatchSource : IDisposable
{
    /// <summary>Images per batch; the last batch of a pass may hold fewer.</summary>
    int BatchSize { get; }

    /// <summary>The device the batches land on.</summary>
    Device Device { get; }

    /// <summary>
    /// Starts a pass over <paramref name="order"/> (image indices; read, not copied, until the pass ends).
    /// <paramref name="random"/> makes the augmentation and mixing decisions, possibly on a worker thread, until the
    /// pass ends: draw nothing else from it meanwhile. Null applies no augmentation and no mixing.
    /// </summary>
    void Begin(int[] order, Random? random);

    /// <summary>
    /// The next batch of the pass, owned by the caller's dispose scope: (B, C, H, W) normalised float32 images, (B)
    /// int64 labels and, when images were mixed, the (B) float32 weight of each image's own label. Valid until the next call.
    /// </summary>
    /// <exception cref="InvalidOperationException">The pass is over, or none was begun.</exception>
    (Tensor Images, Tensor Labels, Tensor? OwnWeights) Next();
}
