namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// Asynchronous successive halving (ASHA, Li et al. 2020) with epochs as the budget. Rungs train to
/// <c>minEpochs * eta^k</c> epochs (the last one capped at <c>maxEpochs</c>). Whenever a trial is wanted, the highest rung
/// that has a configuration in the top <c>1/eta</c> of its completed results not yet promoted promotes it one rung up;
/// otherwise a new point is drawn for rung 0. Configurations outside the top <c>1/eta</c> are never trained further:
/// they stop early at the epoch their rung's learning curve reached. This is Hyperband's most aggressive bracket; the
/// trials run one at a time.
/// </summary>
public sealed class SuccessiveHalvingTuner : ISearchTuner
{
    private readonly SearchSpaceDefinition space;
    private readonly Random random;
    private readonly List<TrialResult>[] completed;
    private readonly HashSet<int>[] promoted;
    private int configurations;

    /// <summary>Creates the tuner.</summary>
    /// <param name="space">The space to draw from.</param>
    /// <param name="minEpochs">Epochs of rung 0.</param>
    /// <param name="maxEpochs">Epochs of the top rung.</param>
    /// <param name="reductionFactor">eta: each rung keeps the best 1/eta and trains them eta times longer.</param>
    /// <param name="seed">Seed of the draws.</param>
    /// <param name="promotion">Whether promoted configurations continue from their weights or retrain from scratch.</param>
    public SuccessiveHalvingTuner(SearchSpaceDefinition space, int minEpochs, int maxEpochs, int reductionFactor = 3, int seed = 0,
        PromotionMode promotion = PromotionMode.ContinueTraining)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentOutOfRangeException.ThrowIfLessThan(minEpochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEpochs, minEpochs);
        ArgumentOutOfRangeException.ThrowIfLessThan(reductionFactor, 2);
        this.space = space;
        random = new Random(seed);
        Promotion = promotion;
        ReductionFactor = reductionFactor;
        var rungs = new List<int>();
        for (long epochs = minEpochs; ; epochs *= reductionFactor)
        {
            rungs.Add((int)Math.Min(epochs, maxEpochs));
            if (epochs >= maxEpochs)
                break;
        }
        RungEpochs = rungs;
        completed = rungs.Select(_ => new List<TrialResult>()).ToArray();
        promoted = rungs.Select(_ => new HashSet<int>()).ToArray();
    }

    /// <summary>Epochs of each rung, lowest first.</summary>
    public IReadOnlyList<int> RungEpochs { get; }

    /// <summary>eta.</summary>
    public int ReductionFactor { get; }

    /// <summary>How promoted configurations get their extra epochs.</summary>
    public PromotionMode Promotion { get; }

    /// <inheritdoc />
    public TrialRequest? Propose()
    {
        for (int rung = RungEpochs.Count - 2; rung >= 0; rung--)
        {
            var results = completed[rung];
            int keep = results.Count / ReductionFactor;
            // Best first; ties go to the earlier trial so that replays promote the same configuration.
            var candidate = results.Where(r => !double.IsNegativeInfinity(r.Score))
                .OrderByDescending(r => r.Score).ThenBy(r => r.TrialId)
                .Take(keep)
                .FirstOrDefault(r => !promoted[rung].Contains(r.ConfigurationId));
            if (candidate is null)
                continue;
            promoted[rung].Add(candidate.ConfigurationId);
            bool continuing = Promotion == PromotionMode.ContinueTraining;
            return new TrialRequest
            {
                ConfigurationId = candidate.ConfigurationId,
                Parameters = candidate.Parameters,
                Rung = rung + 1,
                Epochs = RungEpochs[rung + 1],
                ContinueFromTrialId = continuing ? candidate.TrialId : null,
                StartEpochs = continuing ? candidate.Epochs : 0,
            };
        }
        return new TrialRequest
        {
            ConfigurationId = ++configurations,
            Parameters = space.Sample(random),
            Rung = 0,
            Epochs = RungEpochs[0],
        };
    }

    /// <inheritdoc />
    public void Update(TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Rung < 0 || result.Rung >= RungEpochs.Count)
            throw new ArgumentOutOfRangeException(nameof(result), $"Trial {result.TrialId} is at rung {result.Rung}; this tuner has rungs 0 to {RungEpochs.Count - 1}.");
        completed[result.Rung].Add(result);
    }
}
