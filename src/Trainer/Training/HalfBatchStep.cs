using System.Runtime.ExceptionServices;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Runs the forward and backward passes of a CPU training step as two half-batches at once, one on the calling thread and
/// one on a worker, each with half of the intra-op threads (one each on 2 cores); both backward passes add into the same
/// gradients.
/// </summary>
/// <remarks>
/// Why: with one batch on two intra-op threads, only ~1.7 of 2 cores were busy in a cct_2 step: many of its operations
/// are too small for libtorch to split, some kernels are serial (dropout's Bernoulli masks), and every parallel one ends
/// in a join. Two independent halves keep both cores busy: the step was 1.25x faster side by side (docs/PERFORMANCE.md).
/// Reproducible: each half draws dropout and drop path from a generator of its own (<see cref="StepRandomness"/>),
/// seeded per epoch, and a parameter's gradient is the sum of exactly two parts, whose order does not change a float sum.
/// Each half's loss is its mean scaled by its share of the batch, so the gradients are those of the whole batch's mean.
/// The calling thread keeps its half of the intra-op threads while this object lives; <see cref="AllThreads"/> lends it
/// the whole count again for work outside the step (evaluation).
/// </remarks>
internal sealed class HalfBatchStep : IDisposable
{
    /// <summary>
    /// Largest activation a piece of a half-batch may make: under the 64 MB of a per-thread glibc heap (see
    /// <see cref="Backward"/>). Settable for the side-by-side measurement in benchmarks/.
    /// </summary>
    public static long PieceBytes { get; set; } = 60L << 20;

    private readonly int threads;
    private readonly Thread worker;
    private readonly SemaphoreSlim started = new(0);
    private readonly SemaphoreSlim finished = new(0);
    private readonly Generator[] generators = new Generator[2];
    private Action<int>? half;
    private Exception? workerFailure;
    private bool stopping;
    private bool disposed;

    private HalfBatchStep(int threads)
    {
        this.threads = threads;
        for (int part = 0; part < 2; part++)
            generators[part] = new Generator(0, CPU);
        set_num_threads((threads + 1) / 2);
        worker = new Thread(Work) { IsBackground = true, Name = "cct half-batch step" };
        worker.Start();
    }

    /// <summary>
    /// A half-batch step for training on <paramref name="device"/>, or null where it does not apply: not the CPU, fewer
    /// than two intra-op threads, mixed images (a mixed image's partner is in the other half), autocast, or switched off
    /// (<see cref="TorchRuntime.HalfBatchesOnCpu"/>).
    /// </summary>
    public static HalfBatchStep? For(Device device, bool mixesImages, bool autocast) =>
        device.type == DeviceType.CPU && TorchRuntime.HalfBatchesOnCpu && !mixesImages && !autocast && get_num_threads() >= 2
            ? new HalfBatchStep(get_num_threads())
            : null;

    /// <summary>Reseeds the halves' generators from <paramref name="seed"/> (at the start of every epoch).</summary>
    public void Seed(long seed)
    {
        for (int part = 0; part < 2; part++)
            generators[part].manual_seed(unchecked(seed * 2 + part + 1) & long.MaxValue);
    }

    /// <summary>
    /// Half <paramref name="part"/> (0 or 1) of a batch: views of its images and labels, and its share of the batch, by
    /// which its mean loss is weighted so that the halves' gradients add up to the batch's. The first half takes the odd
    /// image; null for the second half of a batch of one.
    /// </summary>
    public static (Tensor Images, Tensor Labels, double Share)? Half(int part, Tensor images, Tensor labels)
    {
        long batch = images.shape[0];
        long start = part == 0 ? 0 : (batch + 1) / 2;
        long count = part == 0 ? (batch + 1) / 2 : batch / 2;
        return count == 0 ? null : (images.narrow(0, start, count), labels.narrow(0, start, count), (double)count / batch);
    }

