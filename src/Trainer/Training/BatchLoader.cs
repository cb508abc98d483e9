using System.Runtime.InteropServices;
using Microsoft.ML.CompactTransformer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Turns index lists into (normalised images, labels) tensors on the training device. Pixels are copied
/// straight into one reused CPU tensor (no per-batch managed buffer), augmented there in raw pixel values
/// image by image, moved to the device and normalised there. The CPU path of training, and the CUDA path for the
/// augmentations only the CPU does (policies, erasing, mixing); <see cref="DeviceBatchStream"/> is the other.
/// </summary>
/// <remarks>
/// Off the CPU, each batch goes through page-locked memory with a non-blocking copy, so the transfer neither waits
/// for the device nor makes it wait for the host (libtorch keeps the page-locked block until the copy is done).
/// </remarks>
internal sealed class BatchLoader : IBatchSource
{
    private readonly ImageDataset data;
    private readonly IReadOnlyList<ImageAugmentation> augmentations;
    private readonly MixupCutMix? mixing;
    private readonly float[] ownWeights;
    private readonly Tensor pixels;
    private readonly Tensor labels;
    private readonly Tensor multipliers;
    private readonly Tensor offsets;
    private readonly bool pinned;
    private int[]? order;
    private Random? passRandom;
    private int position;

    /// <param name="data">Images to read.</param>
    /// <param name="capacity">Largest batch that will be asked for (the batch size of <see cref="Next"/>).</param>
    /// <param name="normalization">Applied to every batch.</param>
    /// <param name="device">Where the returned tensors live.</param>
    /// <param name="augmentations">Per-image transforms, applied when <see cref="Load"/> gets a random source.</param>
    /// <param name="mixing">Mixup / CutMix after the per-image transforms, applied when <see cref="Load"/> gets a random source.</param>
    public BatchLoader(ImageDataset data, int capacity, PixelNormalization normalization, Device device,
        IReadOnlyList<ImageAugmentation>? augmentations = null, MixupCutMix? mixing = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.data = data;
        Device = device;
        this.augmentations = augmentations ?? [];
        this.mixing = mixing;
        ownWeights = new float[mixing is null ? 0 : capacity];
        Capacity = capacity;
        pinned = device.type == DeviceType.CUDA;
        // Long-lived: kept out of whatever dispose scope the caller is in.
        using var scope = NewDisposeScope();
        pixels = empty([capacity, data.Channels, data.Height, data.Width], ScalarType.Float32, CPU).DetachFromDisposeScope();
        labels = empty([capacity], ScalarType.Int64, CPU).DetachFromDisposeScope();
        var (m, o) = normalization.ToTensors(data.Channels, device);
        multipliers = m.DetachFromDisposeScope();
        offsets = o.DetachFromDisposeScope();
    }

    /// <summary>Largest batch this loader holds.</summary>
    public int Capacity { get; }

    /// <inheritdoc />
    public int BatchSize => Capacity;

    /// <inheritdoc />
    public Device Device { get; }

    /// <inheritdoc />
    public void Begin(int[] order, Random? random)
    {
        ArgumentNullException.ThrowIfNull(order);
        this.order = order;
        passRandom = random;
        position = 0;
    }

    /// <inheritdoc />
    public (Tensor Images, Tensor Labels, Tensor? OwnWeights) Next()
    {
        if (order is null || position >= order.Length)
            throw new InvalidOperationException("No batch left: call Begin for a new pass.");
        int n = Math.Min(Capacity, order.Length - position);
        var batch = Load(order.AsSpan(position, n), passRandom);
        position += n;
        return batch;
    }

    /// <summary>
    /// Loads the images at <paramref name="indices"/>: returns (B, C, H, W) normalised float32 images, (B)
    /// int64 labels and, when the images were mixed, the (B) float32 weight of each image's own label (its partner
    /// is the image at the mirrored position), on the device, owned by the caller's dispose scope. The tensors may
    /// share memory with this loader: use them before the next call.
    /// </summary>
    /// <param name="indices">Image indices, at most <see cref="Capacity"/>.</param>
    /// <param name="random">Source of augmentation decisions; null applies no augmentation and no mixing.</param>
    public (Tensor Images, Tensor Labels, Tensor? OwnWeights) Load(ReadOnlySpan<int> indices, Random? random)
    {
        int n = indices.Length;
        if (n < 1 || n > Capacity)
            throw new ArgumentOutOfRangeException(nameof(indices), n, $"A batch holds 1..{Capacity} images.");
        int size = data.ImageSize;
        Span<float> pixelSpan = MemoryMarshal.Cast<byte, float>(pixels.bytes)[..(n * size)];
        Span<long> labelSpan = MemoryMarshal.Cast<byte, long>(labels.bytes)[..n];
        data.CopyBatch(indices, pixelSpan, labelSpan);
        if (random is not null && augmentations.Count > 0)
        {
            // Image by image, augmentation by augmentation: a fixed order of random draws.
            for (int b = 0; b < n; b++)
                foreach (var augmentation in augmentations)
                    augmentation.Apply(pixelSpan.Slice(b * size, size), data.Channels, data.Height, data.Width, random);
        }
        Tensor? weights = null;
        if (random is not null && mixing is not null)
        {
            mixing.Apply(pixelSpan, n, data.Channels, data.Height, data.Width, ownWeights, random);
            weights = ToDevice(tensor(ownWeights.AsSpan(0, n).ToArray(), ScalarType.Float32, CPU));
        }
        var raw = ToDevice(pixels.narrow(0, 0, n));
        var images = PixelNormalization.Apply(raw, multipliers, offsets);
        return (images, ToDevice(labels.narrow(0, 0, n)), weights);
    }

    // The reused CPU buffers are overwritten by the next batch, so what leaves them is always a copy: a page-locked one
    // for a non-blocking transfer to CUDA, or the device copy itself.
    private Tensor ToDevice(Tensor cpu) => pinned ? cpu.pin_memory().to(Device, non_blocking: true) : cpu.to(Device);

    public void Dispose()
    {
        pixels.Dispose();
        labels.Dispose();
        multipliers.Dispose();
        offsets.Dispose();
    }
}
