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

    /// <summary>Until the returned scope is disposed, random layers called on this thread draw from <paramref name="generator"/>.</summary>
    public static IDisposable Use(Generator generator)
    {
        var previous = current;
        current = generator;
        return new Restore(previous);
    }

    /// <summary>
    /// Inverted dropout of <paramref name="x"/> with drop probability <paramref name="p"/> when <paramref name="training"/>:
    /// libtorch's own dropout on the global generator, or the same computation (Bernoulli keep mask, scaled by
    /// 1/(1-p)) on this thread's generator.
    /// </summary>
    public static Tensor Dropout(Tensor x, double p, bool training)
    {
        if (current is null || !training || p == 0)
            return nn.functional.dropout(x, p, training);
        using var scope = NewDisposeScope();
        double keep = 1 - p;
        var mask = empty_like(x).bernoulli_(keep, generator: current).div_(keep);
        return x.mul(mask).MoveToOuterDisposeScope();
    }

    /// <summary>Uniform [0, 1) draws of the given shape from this thread's generator (the global one by default).</summary>
    public static Tensor Uniform(long[] shape, ScalarType dtype, Device device) =>
        rand(shape, dtype: dtype, device: device, generator: current);

    private sealed class Restore(Generator? previous) : IDisposable
    {
        public void Dispose() => current = previous;
    }
}
