namespace Benchmarks;

/// <summary>Summaries of repeated timings.</summary>
internal static class Timings
{
    /// <summary>
    /// The median: robust to the time slices another process on the machine steals now and then, and used for every
    /// rate that goes into a ratio, so that both sides of a ratio are summarised the same way.
    /// </summary>
    public static double Median(IReadOnlyList<double> values) => Percentile(values, 0.5);

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0..1).</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
            throw new ArgumentException("No timings.", nameof(values));
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
