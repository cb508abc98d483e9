namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Ready-made <see cref="IMixingSchedule"/>s.</summary>
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

    private sealed record ConstantSchedule(double Alpha, double Beta) : IMixingSchedule
    {
        public (double Alpha, double Beta) At(int epoch, long step) => (Alpha, Beta);
    }

    private sealed class FunctionSchedule(Func<int, long, (double Alpha, double Beta)> schedule) : IMixingSchedule
    {
        public (double Alpha, double Beta) At(int epoch, long step) => schedule(epoch, step);
    }
}
