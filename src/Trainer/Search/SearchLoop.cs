using System.Diagnostics;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// Drives a tuner and a trial runner under the budgets, one trial at a time. Trials already in the checkpoint are
/// replayed through the tuner instead of being run again, and must match what it proposes; each new trial is written
/// to the checkpoint as soon as it ends.
/// </summary>
internal sealed class SearchLoop
{
    /// <summary>Failures in a row after which the search gives up: then the settings, not luck, are at fault.</summary>
    public const int MaxConsecutiveFailures = 3;

    public required ISearchTuner Tuner { get; init; }
    public required ITrialRunner Runner { get; init; }
    public required SearchSpaceDefinition Space { get; init; }
    public SearchMetric Metric { get; init; } = SearchMetric.MicroAccuracy;
    public int? MaxTrials { get; init; }
    public int? MaxEpochs { get; init; }
    public TimeSpan? TimeLimit { get; init; }
    public SearchCheckpoint? Checkpoint { get; init; }
    public ISearchMonitor? Monitor { get; init; }

    public SearchOutcome Run(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var recorded = (Checkpoint?.Load() ?? []).ToDictionary(r => r.TrialId);
        var trials = new List<TrialResult>();
        TrialResult? best = null;
        CompactTransformerModel? bestModel = null;
        int epochs = 0, failuresInARow = 0;
        SearchStopReason reason;
        while (true)
        {
            if (cancellationToken.IsCancellationRequested) { reason = SearchStopReason.Cancelled; break; }
            if (trials.Count >= MaxTrials) { reason = SearchStopReason.TrialLimit; break; }
            if (clock.Elapsed >= TimeLimit) { reason = SearchStopReason.TimeLimit; break; }
            if (failuresInARow >= MaxConsecutiveFailures) { reason = SearchStopReason.RepeatedFailures; break; }
            var request = Tuner.Propose();
            if (request is null) { reason = SearchStopReason.TunerExhausted; break; }
            if (epochs + request.EpochsToTrain > MaxEpochs) { reason = SearchStopReason.EpochBudget; break; }

            int trialId = trials.Count + 1;
            var parent = request.ContinueFromTrialId is { } parentId
                ? trials.Find(t => t.TrialId == parentId) ?? throw new InvalidOperationException($"The tuner continues trial {parentId}, which has not run.")
                : null;
            TrialResult result;
            CompactTransformerModel? model = null;
            if (recorded.TryGetValue(trialId, out var replayed))
            {
                CheckReplay(replayed, request, parent);
                result = replayed;
            }
            else
            {
                var settings = Runner.Prepare(trialId, request, parent);
                Monitor?.ReportRunningTrial(settings);
                using var trialToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (TimeLimit is { } limit)
                    trialToken.CancelAfter(limit - clock.Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
                var trialClock = Stopwatch.StartNew();
                try
                {
                    var outcome = Runner.Run(settings, parent, trialToken.Token);
                    model = outcome.Model;
                    result = NewResult(trialId, request, parent) with
                    {
                        Metric = outcome.Metric,
                        Score = Metric.Score(outcome.Metric),
                        Seconds = trialClock.Elapsed.TotalSeconds,
                        History = outcome.History,
                        ModelPath = outcome.ModelPath,
                    };
                }
                catch (OperationCanceledException) when (trialToken.IsCancellationRequested)
                {
                    // A stopped trial is not recorded: a resumed search runs it again in full.
                    reason = cancellationToken.IsCancellationRequested ? SearchStopReason.Cancelled : SearchStopReason.TimeLimit;
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Monitor?.ReportFailedTrial(settings, e);
                    result = NewResult(trialId, request, parent) with
                    {
                        Status = TrialStatus.Failed,
                        Seconds = trialClock.Elapsed.TotalSeconds,
                        Error = e.Message,
                    };
                }
                Checkpoint?.Save(result, [.. trials, result]);
            }

            trials.Add(result);
            epochs += result.EpochsTrained;
            failuresInARow = result.Status == TrialStatus.Failed ? failuresInARow + 1 : 0;
            Tuner.Update(result);
            Monitor?.ReportCompletedTrial(result);
            if (result.Status == TrialStatus.Completed && IsBetter(result, best))
            {
                best = result;
                bestModel?.Dispose();
                bestModel = model;
                Monitor?.ReportBestTrial(result);
            }
            else
            {
                model?.Dispose();
            }
        }
        return new SearchOutcome(trials, best, bestModel, reason, epochs, clock.Elapsed);
    }

    // Higher score wins; on a tie the configuration trained longer (it is further along the curve), then the earlier trial.
    private static bool IsBetter(TrialResult candidate, TrialResult? best) =>
        best is null || candidate.Score > best.Score || (candidate.Score == best.Score && candidate.Epochs > best.Epochs);

    private static TrialResult NewResult(int trialId, TrialRequest request, TrialResult? parent) => new()
    {
        TrialId = trialId,
        ConfigurationId = request.ConfigurationId,
        ParentTrialId = parent?.TrialId,
        Rung = request.Rung,
        Parameters = request.Parameters,
        Epochs = request.Epochs,
        EpochsTrained = request.EpochsToTrain,
        Metric = double.NaN,
        Score = double.NegativeInfinity,
    };

    private void CheckReplay(TrialResult recorded, TrialRequest request, TrialResult? parent)
    {
        if (recorded.ConfigurationId != request.ConfigurationId || recorded.Rung != request.Rung || recorded.Epochs != request.Epochs
            || recorded.ParentTrialId != parent?.TrialId || !Space.SamePoint(recorded.Parameters, request.Parameters))
            throw new InvalidOperationException(
                $"Trial {recorded.TrialId} in {Checkpoint!.CsvPath} does not match what this search proposes (configuration " +
                $"{request.ConfigurationId}, rung {request.Rung}, {request.Epochs} epochs): the file was written by a search with another seed, " +
                "space, tuner or budget. Resume with the same settings, or use another checkpoint folder.");
    }
}

/// <summary>What a <see cref="SearchLoop"/> run ended with.</summary>
internal sealed record SearchOutcome(IReadOnlyList<TrialResult> Trials, TrialResult? Best, CompactTransformerModel? BestModel,
    SearchStopReason StopReason, int TotalEpochs, TimeSpan Elapsed);
