namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>What a <see cref="CompactTransformerExperiment"/> found: the best model and every trial.</summary>
public sealed class CompactTransformerSearchResult
{
    internal CompactTransformerSearchResult(CompactTransformerModel bestModel, TrialResult bestTrial, IReadOnlyList<TrialResult> trials,
        SearchStopReason stopReason, int totalEpochs, TimeSpan elapsed)
    {
        BestModel = bestModel;
        BestTrial = bestTrial;
        Trials = trials;
        StopReason = stopReason;
        TotalEpochs = totalEpochs;
        Elapsed = elapsed;
    }

    /// <summary>The best trial's model: an ordinary <see cref="CompactTransformerModel"/> (save it with <c>mlContext.Model.Save</c>). The caller disposes it.</summary>
    public CompactTransformerModel BestModel { get; }

    /// <summary>The trial with the best metric (on a tie, the one trained longer).</summary>
    public TrialResult BestTrial { get; }

    /// <summary>Every recorded trial, in the order they ran (those read back from the checkpoint included).</summary>
    public IReadOnlyList<TrialResult> Trials { get; }

    /// <summary>Why the search stopped.</summary>
    public SearchStopReason StopReason { get; }

    /// <summary>Epochs trained over all trials, the budget successive halving and random search are compared by.</summary>
    public int TotalEpochs { get; }

    /// <summary>Wall-clock time of this run (not of earlier runs it resumed).</summary>
    public TimeSpan Elapsed { get; }
}
