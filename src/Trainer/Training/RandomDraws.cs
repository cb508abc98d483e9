namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Continuous distributions drawn from a seeded <see cref="Random"/>, so that augmentation decisions depend on the
/// seed alone (libtorch's generator is not touched).
/// </summary>
internal static class RandomDraws
{
    /// <summary>A standard normal draw (Box-Muller; one of the pair is discarded to keep the draw count fixed).</summary>
    public static double NextGaussian(this Random random)
    {
        double u1 = 1.0 - random.NextDouble(); // (0, 1]: log stays finite
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>A Gamma(shape, 1) draw (Marsaglia and Tsang 2000; shapes below 1 through the boost Gamma(a + 1) * U^(1/a)).</summary>
    public static double NextGamma(this Random random, double shape)
    {
        if (!(shape > 0) || !double.IsFinite(shape))
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "The shape of a Gamma distribution must be positive and finite.");
        if (shape < 1)
            return random.NextGamma(shape + 1) * Math.Pow(1.0 - random.NextDouble(), 1.0 / shape);
        double d = shape - 1.0 / 3, c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = random.NextGaussian();
            double v = 1 + c * x;
            if (v <= 0)
                continue;
            v = v * v * v;
            double u = 1.0 - random.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v)))
                return d * v;
        }
    }

    /// <summary>A Beta(a, b) draw, as X / (X + Y) of two Gamma draws.</summary>
    public static double NextBeta(this Random random, double a, double b)
    {
        double x = random.NextGamma(a), y = random.NextGamma(b);
        return x + y > 0 ? x / (x + y) : 0.5;
    }
}