    /// <summary>
    /// Images of one half-batch that run through the network at once, for <paramref name="architecture"/>: all of a half
    /// unless its largest activation would then pass <see cref="PieceBytes"/>.
    /// </summary>
    public static int ImagesPerPiece(CctArchitecture architecture) =>
        (int)Math.Clamp(PieceBytes / (sizeof(float) * architecture.LargestActivationElements), 1, int.MaxValue);

    /// <summary>
    /// Forward and loss of half <paramref name="part"/> of a batch, in pieces of at most <paramref name="imagesPerPiece"/>
    /// images one after another, then one backward pass through the sum of the pieces' mean losses, each weighted by its
    /// share of the whole batch. <paramref name="meanLoss"/>(images, labels) runs the network on a piece and returns its
    /// mean loss (and may record statistics). Nothing for the empty second half of a batch of one.
    /// </summary>
    /// <remarks>
    /// Pieces, because glibc serves a thread other than the process's first from heaps of at most 64 MB: a larger
    /// block (cct_7's first convolution's output for 64 images is 64 MiB, as are its attention weights where the
    /// heads run together; the CPU's dropout path runs them one head at a time) is mapped and unmapped on every
    /// malloc and free, about a million page faults per cct_7 step on the worker thread, whatever mallopt says. One
    /// backward through the sum rather than one per piece: autograd adds the pieces' gradients in a fixed order
    /// before a single addition into the shared gradients, so two halves still give the same bits in either order.
    /// </remarks>
    public static void Backward(int part, Tensor images, Tensor labels, int imagesPerPiece, Func<Tensor, Tensor, Tensor> meanLoss)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(imagesPerPiece, 1);
        using var scope = NewDisposeScope();
        if (Half(part, images, labels) is not var (halfImages, halfLabels, _))
            return;
        long count = halfImages.shape[0], batch = images.shape[0];
        long pieces = (count + imagesPerPiece - 1) / imagesPerPiece;
        Tensor? total = null;
        for (long piece = 0, start = 0; piece < pieces; piece++)
        {
            // As even as the count allows: the first pieces take the extra images.
            long size = count / pieces + (piece < count % pieces ? 1 : 0);
            var weighted = meanLoss(halfImages.narrow(0, start, size), halfLabels.narrow(0, start, size)).mul((double)size / batch);
            total = total is null ? weighted : total.add(weighted);
            start += size;
        }
        total!.backward();
    }

    /// <summary>Runs <paramref name="body"/>(0) here and <paramref name="body"/>(1) on the worker at the same time; returns when both are done.</summary>
    public void Run(Action<int> body)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        half = body;
        workerFailure = null;
        started.Release();
        Exception? failure = null;
        try
        {
            using (StepRandomness.Use(generators[0]))
                body(0);
        }
        catch (Exception e)
        {
            failure = e;
        }
        finished.Wait();
        half = null;
        if ((failure ?? workerFailure) is { } thrown)
            ExceptionDispatchInfo.Throw(thrown);
    }

    /// <summary>Gives the calling thread its previous intra-op thread count until the returned scope is disposed.</summary>
    public IDisposable AllThreads()
    {
        set_num_threads(threads);
        return new HalfTheThreadsAgain(threads);
    }

    private void Work()
    {
        set_num_threads(threads / 2);
        while (true)
        {
            started.Wait();
            if (stopping)
                return;
            try
            {
                using (StepRandomness.Use(generators[1]))
                    half!(1);
            }
            catch (Exception e)
            {
                workerFailure = e;
            }
            finally
            {
                finished.Release();
            }
        }
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        stopping = true;
        started.Release();
        worker.Join();
        set_num_threads(threads);
        foreach (var generator in generators)
            generator.Dispose();
        started.Dispose();
        finished.Dispose();
    }

    private sealed class HalfTheThreadsAgain(int threads) : IDisposable
    {
        public void Dispose() => set_num_threads((threads + 1) / 2);
    }
}
