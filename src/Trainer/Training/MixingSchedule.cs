namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Ready-made <see cref="IMixingSchedule"/>s. Build ramps from <see cref="AlphaSchedule"/>s, e.g.
/// <c>MixingSchedule.Remix(AlphaSchedule.Linear(0, 1, epochs: 10, delayEpochs: 2))</c> (beta follows 1 - alpha) or
/// <c>MixingSchedule.Of(AlphaSchedule.Cosine(0, 0.5, epochs: 20), beta: 1)</c> (beta on its own).
/// </summary>
public static class MixingSchedule
{
    /// <summary>The same alpha and beta at every step.</summary>
    public static IMixingSchedule Constant(double alpha, double beta) => new ConstantSchedule(alpha, beta);

    /// <summary>Wraps a function of (0-based epoch, 0-based step).</summary>
    public static IMixingSchedule From(Func<int, long, (double Alpha, double Beta)> schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return new FunctionSchedule(schedule);
    }

    /// <summary>The RFP's remix: alpha as scheduled, beta = 1 - alpha at every step.</summary>
    public static IMixingSchedule Remix(AlphaSchedule alpha)
    {
        ArgumentNullException.ThrowIfNull(alpha);
        return new PairSchedule(alpha, alpha.OneMinus(), $"remix({alpha})");
    }

    /// <summary>Alpha and beta each on their own schedule (either may be a plain number).</summary>
    public static IMixingSchedule Of(AlphaSchedule alpha, AlphaSchedule beta)
    {
        ArgumentNullException.ThrowIfNull(alpha);
        ArgumentNullException.ThrowIfNull(beta);
        return new PairSchedule(alpha, beta, $"alpha {alpha}, beta {beta}");
    }

    private sealed record ConstantSchedule(double Alpha, double Beta) : IMixingSchedule
    {
        public (double Alpha, double Beta) At(int epoch, long step) => (Alpha, Beta);
    }

    private sealed class FunctionSchedule(Func<int, long, (double Alpha, double Beta)> schedule) : IMixingSchedule
    {
        public (double Alpha, double Beta) At(int epoch, long step) => schedule(epoch, step);
    }

    private sealed class PairSchedule(AlphaSchedule alpha, AlphaSchedule beta, string text) : IMixingSchedule
    {
        public (double Alpha, double Beta) At(int epoch, long step) => (alpha.At(epoch, step), beta.At(epoch, step));
        public override string ToString() => text;
    }
}
