using System.Runtime.InteropServices;
using Microsoft.ML.CompactTransformer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Batches for a device (CUDA) in large chunks: a worker thread gathers the next chunk of a pass (raw pixels in their
/// stored type, usually bytes, with labels and the augmentation decisions) into host memory while the device works
/// on the current one; each chunk then travels in one non-blocking copy through page-locked memory, and every batch
/// is cut from it, converted, cropped and flipped (<see cref="BatchCropAndFlip"/>) and normalised on the device.
/// Nothing of a step waits for the host, and the host never waits for the device.
/// </summary>
/// <remarks>
/// Gives the same batches, bit for bit, as <see cref="BatchLoader"/> with the same crop and flip and the same
/// <see cref="Random"/>: the order of the draws is the same and every operation is exact. It does not do the
/// transforms that need the CPU (AutoAugment, RandAugment, random erasing, mixup and CutMix):
/// <see cref="Supports"/> says when it applies.
/// </remarks>
internal sealed class DeviceBatchStream : IBatchSource
{
    /// <summary>Largest chunk of raw pixels gathered and sent at once (per buffer; two are alternated).</summary>
    public const long DefaultChunkBytes = 64L << 20;

    private readonly ImageDataset data;
    private readonly BatchCropAndFlip? augmentation;
    private readonly Tensor multipliers;
    private readonly Tensor offsets;
    private readonly Chunk[] staging;
    private readonly bool pinned;
    private int[]? order;
    private Random? passRandom;
    private int nextChunkStart;
    private int stagingIndex;
    private Task? pending;
    private Tensor? chunkPixels;
    private Tensor? chunkInfo;
    private int chunkLength;
    private int chunkPosition;

    /// <param name="data">Images to read.</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="normalization">Applied to every batch, on the device.</param>
    /// <param name="device">Where the batches live.</param>
    /// <param name="augmentation">Crop and flip, applied when the pass has a random source; null for none.</param>
    /// <param name="chunkBytes">Largest chunk of raw pixels moved at once (rounded down to whole batches, at least one).</param>
    public DeviceBatchStream(ImageDataset data, int batchSize, PixelNormalization normalization, Device device,
        BatchCropAndFlip? augmentation = null, long chunkBytes = DefaultChunkBytes)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        this.data = data;
        this.augmentation = augmentation;
        BatchSize = batchSize;
        Device = device;
        pinned = device.type == DeviceType.CUDA;
        long imageBytes = (long)data.ImageSize * (data.StoresBytes ? 1 : sizeof(float));
        // Whole batches only, so that no batch straddles two chunks; no more than the data set needs.
        long batches = Math.Clamp(chunkBytes / Math.Max(1, imageBytes * batchSize), 1, Math.Max(1, ((long)data.Count + batchSize - 1) / batchSize));
        ChunkImages = (int)(batches * batchSize);
        using var scope = NewDisposeScope();
        staging = [new Chunk(data, ChunkImages), new Chunk(data, ChunkImages)];
        var (m, o) = normalization.ToTensors(data.Channels, device);
        multipliers = m.DetachFromDisposeScope();
        offsets = o.DetachFromDisposeScope();
    }

    /// <summary>True when <see cref="DeviceBatchStream"/> can do the augmentation and mixing asked for: crop and/or flip or none, no mixing.</summary>
    public static bool Supports(IReadOnlyList<ImageAugmentation> augmentations, MixupCutMix? mixing) =>
        mixing is null && (augmentations.Count == 0 || BatchCropAndFlip.From(augmentations) is not null);

    /// <inheritdoc />
    public int BatchSize { get; }

    /// <inheritdoc />
    public Device Device { get; }

    /// <summary>Images per chunk: a whole number of batches.</summary>
    public int ChunkImages { get; }

    /// <summary>Chunks moved to the device so far (for tests and diagnostics).</summary>
    public int ChunksSent { get; private set; }

    /// <inheritdoc />
    public void Begin(int[] order, Random? random)
    {
        ArgumentNullException.ThrowIfNull(order);
        WaitPending();
        ReleaseChunk();
        this.order = order;
        passRandom = random;
        nextChunkStart = 0;
        StartGathering();
    }

    /// <inheritdoc />
    public (Tensor Images, Tensor Labels, Tensor? OwnWeights) Next()
    {
        if (chunkPixels is null || chunkPosition >= chunkLength)
            TakeNextChunk();
        int n = Math.Min(BatchSize, chunkLength - chunkPosition);
        var raw = chunkPixels!.narrow(0, chunkPosition, n).to_type(ScalarType.Float32);
        if (passRandom is not null && augmentation is not null)
            raw = augmentation.Apply(raw, chunkInfo!.narrow(0, 1, BatchCropAndFlip.DecisionRows).narrow(1, chunkPosition, n));
        var labels = chunkInfo![0].narrow(0, chunkPosition, n);
        chunkPosition += n;
        return (PixelNormalization.Apply(raw, multipliers, offsets), labels, null);
    }

    private void TakeNextChunk()
    {
        if (pending is null)
            throw new InvalidOperationException("No batch left: call Begin for a new pass.");
        WaitPending();
        var filled = staging[stagingIndex];
        int length = filled.Length;
        ReleaseChunk();
        using (var scope = NewDisposeScope())
        {
            chunkPixels = Send(filled.Pixels.narrow(0, 0, length)).DetachFromDisposeScope();
            chunkInfo = Send(filled.Info).DetachFromDisposeScope(); // whole (a few bytes per image), so contiguous
        }
        chunkLength = length;
        chunkPosition = 0;
        ChunksSent++;
        // The chunk left the staging buffer (a device copy, or a page-locked copy on its way): gather the next one into
        // the other buffer while the device works on this one.
        stagingIndex ^= 1;
        StartGathering();
    }

    // A copy on the device; off the CPU through page-locked memory, which libtorch keeps until the copy has completed.
    private Tensor Send(Tensor host) =>
        pinned ? host.pin_memory().to(Device, non_blocking: true)
        : Device.type == DeviceType.CPU ? host.clone() // the staging buffer is refilled while the batches are still in use
        : host.to(Device);

    private void StartGathering()
    {
        int start = nextChunkStart;
        if (order is null || start >= order.Length)
        {
            pending = null;
            return;
        }
        int length = Math.Min(ChunkImages, order.Length - start);
        nextChunkStart = start + length;
        var chunk = staging[stagingIndex];
        var passOrder = order;
        var random = passRandom;
        // One gathering at a time, in pass order: the draws from the pass's Random stay in the per-image path's order.
        pending = Task.Run(() => chunk.Fill(data, passOrder.AsSpan(start, length), augmentation, random));
    }

    private void WaitPending()
    {
        var task = pending;
        pending = null;
        task?.GetAwaiter().GetResult();
    }

    private void ReleaseChunk()
    {
        chunkPixels?.Dispose();
        chunkInfo?.Dispose();
        chunkPixels = null;
        chunkInfo = null;
        chunkLength = 0;
        chunkPosition = 0;
    }

    public void Dispose()
    {
        try
        {
            WaitPending();
        }
        finally
        {
            ReleaseChunk();
            foreach (var chunk in staging)
                chunk.Dispose();
            multipliers.Dispose();
            offsets.Dispose();
        }
    }

    /// <summary>A host buffer of one chunk: raw pixels in the data set's type and a (4, N) int64 block of labels and decisions.</summary>
    private sealed class Chunk : IDisposable
    {
        public Chunk(ImageDataset data, int capacity)
        {
            Pixels = empty([capacity, data.Channels, data.Height, data.Width], data.StoresBytes ? ScalarType.Byte : ScalarType.Float32, CPU)
                .DetachFromDisposeScope();
            Info = zeros([1 + BatchCropAndFlip.DecisionRows, capacity], ScalarType.Int64, CPU).DetachFromDisposeScope();
        }

        public Tensor Pixels { get; }

        public Tensor Info { get; }

        public int Length { get; private set; }

        // Runs on a worker thread: touches only this chunk's host memory and the pass's Random.
        public void Fill(ImageDataset data, ReadOnlySpan<int> indices, BatchCropAndFlip? augmentation, Random? random)
        {
            int size = data.ImageSize, capacity = (int)Info.shape[1];
            var info = MemoryMarshal.Cast<byte, long>(Info.bytes);
            var labels = data.Labels;
            if (data.StoresBytes)
            {
                var source = data.BytePixels;
                var target = Pixels.bytes;
                for (int i = 0; i < indices.Length; i++)
                    source.Slice(Checked(indices[i], data.Count) * size, size).CopyTo(target.Slice(i * size, size));
            }
            else
            {
                var source = data.FloatPixels;
                var target = MemoryMarshal.Cast<byte, float>(Pixels.bytes);
                for (int i = 0; i < indices.Length; i++)
                    source.Slice(Checked(indices[i], data.Count) * size, size).CopyTo(target.Slice(i * size, size));
            }
            for (int i = 0; i < indices.Length; i++)
            {
                info[i] = labels[indices[i]];
                if (augmentation is not null && random is not null)
                    (info[capacity + i], info[2 * capacity + i], info[3 * capacity + i]) = augmentation.Draw(random);
            }
            Length = indices.Length;
        }

        private static int Checked(int index, int count) =>
            (uint)index < (uint)count ? index : throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside 0..{count - 1}.");

        public void Dispose()
        {
            Pixels.Dispose();
            Info.Dispose();
        }
    }
}
