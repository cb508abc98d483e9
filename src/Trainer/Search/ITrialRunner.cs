namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// Runs one trial of a search: the trainer, or, in tests and benchmarks of the tuners, any objective whose quality
/// depends on the parameters and the epochs.
/// </summary>
internal interface ITrialRunner
{
    /// <summary>Fixes what the trial will run with (for the trainer: the estimator's options), before monitors hear of it.</summary>
    TrialSettings Prepare(int trialId, TrialRequest request, TrialResult? parent);

    /// <summary>Runs the trial; throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> stopped it.</summary>
    TrialOutcome Run(TrialSettings settings, TrialResult? parent, CancellationToken cancellationToken);
}
