using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Where the network's random layers (dropout, drop path) draw from. By default libtorch's global generator, as the
/// original does. When a training step runs in parts on several threads at once (Training/HalfBatchStep), each thread
/// draws from a generator of its own instead: the global one, shared, would hand out its numbers in whatever order the
/// threads happen to ask, and two runs of the same seed would differ.
/// </summary>
internal static class StepRandomness
{
    [ThreadStatic]
    private static Generator? current;

    /// <summary>
    /// Whether dropout on a thread's own generator draws its CPU float32 masks with <see cref="DropoutMask"/> (default
    /// true); false draws libtorch's uniform floats. Settable for the side-by-side measurement in benchmarks/.
    /// </summary>
    public static bool VectorisedMasks { get; set; } = true;

    /// <summary>Until the returned scope is disposed, random layers called on this thread draw from <paramref name="generator"/>.</summary>
    public static IDisposable Use(Generator generator)
    {
        var previous = current;
        current = generator;
        return new Restore(previous);
    }

    /// <summary>
    /// Inverted dropout of <paramref name="x"/> with drop probability <paramref name="p"/> when <paramref name="training"/>:
    /// libtorch's own dropout on the global generator, or on this thread's generator a mask of its own: keep with
    /// probability 1 - p, survivors scaled by 1/(1-p).
    /// </summary>
    /// <remarks>
    /// On the CPU in float32 the mask is drawn by <see cref="DropoutMask"/> from a seed taken from this thread's
    /// generator (keep where a 32-bit draw is at least p * 2^32): libtorch's uniform fill is serial, one Mersenne-Twister
    /// number per element, and its draws, comparison and scaling took 5-10x the time of the mask made in one vectorised
    /// pass. Elsewhere it is a uniform float32 draw compared with p (not <c>bernoulli_</c>, which draws serially with a
    /// 64-bit number per element on AMD CPUs).
    /// </remarks>
    public static Tensor Dropout(Tensor x, double p, bool training)
    {
        if (current is null || !training || p == 0)
            return nn.functional.dropout(x, p, training);
        using var scope = NewDisposeScope();
        var mask = empty(x.shape, dtype: x.dtype, device: x.device);
        if (VectorisedMasks && DropoutMask.CanFill(mask))
            DropoutMask.Fill(mask, NextSeed(), p);
        else
            mask.uniform_(0, 1, current).ge_(p).div_(1 - p);
        return x.mul(mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Whether dropout on this thread draws <see cref="DropoutMask"/> masks from seeds of a generator of its own (a
    /// half-batch step with <see cref="VectorisedMasks"/>): then <see cref="NextMaskSeed"/> gives the seed that the next
    /// <see cref="Dropout"/> call would take, for a function that draws its masks itself (FusedDroppedAttention).
    /// </summary>
    public static bool DrawsMaskSeeds => current is not null && VectorisedMasks;

    /// <summary>The seed of the next vectorised mask: one 63-bit draw from this thread's generator.</summary>
    public static ulong NextMaskSeed()
    {
        if (current is null)
            throw new InvalidOperationException("Mask seeds come from a thread's own generator; this thread has none (see StepRandomness.Use).");
        return NextSeed();
    }

    // One 63-bit draw from this thread's generator: the mask of the next dropout call is a function of it.
    private static ulong NextSeed()
    {
        using var draw = randint(0, long.MaxValue, [1], dtype: ScalarType.Int64, generator: current);
        return (ulong)draw.item<long>();
    }

    /// <summary>Uniform [0, 1) draws of the given shape from this thread's generator (the global one by default).</summary>
    public static Tensor Uniform(long[] shape, ScalarType dtype, Device device) =>
        rand(shape, dtype: dtype, device: device, generator: current);

    private sealed class Restore(Generator? previous) : IDisposable
    {
        public void Dispose() => current = previous;
    }
}
