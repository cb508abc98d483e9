namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>
/// Student's t distribution for non-integer degrees of freedom (Welch's test needs them), through the regularised
/// incomplete beta function: <c>P(|T| &gt; t) = I_x(df/2, 1/2)</c> with <c>x = df / (df + t^2)</c>.
/// </summary>
internal static class StudentT
{
    /// <summary>P(T &lt;= t).</summary>
    public static double Cdf(double t, double degreesOfFreedom)
    {
        CheckDegrees(degreesOfFreedom);
        if (double.IsNaN(t))
            return double.NaN;
        if (double.IsInfinity(t))
            return t > 0 ? 1 : 0;
        double tail = 0.5 * TwoSidedTail(t, degreesOfFreedom);
        return t > 0 ? 1 - tail : tail;
    }

    /// <summary>P(|T| &gt;= |t|): the two-sided p-value of t.</summary>
    public static double TwoSidedTail(double t, double degreesOfFreedom)
    {
        CheckDegrees(degreesOfFreedom);
        if (double.IsNaN(t))
            return double.NaN;
        if (double.IsInfinity(t))
            return 0;
        return RegularizedIncompleteBeta(degreesOfFreedom / 2, 0.5, degreesOfFreedom / (degreesOfFreedom + t * t));
    }

    /// <summary>The t with P(T &lt;= t) = <paramref name="probability"/>, by bisection (the CDF is monotone; 200 halvings reach double precision).</summary>
    public static double Quantile(double probability, double degreesOfFreedom)
    {
        CheckDegrees(degreesOfFreedom);
        if (probability is <= 0 or >= 1 || double.IsNaN(probability))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Expected a probability strictly between 0 and 1.");
        if (probability < 0.5)
            return -Quantile(1 - probability, degreesOfFreedom);
        double low = 0, high = 1;
        while (Cdf(high, degreesOfFreedom) < probability)
            high *= 2;
        for (int i = 0; i < 200 && high - low > 1e-15 * high; i++)
        {
            double middle = 0.5 * (low + high);
            if (Cdf(middle, degreesOfFreedom) < probability)
                low = middle;
            else
                high = middle;
        }
        return 0.5 * (low + high);
    }

    /// <summary>I_x(a, b), the regularised incomplete beta function, by its continued fraction (modified Lentz).</summary>
    public static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (a <= 0 || b <= 0)
            throw new ArgumentOutOfRangeException(nameof(a), $"a = {a}, b = {b}; both must be positive.");
        if (x <= 0)
            return 0;
        if (x >= 1)
            return 1;
        // The fraction converges fast only below the mean of the distribution; use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) above it.
        if (x > (a + 1) / (a + b + 2))
            return 1 - RegularizedIncompleteBeta(b, a, 1 - x);

        double logFront = a * Math.Log(x) + b * Math.Log(1 - x) - LogBeta(a, b);
        const double tiny = 1e-300, epsilon = 1e-16;
        double f = 1, c = 1, d = 0;
        for (int i = 0; i <= 1000; i++)
        {
            double numerator;
            if (i == 0)
                numerator = 1;
            else if (i % 2 == 1)
            {
                int m = (i - 1) / 2;
                numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            }
            else
            {
                int m = i / 2;
                numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            }
            d = 1 + numerator * d;
            d = 1 / (Math.Abs(d) < tiny ? tiny : d);
            c = 1 + numerator / c;
            if (Math.Abs(c) < tiny)
                c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(1 - delta) < epsilon)
                return Math.Exp(logFront) * (f - 1) / a;
        }
        throw new ArithmeticException($"The incomplete beta fraction did not converge for a = {a}, b = {b}, x = {x}.");
    }

    private static double LogBeta(double a, double b) => LogGamma(a) + LogGamma(b) - LogGamma(a + b);

    // Lanczos approximation (g = 7, 9 terms), about 15 significant digits for positive arguments.
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>ln Γ(x) for x &gt; 0.</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5)
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x); // reflection
        x -= 1;
        double sum = Lanczos[0];
        for (int i = 1; i < Lanczos.Length; i++)
            sum += Lanczos[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    private static void CheckDegrees(double degreesOfFreedom)
    {
        if (!(degreesOfFreedom > 0))
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "Degrees of freedom must be positive.");
    }
}
