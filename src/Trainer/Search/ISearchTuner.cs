namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// Proposes trials and learns from their results, like AutoML's <c>ITuner</c>. The search runs one trial at a time and
/// calls <see cref="Propose"/> and <see cref="Update"/> alternately; a tuner must be deterministic given its seed and the
/// results it was told, because resuming replays recorded results through it.
/// </summary>
public interface ISearchTuner
{
    /// <summary>The next trial to run, or null when the tuner has nothing left to try.</summary>
    TrialRequest? Propose();

    /// <summary>Tells the tuner how the trial it proposed last ended.</summary>
    void Update(TrialResult result);
}
