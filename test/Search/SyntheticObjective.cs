using Microsoft.ML.CompactTransformer.Search;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Search;

/// <summary>
/// A cheap stand-in for training on <see cref="CompactTransformerSearchSpace"/>: a true quality per point, and an observed
/// metric after e epochs of quality - slowness/e + noise, where bigger models learn more slowly (so early rankings mislead a little).
/// </summary>
internal sealed class SyntheticObjective(int seed, double noise = 0.05) : ITrialRunner
{
    private static readonly Dictionary<AttentionVariant, double> AttentionBonus = new()
    {
        [AttentionVariant.Standard] = 0, [AttentionVariant.SoftmaxValues] = 0.2, [AttentionVariant.Remix] = 0.1,
        [AttentionVariant.Additive] = 0.3, [AttentionVariant.Subtractive] = -0.2, [AttentionVariant.Custom] = 0,
    };

    private static readonly Dictionary<string, (double Bonus, double Slowness)> Sizes = new()
    {
        ["cct_2_3x2_32"] = (0, 1), ["cct_4_3x2_32"] = (0.1, 1.5), ["cct_6_3x2_32"] = (0.15, 2), ["cct_7_3x2_32"] = (0.2, 2.5),
    };

    private readonly Random random = new(seed);

    public int Runs { get; private set; }

    public static double Quality(IReadOnlyDictionary<string, object> p)
    {
        double lr = Math.Log10((double)p["LearningRate"]) - Math.Log10(2e-3);
        double wd = Math.Log10((double)p["WeightDecay"]) + 2;
        double alpha = (double)p["Alpha"] - 0.7;
        return -lr * lr - 0.5 * wd * wd - 0.5 * alpha * alpha + AttentionBonus[(AttentionVariant)p["Attention"]] + Sizes[(string)p["Architecture"]].Bonus;
    }

    public TrialSettings Prepare(int trialId, TrialRequest request, TrialResult? parent) => new(trialId, request, null);

    public TrialOutcome Run(TrialSettings settings, TrialResult? parent, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Runs++;
        var p = settings.Request.Parameters;
        double slowness = Sizes[(string)p["Architecture"]].Slowness;
        double observed = Quality(p) - slowness / settings.Request.Epochs + noise * Gaussian();
        var history = new TrainingHistory([new EpochMetrics { Epoch = settings.Request.Epochs, ValidationTop1 = observed }]);
        return new TrialOutcome(observed, history);
    }

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
